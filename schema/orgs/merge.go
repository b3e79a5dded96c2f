package orgs

import (
	"path"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// File kinds in an org config tree.
const (
	// OrgFileName holds one org's config; the org is named by its directory.
	OrgFileName = "org.yaml"
	// TeamsFileName holds teams of the org of the nearest directory above
	// with an org.yaml.
	TeamsFileName = "teams.yaml"
)

// Kind says how a file of an org config tree is read.
type Kind int

// The kinds of org config files.
const (
	// KindFull is a peribolos file with a top-level orgs: mapping.
	KindFull Kind = iota
	// KindOrg is an org.yaml: one org's config, named by its directory.
	KindOrg
	// KindTeams is a teams.yaml: teams: of the org above it.
	KindTeams
)

// KindOf tells how a file is read from its name.
func KindOf(p string) Kind {
	switch path.Base(p) {
	case OrgFileName:
		return KindOrg
	case TeamsFileName:
		return KindTeams
	}
	return KindFull
}

// Part is one decoded file.
type Part struct {
	// Path is the file's path, with forward slashes.
	Path string
	Kind Kind
	// Full is set for KindFull, Org for KindOrg, Teams for KindTeams.
	Full  *Config
	Org   *Org
	Teams *TeamsFile
}

// Merge combines files into one config. An org.yaml names its org by its
// directory; a teams.yaml adds its teams to the org whose org.yaml is in the
// nearest directory above it. An org or team defined twice is an error.
func Merge(parts []Part, errs *yamlpos.Errors) *Config {
	out := &Config{Orgs: map[string]Org{}}
	orgDirs := map[string]string{} // directory → org name
	defined := map[string]string{} // org → file
	addOrg := func(name string, o Org, file string) {
		if prev, dup := defined[name]; dup {
			errs.Add(file, o.Pos.Line, o.Pos.Column, "org %q is already defined in %s", name, prev)
			return
		}
		defined[name] = file
		if o.Teams == nil {
			o.Teams = map[string]Team{}
		}
		out.Orgs[name] = o
	}
	for _, p := range parts {
		switch p.Kind {
		case KindFull:
			if p.Full == nil {
				continue
			}
			for _, name := range sortedKeys(p.Full.Orgs) {
				addOrg(name, p.Full.Orgs[name], p.Path)
			}
		case KindOrg:
			if p.Org == nil {
				continue
			}
			dir := path.Dir(p.Path)
			name := path.Base(dir)
			orgDirs[dir] = name
			addOrg(name, *p.Org, p.Path)
		}
	}
	teamFiles := map[string]map[string]string{} // org → team → file
	for name, o := range out.Orgs {
		teamFiles[name] = map[string]string{}
		for _, t := range teamNames(o.Teams) {
			teamFiles[name][t] = defined[name]
		}
	}
	for _, p := range parts {
		if p.Kind != KindTeams || p.Teams == nil {
			continue
		}
		org, ok := orgAbove(p.Path, orgDirs)
		if !ok {
			errs.Add(p.Path, 0, 0, "no %s in a directory above this %s names its org", OrgFileName, TeamsFileName)
			continue
		}
		o := out.Orgs[org]
		for _, tname := range sortedKeys(p.Teams.Teams) {
			t := p.Teams.Teams[tname]
			clash := ""
			for _, n := range teamNames(map[string]Team{tname: t}) {
				if prev, dup := teamFiles[org][n]; dup {
					clash = n + " (also in " + prev + ")"
					break
				}
			}
			if clash != "" {
				errs.Add(p.Path, t.Pos.Line, t.Pos.Column, "team %s is defined twice in org %s", clash, org)
				continue
			}
			for _, n := range teamNames(map[string]Team{tname: t}) {
				teamFiles[org][n] = p.Path
			}
			o.Teams[tname] = t
		}
		out.Orgs[org] = o
	}
	return out
}

func orgAbove(file string, orgDirs map[string]string) (string, bool) {
	for dir := path.Dir(file); ; dir = path.Dir(dir) {
		if name, ok := orgDirs[dir]; ok {
			return name, true
		}
		if dir == "." || dir == "/" || dir == "" {
			return "", false
		}
	}
}

// teamNames lists teams and their descendants by name.
func teamNames(teams map[string]Team) []string {
	var out []string
	for name, t := range teams {
		out = append(out, name)
		out = append(out, teamNames(t.Children)...)
	}
	slices.Sort(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func lower(s string) string { return strings.ToLower(s) }
