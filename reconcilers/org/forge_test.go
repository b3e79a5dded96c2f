package org

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/orgs"
	ghclient "github.com/bowline-ci/bowline/scm/github"
)

// now is the tests' clock for labels' deleteAfter.
var now = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// kubernetesOrgs is Kubernetes' own peribolos configuration (kubernetes/org),
// loaded once.
var kubernetesOrgs = sync.OnceValues(func() (*configset.Set, error) {
	return configset.LoadDir(context.Background(), "../../test/testdata", configset.Options{OrgConfigPaths: []string{"kubernetes-org"}})
})

// orgFixture is a sandbox forge holding an org that is empty but for the
// admin bowline acts as, with every user the configuration names and the
// repositories its teams name.
type orgFixture struct {
	env *forgetest.Env
	// bot is the admin bowline acts as, and its token.
	bot, token string
	// gh is bowline's GitHub client: ETag cache, retries, rate limits.
	gh *github.Client
}

// newOrgFixture seeds a forge for org as cfg describes it. The bot is the
// configuration's first admin, so that requireSelf holds.
func newOrgFixture(t testing.TB, name string, cfg *orgs.Org, opts forge.Options, extraRepos ...string) *orgFixture {
	t.Helper()
	admins := slices.Clone(cfg.Admins)
	slices.Sort(admins)
	bot := admins[0]
	seed := &forge.Seed{}
	users := map[string]bool{}
	addUser := func(u string) {
		if !users[strings.ToLower(u)] && !strings.EqualFold(u, bot) {
			users[strings.ToLower(u)] = true
			seed.Users = append(seed.Users, forge.SeedUser{Login: u})
		}
	}
	seed.Users = append(seed.Users, forge.SeedUser{Login: bot, Token: "bot-token", Bot: true})
	for _, u := range append(append([]string(nil), cfg.Admins...), cfg.Members...) {
		addUser(u)
	}
	repos := map[string]bool{}
	var walk func(map[string]orgs.Team)
	walk = func(teams map[string]orgs.Team) {
		for _, tm := range teams {
			for _, u := range append(append([]string(nil), tm.Maintainers...), tm.Members...) {
				addUser(u)
			}
			for r := range tm.Repos {
				repos[strings.ToLower(r)] = true
			}
			walk(tm.Children)
		}
	}
	walk(cfg.Teams)
	for r := range cfg.Repos {
		delete(repos, strings.ToLower(r))
		for _, u := range mapKeys(cfg.Repos[r].Collaborators) {
			addUser(u)
		}
	}
	for _, r := range extraRepos {
		repos[strings.ToLower(r)] = true
	}
	seed.Orgs = []forge.SeedOrg{{Login: name, Admins: []string{bot}}}
	for _, r := range mapKeys(repos) {
		seed.Repos = append(seed.Repos, forge.SeedRepo{Name: name + "/" + r, Files: map[string]string{"README.md": "# " + r + "\n"}})
	}
	env := forgetest.StartSeed(t, seed, opts)
	c, err := ghclient.New(ghclient.Options{BaseURL: env.URL, Token: "bot-token", MaxWait: time.Second, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	gh, err := c.ForOrg(name)
	if err != nil {
		t.Fatal(err)
	}
	return &orgFixture{env: env, bot: bot, token: "bot-token", gh: gh}
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// limits are peribolos' defaults but for min-admins.
var limits = plan.Limits{MaxRemovalPercent: 25, MinAdmins: 2, RequireSelf: true}

// sync runs one confirmed sync and fails the test on an error.
func (fx *orgFixture) sync(t testing.TB, d *plan.Desired, o SyncOptions) *SyncResult {
	t.Helper()
	o.Desired = d
	if o.Limits.MaxRemovalPercent == 0 {
		o.Limits = limits
	}
	res, err := Sync(context.Background(), fx.gh, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
