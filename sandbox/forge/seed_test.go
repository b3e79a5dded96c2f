package forge_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
)

func TestLoadSeedFile(t *testing.T) {
	seed, err := forge.LoadSeed("testdata/seed/forge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := forgetest.StartSeed(t, seed, forge.Options{})
	c := env.Client(t, "alice-token")
	ctx := context.Background()
	_, dir, _, err := c.Repositories.GetContents(ctx, "acme", "widgets", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range dir {
		names = append(names, e.GetName())
	}
	if got := strings.Join(names, ","); got != "OWNERS,README.md,cmd" {
		t.Fatalf("files %s", got)
	}
	l := must[*github.Label](t)(c.Issues.GetLabel(ctx, "acme", "widgets", "lgtm"))
	if l.GetColor() != "15dd18" {
		t.Fatalf("label colour %s", l.GetColor())
	}
	checks := must[*github.RequiredStatusChecks](t)(c.Repositories.GetRequiredStatusChecks(ctx, "acme", "widgets", "main"))
	if len(*checks.Contexts) != 1 {
		t.Fatalf("required checks %v", checks.Contexts)
	}
}

func TestSeedErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", "users: [{login: a, tokn: x}]", "unknown field"},
		{"user without login", "users: [{token: x}]", "no login"},
		{"org and user share a login", "users: [{login: a}]\norgs: [{login: a}]", "a user has that login"},
		{"token reused", "users: [{login: a, token: t}, {login: b, token: t}]", "token already belongs"},
		{"repo name without owner", "repos: [{name: widgets}]", "owner/name"},
		{"bad permission", "repos: [{name: a/b, collaborators: {c: owner}}]", "permission"},
		{"bad label colour", "repos: [{name: a/b, labels: [{name: x, color: red}]}]", "six hex digits"},
		{"bad hook URL", "orgs: [{login: o, hooks: [{url: 'ftp://x'}]}]", "http(s) URL"},
		{"team on a missing repo", "orgs: [{login: o, teams: [{name: t, repos: {nope: read}}]}]", "no repository"},
		{"missing parent team", "orgs: [{login: o, teams: [{name: t, parent: p}]}]", "no parent team"},
		{"app without key", "apps: [{id: 1, slug: s}]", "public key"},
		{"bad default permission", "orgs: [{login: o, defaultRepoPermission: all}]", "defaultRepoPermission"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seed, err := forge.ParseSeed([]byte(tt.yaml))
			if err == nil {
				f, ferr := forge.New(forge.Options{})
				if ferr != nil {
					t.Fatal(ferr)
				}
				defer f.Close()
				err = f.Seed(context.Background(), seed)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
