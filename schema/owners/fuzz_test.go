package owners

import (
	"testing"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

func FuzzParseOwners(f *testing.F) {
	f.Add([]byte("approvers: [a]\nreviewers: [b]\noptions: {no_parent_owners: true}\n"))
	f.Add([]byte("filters:\n  '.*':\n    approvers: [a]\n  '(':\n    labels: [x]\n"))
	f.Add([]byte("aliases:\n  team: [a, b]\n  empty: []\n"))
	f.Add([]byte("approvers: &x [a]\nreviewers: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := yamlpos.NewDecoder()
		var errs yamlpos.Errors
		var file File
		dec.Decode("OWNERS", data, &file, &errs)
		if errs.Len() == 0 {
			file.Validate(&errs)
		}
		var aliases Aliases
		dec.Decode("OWNERS_ALIASES", data, &aliases, &errs)
		s := &Set{Files: map[string]*File{".": &file, "a": &file}, Aliases: map[string]*Aliases{".": &aliases}}
		_ = s.ApproversOf("a/b/c")
		_ = s.ReviewersOf("x")
		for _, e := range errs.List {
			if e.Message == "" || e.Line < 0 {
				t.Fatalf("malformed error %+v", e)
			}
		}
	})
}
