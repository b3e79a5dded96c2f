package plan

import (
	"slices"
	"strings"
	"testing"
)

func TestClassifyDrift(t *testing.T) {
	t.Parallel()
	files := map[string]string{"orgs/acme/org.yaml": "admins: [alice, bob]\nmembers: [carol]\n"}
	state := func() *State {
		return &State{Org: "acme", Read: AllParts,
			Members: map[string]string{"alice": "admin", "bob": "member", "mallory": "member"}}
	}
	// bob's role and mallory's membership differ from the configuration,
	// and carol is missing.
	applied := Compute(desired(t, files, Options{}), state())

	tests := []struct {
		name     string
		files    map[string]string
		baseline map[string]string
		drift    []string // keys of changes marked as drift
	}{{
		name:  "nothing applied yet: every change is the configuration's",
		files: files,
	}, {
		name:     "the configuration as applied: every change undoes drift",
		files:    files,
		baseline: applied.Index,
		drift:    []string{"member/bob", "member/carol", "member/mallory"},
	}, {
		name:     "the configuration changed bob and named mallory: only carol's change is drift",
		files:    map[string]string{"orgs/acme/org.yaml": "admins: [alice]\nmembers: [bob, carol, mallory]\n"},
		baseline: applied.Index,
		drift:    []string{"member/carol"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := Compute(desired(t, tt.files, Options{}), state())
			p.ClassifyDrift(tt.baseline)
			var got []string
			for _, c := range p.Drifted() {
				got = append(got, c.Key)
			}
			if !slices.Equal(got, tt.drift) {
				t.Errorf("drift = %v, want %v\n%s", got, tt.drift, p.Format())
			}
		})
	}
}

func TestPlanID(t *testing.T) {
	t.Parallel()
	d := desired(t, map[string]string{"orgs/acme/org.yaml": "admins: [alice]\n"}, Options{})
	a := Compute(d, &State{Org: "acme"})
	b := Compute(d, &State{Org: "acme"})
	if a.ID() != b.ID() || len(a.ID()) != 16 {
		t.Fatalf("IDs %q and %q", a.ID(), b.ID())
	}
	c := Compute(d, &State{Org: "acme", Members: map[string]string{"alice": "member"}})
	if c.ID() == a.ID() {
		t.Fatal("different plans have the same ID")
	}
	out := a.Format()
	for _, want := range []string{"org acme: 1 to create, 0 to update, 0 to delete (plan " + a.ID() + ")", "+ member alice: invite as admin"} {
		if !strings.Contains(out, want) {
			t.Errorf("Format lacks %q:\n%s", want, out)
		}
	}
}

func TestManagedOrgs(t *testing.T) {
	t.Parallel()
	set := load(t, map[string]string{
		"orgs/acme/org.yaml": "admins: [alice]\n",
		"config.yaml":        "branch-protection:\n  protect-tested-repos: true\n  orgs:\n    Protected: {protect: true}\n",
		"labels.yaml":        "default:\n  labels: [{name: lgtm, color: 15dd18}]\nrepos:\n  labelled/repo:\n    labels: [{name: x, color: 15dd18}]\n",
		"jobs/jobs.yaml":     "presubmits:\n  tested/repo:\n  - name: unit\n    always_run: true\n    spec: {containers: [{image: alpine}]}\npostsubmits:\n  built/repo:\n  - name: build\n    spec: {containers: [{image: alpine}]}\n",
	})
	want := []string{"acme", "built", "labelled", "Protected", "tested"}
	if got := ManagedOrgs(set); !slices.Equal(got, want) {
		t.Fatalf("ManagedOrgs = %v, want %v", got, want)
	}
	d := DesiredFor(set, "protected", Options{}, now)
	if m := d.Manage(); !m.BranchProtection || !m.Labels || m.Members {
		t.Fatalf("protected manages %+v", m)
	}
	d = DesiredFor(set, "ACME", Options{Unmanaged: Parts{Labels: true, Teams: true}}, now)
	if m := d.Manage(); !m.Members || m.Labels || m.Teams || m.TeamMembers || m.Settings {
		t.Fatalf("acme manages %+v", m)
	}
}
