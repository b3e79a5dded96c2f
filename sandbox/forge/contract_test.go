package forge_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
)

// The contract tests drive the forge with the real go-github client over
// HTTP and check what GitHub would answer.

const seedYAML = `
users:
- {login: alice, name: Alice, email: alice@example.com, token: alice-token}
- {login: bob, token: bob-token}
- {login: carol, token: carol-token}
- {login: dave, token: dave-token}
orgs:
- login: acme
  admins: [alice]
  members: [bob]
  teams:
  - name: Maintainers
    maintainers: [bob]
    repos: {widgets: write}
repos:
- name: acme/widgets
  files:
    README.md: "# widgets\n"
    src/main.go: "package main\n"
  collaborators: {carol: read}
  labels:
  - {name: lgtm, color: 15dd18}
  - {name: approved, color: 0ffa16}
  - {name: do-not-merge/hold, color: e11d21}
- name: acme/secret
  private: true
  files: {README.md: "secret\n"}
`

const hookSecret = "s3cret"

type fixture struct {
	env  *forgetest.Env
	hook *forgetest.Receiver
	ctx  context.Context
}

// setup starts a seeded forge whose acme org hook delivers to a receiver.
func setup(t *testing.T) *fixture {
	t.Helper()
	seed, err := forge.ParseSeed([]byte(seedYAML))
	if err != nil {
		t.Fatal(err)
	}
	rc := forgetest.NewReceiver(t, hookSecret)
	seed.Orgs[0].Hooks = []forge.SeedHook{{URL: rc.URL, Secret: hookSecret}}
	env := forgetest.StartSeed(t, seed, forge.Options{})
	return &fixture{env: env, hook: rc, ctx: context.Background()}
}

func (fx *fixture) client(t *testing.T, token string) *github.Client { return fx.env.Client(t, token) }

// status is the HTTP status of a go-github call's error (200 when nil).
func status(t *testing.T, resp *github.Response, err error) int {
	t.Helper()
	if err == nil {
		return resp.StatusCode
	}
	var ge *github.ErrorResponse
	if errors.As(err, &ge) {
		return ge.Response.StatusCode
	}
	var ae *github.AcceptedError
	if errors.As(err, &ae) {
		return http.StatusAccepted
	}
	t.Fatalf("unexpected error: %v", err)
	return 0
}

func must[T any](t *testing.T) func(v T, _ *github.Response, err error) T {
	return func(v T, _ *github.Response, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

const wait = 10 * time.Second

func TestSmoke(t *testing.T) {
	fx := setup(t)
	c := fx.client(t, "alice-token")
	r := must[*github.Repository](t)(c.Repositories.Get(fx.ctx, "acme", "widgets"))
	if r.GetDefaultBranch() != "main" || !r.GetPermissions().GetAdmin() {
		t.Fatalf("repo = %+v", r)
	}
	pr, err := fx.env.As("bob").OpenPR(fx.ctx, "acme/widgets", forge.PullRequest{Title: "Add feature", Head: "feature",
		Files: map[string][]byte{"feature.txt": []byte("hello\n")}})
	if err != nil {
		t.Fatal(err)
	}
	d := fx.hook.WaitFor("pull_request", "opened", wait)
	if got := d.Parsed.(*github.PullRequestEvent).GetPullRequest().GetNumber(); got != pr.GetNumber() {
		t.Fatalf("opened event for #%d, want #%d", got, pr.GetNumber())
	}
	res := must[*github.PullRequestMergeResult](t)(c.PullRequests.Merge(fx.ctx, "acme", "widgets", pr.GetNumber(), "", &github.PullRequestOptions{MergeMethod: "squash"}))
	if !res.GetMerged() {
		t.Fatalf("merge = %+v", res)
	}
	fx.hook.WaitFor("pull_request", "closed", wait)
}

func errorsAs[T error](err error, target *T) bool { return errors.As(err, target) }
