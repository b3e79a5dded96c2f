package repoowners

import (
	"context"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the OWNERS, OWNERS_ALIASES and
// Markdown readers, as a pull request may: they must answer with an error,
// never crash, and what they accept must resolve.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"approvers: [a]\nreviewers: [b]\n",
		"options: {no_parent_owners: true}\nfilters:\n  '\\.go$':\n    approvers: [a]\n",
		"aliases:\n  t: [a, b]\n  e:\n  f: {x, y}\n",
		"---\napprovers: [a]\n---\n# doc",
		"approvers: a",
		"filters:\n  '(':\n    labels: [x]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseFile(data)
		_, _ = ParseAliases(data)
		_, _ = parseMarkdown(data)
		o := FromFiles(context.Background(), map[string][]byte{
			"OWNERS": data, "a/OWNERS": data, "OWNERS_ALIASES": data, "a/b.md": data,
		}, Settings{Filenames: DefaultFilenames, MDYAML: true})
		_ = o.Approvers("a/b.md")
		_ = o.LeafApprovers("a/x")
		_ = o.FindLabelsForFile("a/x")
	})
}
