package prowconfig

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	yaml "go.yaml.in/yaml/v3"
)

// MergeMethods is one value of tide.merge_method. Under an "org/repo" or
// "org/repo@branch" key it is a merge method; under an org key it is a merge
// method for the whole org or, as Prow also takes, a map from repository
// names ("*" for the org's other repositories) to RepoMergeMethods.
type MergeMethods struct {
	// Method is the merge method, when the value is one.
	Method string `json:"-"`
	// Repos are the per-repository settings, when the value is a map.
	Repos map[string]RepoMergeMethods `json:"-"`
}

// RepoMergeMethods is a repository's merge method, or a map from branch
// patterns (regular expressions that may match anywhere in the branch
// name, as in Prow) to merge methods.
type RepoMergeMethods struct {
	Method   string            `json:"-"`
	Branches map[string]string `json:"-"`
	// compiled holds Branches' patterns that compile.
	compiled map[string]*regexp.Regexp
}

// YAMLType describes the value in the field reference.
func (MergeMethods) YAMLType() string {
	return "merge method, or map of repo to (merge method, or map of branch pattern to merge method)"
}

// DecodeYAMLNode takes a merge method or a map of repositories.
func (m *MergeMethods) DecodeYAMLNode(n *yaml.Node, decode func(*yaml.Node, any)) error {
	switch n.Kind {
	case yaml.ScalarNode:
		decode(n, &m.Method)
		return nil
	case yaml.MappingNode:
		decode(n, &m.Repos)
		return nil
	}
	return fmt.Errorf("expected a merge method or a map of repositories to merge methods")
}

// DecodeYAMLNode takes a merge method or a map of branch patterns.
func (r *RepoMergeMethods) DecodeYAMLNode(n *yaml.Node, decode func(*yaml.Node, any)) error {
	switch n.Kind {
	case yaml.ScalarNode:
		decode(n, &r.Method)
		return nil
	case yaml.MappingNode:
		decode(n, &r.Branches)
		r.compile()
		return nil
	}
	return fmt.Errorf("expected a merge method or a map of branch patterns to merge methods")
}

func (r *RepoMergeMethods) compile() {
	r.compiled = make(map[string]*regexp.Regexp, len(r.Branches))
	for pattern := range r.Branches {
		if re, err := regexp.Compile(pattern); err == nil {
			r.compiled[pattern] = re
		}
	}
}

// MarshalJSON writes the value in the form it was written in.
func (m MergeMethods) MarshalJSON() ([]byte, error) {
	if m.Repos != nil {
		return json.Marshal(m.Repos)
	}
	return json.Marshal(m.Method)
}

// UnmarshalJSON reads either form.
func (m *MergeMethods) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &m.Method); err == nil {
		return nil
	}
	return json.Unmarshal(b, &m.Repos)
}

// MarshalJSON writes the value in the form it was written in.
func (r RepoMergeMethods) MarshalJSON() ([]byte, error) {
	if r.Branches != nil {
		return json.Marshal(r.Branches)
	}
	return json.Marshal(r.Method)
}

// UnmarshalJSON reads either form.
func (r *RepoMergeMethods) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &r.Method); err == nil {
		return nil
	}
	if err := json.Unmarshal(b, &r.Branches); err != nil {
		return err
	}
	r.compile()
	return nil
}

// MergeMethodFor is the merge method of a branch, found the way Prow finds
// it, first match winning:
//
//  1. the "org/repo@branch" key;
//  2. under the org's key, the repository's (or else the "*" repository's)
//     branch patterns, in sorted order, the first that matches the branch;
//  3. the "org/repo" key;
//  4. under the org's key, the repository's (or "*"'s) merge method;
//  5. the org's merge method;
//  6. merge.
func (t *Tide) MergeMethodFor(org, repo, branch string) string {
	var rm *RepoMergeMethods
	if o, ok := t.MergeType[org]; ok && repo != "" {
		if r, ok := o.Repos[repo]; ok {
			rm = &r
		} else if r, ok := o.Repos["*"]; ok {
			rm = &r
		}
	}
	if branch != "" && repo != "" {
		if m := t.MergeType[org+"/"+repo+"@"+branch].Method; m != "" {
			return m
		}
	}
	if rm != nil {
		patterns := make([]string, 0, len(rm.Branches))
		for p := range rm.Branches {
			patterns = append(patterns, p)
		}
		slices.Sort(patterns)
		for _, p := range patterns {
			if re := rm.compiled[p]; re != nil && re.MatchString(branch) {
				return rm.Branches[p]
			}
		}
	}
	if repo != "" {
		if m := t.MergeType[org+"/"+repo].Method; m != "" {
			return m
		}
	}
	if rm != nil && rm.Method != "" {
		return rm.Method
	}
	if m := t.MergeType[org].Method; m != "" {
		return m
	}
	return "merge"
}
