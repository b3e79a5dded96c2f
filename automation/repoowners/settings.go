package repoowners

import (
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/configset"
)

// Settings say how the OWNERS of one repository are read, from
// plugins.yaml's owners section and config.yaml's owners_dir_denylist.
type Settings struct {
	Filenames Filenames
	// SkipCollaborators counts approvers and reviewers whether or not they
	// are collaborators of the repository.
	SkipCollaborators bool
	// MDYAML reads the YAML headers of Markdown files.
	MDYAML bool
	// DirDenylist are regular expressions of directories not searched.
	DirDenylist []string
}

// preconfiguredDenylist is searched by no one unless
// owners_dir_denylist.ignore_preconfigured_defaults says otherwise.
var preconfiguredDenylist = []string{`\.git$`, `_output$`, `vendor/.*/.*`}

// SettingsFor reads the settings of org/repo from a loaded configuration
// (nil: Prow's defaults).
func SettingsFor(set *configset.Set, org, repo string) Settings {
	s := Settings{Filenames: DefaultFilenames}
	full := org + "/" + repo
	listed := func(list []string) bool { return slices.Contains(list, org) || slices.Contains(list, full) }
	deny := slices.Clone(preconfiguredDenylist)
	if set == nil {
		s.DirDenylist = deny
		return s
	}
	if p := set.Plugins; p != nil {
		o := p.Owners
		s.SkipCollaborators = listed(o.SkipCollaborators)
		s.MDYAML = listed(o.MDYAMLRepos)
		fn, ok := o.Filenames[full]
		if !ok {
			fn, ok = o.Filenames[org]
		}
		if ok {
			if fn.Owners != "" {
				s.Filenames.Owners = fn.Owners
			}
			if fn.OwnersAliases != "" {
				s.Filenames.OwnersAliases = fn.OwnersAliases
			}
		}
	}
	if c := set.Config; c != nil && c.OwnersDirDenylist != nil {
		d := c.OwnersDirDenylist
		var list []string
		list = append(list, d.Default...)
		list = append(list, d.Repos[org]...)
		list = append(list, d.Repos[full]...)
		if !d.IgnorePreconfiguredDefaults {
			list = append(list, preconfiguredDenylist...)
		}
		deny = list
	}
	s.DirDenylist = deny
	return s
}

// key identifies what the settings change about the files read; the
// collaborator check is applied after the cache.
func (s Settings) key() string {
	var b strings.Builder
	b.WriteString(s.Filenames.Owners)
	b.WriteByte(0)
	b.WriteString(s.Filenames.OwnersAliases)
	b.WriteByte(0)
	if s.MDYAML {
		b.WriteString("md")
	}
	for _, d := range s.DirDenylist {
		b.WriteByte(0)
		b.WriteString(d)
	}
	return b.String()
}
