package repoowners

import (
	"fmt"
	"regexp"
	"slices"

	"sigs.k8s.io/yaml"

	"github.com/bowline-ci/bowline/schema/owners"
)

// Section is what an OWNERS file (or one of its filters) lists.
type Section struct {
	Approvers         []string `json:"approvers,omitempty"`
	Reviewers         []string `json:"reviewers,omitempty"`
	RequiredReviewers []string `json:"required_reviewers,omitempty"`
	Labels            []string `json:"labels,omitempty"`
	// AdvisoryApprovers may approve, but are not suggested as approvers.
	AdvisoryApprovers []string `json:"advisory_approvers,omitempty"`
}

func (s Section) empty() bool {
	return len(s.Approvers) == 0 && len(s.Reviewers) == 0 && len(s.RequiredReviewers) == 0 &&
		len(s.Labels) == 0 && len(s.AdvisoryApprovers) == 0
}

// fileShape is an OWNERS file in either form.
type fileShape struct {
	Section `json:",inline"`
	Options owners.Options     `json:"options,omitempty"`
	Filters map[string]Section `json:"filters,omitempty"`
}

// File is one parsed OWNERS file as it applies: its sections by filter
// pattern (the simple form is the section "") and its options.
type File struct {
	Options  owners.Options
	Sections map[string]Section
}

// ParseFile reads an OWNERS file the way Prow does at run time: keys it
// does not know are ignored, the simple form wins when it lists anyone,
// and otherwise the filters apply. A file that is not YAML of that shape
// is an error, and the caller skips it (verify-owners reports it on the
// pull request that changes it).
func ParseFile(data []byte) (*File, error) {
	var f fileShape
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	out := &File{Options: f.Options, Sections: map[string]Section{}}
	if !f.Section.empty() {
		out.Sections[""] = f.Section
		return out, nil
	}
	for k, v := range f.Filters {
		out.Sections[k] = v
	}
	return out, nil
}

// frontMatterRE finds the YAML header of a Markdown file.
var frontMatterRE = regexp.MustCompile("^---\n(.|\n)*\n---")

// parseMarkdown reads the YAML header of a Markdown file as a simple OWNERS
// file; a file without a header has none.
func parseMarkdown(data []byte) (*File, error) {
	header := frontMatterRE.Find(data)
	if header == nil {
		return nil, nil
	}
	var f struct {
		Section `json:",inline"`
		Options owners.Options `json:"options,omitempty"`
	}
	if err := yaml.Unmarshal(header, &f); err != nil {
		return nil, err
	}
	return &File{Options: f.Options, Sections: map[string]Section{"": f.Section}}, nil
}

// ParseAliases reads OWNERS_ALIASES as Prow does: each alias is a list of
// logins; a flow-style mapping ({a, b}) lists its keys and an empty entry
// is an empty group. Aliases and logins are normalized. On an error the
// aliases read so far are returned with it.
func ParseAliases(data []byte) (map[string][]string, error) {
	var doc struct {
		Aliases map[string]any `json:"aliases,omitempty"`
	}
	out := map[string][]string{}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return out, err
	}
	names := make([]string, 0, len(doc.Aliases))
	for k := range doc.Aliases {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, alias := range names {
		var members []string
		switch v := doc.Aliases[alias].(type) {
		case []any:
			for _, m := range v {
				s, ok := m.(string)
				if !ok {
					return out, fmt.Errorf("alias %q: a member is a %T, not a login", alias, m)
				}
				members = append(members, s)
			}
		case map[string]any:
			for m := range v {
				members = append(members, m)
			}
		case nil:
		case string:
			return out, fmt.Errorf("alias %q must be a list of logins", alias)
		default:
			return out, fmt.Errorf("alias %q: a %T is not a list of logins", alias, v)
		}
		out[NormLogin(alias)] = normLogins(members)
	}
	return out, nil
}

func normLogins(logins []string) []string {
	out := make([]string, 0, len(logins))
	for _, l := range logins {
		if n := NormLogin(l); n != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// expand normalizes logins and replaces aliases by their members.
func expand(aliases map[string][]string, logins []string) []string {
	var out []string
	for _, l := range normLogins(logins) {
		if members, ok := aliases[l]; ok {
			out = append(out, members...)
			continue
		}
		out = append(out, l)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
