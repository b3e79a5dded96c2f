package orgs

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bowline-ci/bowline/schema/yamlpos"
)

func part(t *testing.T, p, text string) Part {
	t.Helper()
	out := Part{Path: p, Kind: KindOf(p)}
	var errs yamlpos.Errors
	dec := yamlpos.NewDecoder()
	switch out.Kind {
	case KindOrg:
		out.Org = &Org{}
		dec.Decode(p, []byte(text), out.Org, &errs)
	case KindTeams:
		out.Teams = &TeamsFile{}
		dec.Decode(p, []byte(text), out.Teams, &errs)
	default:
		out.Full = &Config{}
		dec.Decode(p, []byte(text), out.Full, &errs)
	}
	if errs.Len() > 0 {
		t.Fatalf("decode %s: %v", p, errs.Error())
	}
	return out
}

func messages(errs *yamlpos.Errors) []string {
	errs.Sort()
	var out []string
	for _, e := range errs.List {
		out = append(out, e.String())
	}
	for _, w := range errs.Warnings {
		out = append(out, "warning "+w.Code+": "+w.String())
	}
	return out
}

func TestMerge(t *testing.T) {
	parts := []Part{
		part(t, "config/kubernetes/org.yaml", "admins: [alice]\nmembers: [bob]\nteams:\n  leads: {members: [alice]}\n"),
		part(t, "config/kubernetes/sig-a/teams.yaml", "teams:\n  sig-a:\n    members: [bob]\n    teams:\n      sig-a-leads: {members: [bob]}\n"),
		part(t, "config/kubernetes/sig-b/deep/teams.yaml", "teams:\n  sig-b: {privacy: closed}\n"),
		part(t, "peribolos.yaml", "orgs:\n  other:\n    members: [carol]\n"),
	}
	var errs yamlpos.Errors
	got := Merge(parts, &errs)
	if errs.Len() > 0 {
		t.Fatal(errs.Error())
	}
	var teams []string
	for name := range got.Orgs["kubernetes"].Teams {
		teams = append(teams, name)
	}
	if diff := cmp.Diff([]string{"leads", "sig-a", "sig-b"}, sorted(teams)); diff != "" {
		t.Errorf("teams (-want +got):\n%s", diff)
	}
	if c := got.Orgs["kubernetes"]; c.Count() != (Counts{Members: 1, Admins: 1, Teams: 4}) {
		t.Errorf("Count() = %+v", c.Count())
	}
	if _, ok := got.Orgs["other"]; !ok {
		t.Error("org from the full peribolos file is missing")
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestMergeErrors(t *testing.T) {
	parts := []Part{
		part(t, "k/org.yaml", "teams:\n  leads: {}\n"),
		part(t, "k/a/teams.yaml", "teams:\n  x:\n    teams:\n      leads: {}\n"),
		part(t, "orphan/teams.yaml", "teams:\n  y: {}\n"),
		part(t, "all.yaml", "orgs:\n  k: {}\n"),
	}
	var errs yamlpos.Errors
	Merge(parts, &errs)
	want := []string{
		`all.yaml:2:6: org "k" is already defined in k/org.yaml`,
		`k/a/teams.yaml:3:5: team leads (also in k/org.yaml) is defined twice in org k`,
		`orphan/teams.yaml: no org.yaml in a directory above this teams.yaml names its org`,
	}
	if diff := cmp.Diff(want, messages(&errs)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestValidate(t *testing.T) {
	const text = `orgs:
  o:
    default_repository_permission: owner
    admins: [Alice]
    members: [alice, bob, bob]
    teams:
      t:
        privacy: public
        maintainers: [carol]
        members: [Carol]
        repos: {r: superuser}
      s:
        privacy: secret
        teams: {child: {}}
    repos:
      r:
        visibility: private
        private: false
        collaborators: {dave: root, erin: none}
`
	p := part(t, "peribolos.yaml", text)
	var errs yamlpos.Errors
	c := Merge([]Part{p}, &errs)
	c.Validate(&errs)
	errs.Resolve(func(string) ([]byte, bool) { return []byte(text), true })
	want := []string{
		`peribolos.yaml:3:36: org o: default_repository_permission must be none, read, write or admin, not "owner"`,
		`peribolos.yaml:5:15: org o: alice is listed in admins and members`,
		`peribolos.yaml:8:18: org o: team t: privacy must be closed or secret, not "public"`,
		`peribolos.yaml:10:19: org o: team t: Carol is listed in maintainers and members`,
		`peribolos.yaml:11:20: org o: team t: repo r: unknown permission "superuser"`,
		`peribolos.yaml:18:18: org o: repo r: private and visibility disagree`,
		`peribolos.yaml:19:31: org o: repo r: collaborator dave: unknown permission "root"`,
		`warning duplicate-value: peribolos.yaml:5:27: org o: bob is listed twice in members`,
		`warning unknown-value: peribolos.yaml:13:18: org o: team s: a secret team cannot have child teams; GitHub will refuse it`,
	}
	if diff := cmp.Diff(want, messages(&errs)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
