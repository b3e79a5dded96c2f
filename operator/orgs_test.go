package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
)

// TestCheckPlansOrgs: bowline check prints the orgs role's plan, against
// an empty org and against a dumped one, in text and JSON.
func TestCheckPlansOrgs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	orgDir := filepath.Dir(write("orgs/acme/org.yaml", "admins: [alice, bot]\nmembers: [bob]\n"))
	labels := write("labels.yaml", "default:\n  labels: [{name: lgtm, color: 15dd18}]\n")
	state, err := json.Marshal(plan.State{Org: "acme", Bot: "bot", Read: plan.Parts{Members: true, Repos: true, Labels: true},
		Members: map[string]string{"alice": "admin", "bot": "admin", "bob": "admin", "mallory": "member"},
		Repos:   []plan.Repo{{Name: "widgets", Labels: []plan.Label{{Name: "LGTM", Color: "15dd18"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	stateFile := write("acme.json", string(state))

	code, out, _ := runCheckArgs(t, "--org-config", filepath.Dir(orgDir), "--labels", labels, "--plan-orgs")
	if code != 0 || !strings.Contains(out, "Plan against an empty org, org acme: 3 to create, 0 to update, 0 to delete") ||
		!strings.Contains(out, "+ member bob: invite as member") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}

	code, out, _ = runCheckArgs(t, "--org-config", filepath.Dir(orgDir), "--labels", labels, "--org-state", stateFile, "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	var report checkReport
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatal(err)
	}
	if len(report.OrgPlans) != 1 {
		t.Fatalf("plans %+v", report.OrgPlans)
	}
	got := report.OrgPlans[0]
	want := []string{
		"~ member bob: role admin → member",
		"- member mallory: remove from the org (member)",
		"~ label lgtm in widgets: rename from LGTM",
	}
	if got.Against != stateFile || got.Org != "acme" || got.ID == "" {
		t.Fatalf("plan %+v", got)
	}
	if d := cmp.Diff(want, got.Changes); d != "" {
		t.Fatalf("changes (-want +got):\n%s", d)
	}
	// One of four members removed is 25%: within the default limit.
	if len(got.Violations) != 0 {
		t.Fatalf("violations %v", got.Violations)
	}
}

func TestOrgsDumpOptions(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--org", "acme", "--org-config", "orgs", "--github-token-path", "token"}, ""},
		{[]string{"--org-config", "orgs", "--github-token-path", "token"}, "--org is required"},
		{[]string{"--org", "acme", "--github-token-path", "token"}, "give the configuration"},
		{[]string{"--org", "acme", "--labels", "labels.yaml"}, "GitHub credentials are required"},
	}
	for _, tt := range tests {
		o := &OrgsDumpOptions{}
		flags := pflag.NewFlagSet("dump", pflag.ContinueOnError)
		o.AddFlags(flags)
		if err := flags.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		err := o.Validate()
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%v: err = %v, want %q", tt.args, err, tt.want)
		}
	}
}

// TestOrgsDumpThenCheck reads an org from the sandbox forge with `bowline
// orgs dump`, and plans against it offline with `bowline check`.
func TestOrgsDumpThenCheck(t *testing.T) {
	env := forgetest.Start(t, `
users: [{login: alice, token: alice-token}]
orgs: [{login: acme, admins: [alice], members: [mallory]}]
repos: [{name: acme/widgets, labels: [{name: LGTM, color: 15dd18}]}]
`)
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	orgs := filepath.Join(dir, "orgs", "acme")
	labels := filepath.Join(dir, "labels.yaml")
	for p, content := range map[string]string{token: "alice-token\n", filepath.Join(orgs, "org.yaml"): "admins: [alice, bob]\n",
		labels: "default:\n  labels: [{name: lgtm, color: 15dd18}]\n"} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	state := filepath.Join(dir, "acme.json")
	cmd := newOrgsCommand()
	cmd.SetArgs([]string{"dump", "--org", "acme", "--org-config", filepath.Dir(orgs), "--labels", labels,
		"--github-endpoint", env.URL, "--github-token-path", token, "-o", state})
	if err := cmd.ExecuteContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCheckArgs(t, "--org-config", filepath.Dir(orgs), "--labels", labels, "--org-state", state)
	for _, want := range []string{"+ member bob: invite as admin", "- member mallory: remove from the org (member)", "~ label lgtm in widgets: rename from LGTM"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q", want)
		}
	}
	// Removing one of two members is over 25%.
	if code != 0 || !strings.Contains(out, "! refused with the default limits: The plan removes 1 of the org's 2 members") {
		t.Errorf("exit %d:\n%s%s", code, out, errOut)
	}
}
