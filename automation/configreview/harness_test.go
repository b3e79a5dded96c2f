package configreview

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bowline-ci/bowline/automation/plugin"
	examples "github.com/bowline-ci/bowline/config-examples"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

var env *envtest.Env

func TestMain(m *testing.M) {
	flag.Parse()
	envtest.Main(m, &env)
}

const hookSecret = "review-secret"

// repoNumber gives each test a config repository of its own name: a
// ConfigRepository matches a repository by host and path, and the tests'
// forges all listen on 127.0.0.1.
var repoNumber atomic.Int32

// fixture is a sandbox forge holding a config repository made from the
// quickstart example, a ConfigRepository following it with that revision
// applied, and a Handler.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	forge  *forgetest.Env
	hooks  *forgetest.Receiver
	owner  string
	repo   string // owner/name
	cr     *v1alpha1.ConfigRepository
	stores *snapshot.Stores
	h      *Handler
	gh     *github.Client
}

// quickstart are the quickstart's config files.
func quickstart(t *testing.T) map[string]string {
	t.Helper()
	fsys, err := examples.FS("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	err = fs.WalkDir(fsys, "config", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// newFixture starts the forge and the ConfigRepository; seeded adjusts the
// forge's seed (nil for none), opts the Handler's options.
func newFixture(t *testing.T, seeded func(*forge.Seed), opts ...func(*fixture, *Options)) *fixture {
	t.Helper()
	ctx := t.Context()
	n := repoNumber.Add(1)
	fx := &fixture{t: t, ctx: ctx, owner: fmt.Sprintf("review%d", n)}
	fx.repo = fx.owner + "/config"
	fx.hooks = forgetest.NewReceiver(t, hookSecret)
	seed := &forge.Seed{
		Users: []forge.SeedUser{{Login: "alice", Token: "alice-token"}, {Login: "bowline-bot", Token: "bot-token", Bot: true}, {Login: "mallory", Token: "mallory-token"}},
		Orgs: []forge.SeedOrg{{Login: fx.owner, Admins: []string{"alice", "bowline-bot"}, Members: []string{"mallory"},
			Hooks: []forge.SeedHook{{URL: fx.hooks.URL, Secret: hookSecret, Events: []string{"pull_request"}}}}},
		Repos: []forge.SeedRepo{{Name: fx.repo, Files: quickstart(t)}, {Name: fx.owner + "/hello", Files: map[string]string{"test.sh": "exit 0\n"}}},
	}
	if seeded != nil {
		seeded(seed)
	}
	fx.forge = forgetest.StartSeed(t, seed, forge.Options{})
	fx.gh = fx.forge.Client(t, "bot-token")

	ns := env.Namespace(t)
	fx.cr = &v1alpha1.ConfigRepository{ObjectMeta: metav1.ObjectMeta{Name: "config", Namespace: ns},
		Spec: v1alpha1.ConfigRepositorySpec{URL: fx.forge.URL + "/" + fx.repo + ".git"}}
	if err := env.Client.Create(ctx, fx.cr); err != nil {
		t.Fatal(err)
	}
	fx.stores = &snapshot.Stores{}
	fx.apply(fx.mainSHA())

	o := Options{Client: env.Client, APIReader: env.Client, Stores: fx.stores, DataDir: t.TempDir(),
		GitHub: func(context.Context, string) (*github.Client, error) { return fx.gh, nil }}
	for _, mut := range opts {
		mut(fx, &o)
	}
	fx.h = New(o)
	return fx
}

// mainSHA is the config repository's main.
func (fx *fixture) mainSHA() string {
	fx.t.Helper()
	ref, _, err := fx.gh.Git.GetRef(fx.ctx, fx.owner, "config", "heads/main")
	if err != nil {
		fx.t.Fatal(err)
	}
	return ref.GetObject().GetSHA()
}

// apply makes sha the applied revision, as the reconciler would.
func (fx *fixture) apply(sha string) {
	fx.t.Helper()
	tree, _, err := fx.gh.Git.GetTree(fx.ctx, fx.owner, "config", sha, true)
	if err != nil {
		fx.t.Fatal(err)
	}
	mfs := fstest.MapFS{}
	for _, e := range tree.Entries {
		if e.GetType() != "blob" {
			continue
		}
		b, _, err := fx.gh.Git.GetBlobRaw(fx.ctx, fx.owner, "config", e.GetSHA())
		if err != nil {
			fx.t.Fatal(err)
		}
		mfs[e.GetPath()] = &fstest.MapFile{Data: b}
	}
	set, err := configset.Load(fx.ctx, mfs, snapshot.Options(mfs, fx.cr.Spec.Paths, false))
	if err != nil {
		fx.t.Fatal(err)
	}
	fx.stores.For(types.NamespacedName{Namespace: fx.cr.Namespace, Name: fx.cr.Name}).Set(
		&snapshot.Snapshot{Revision: "main@sha1:" + sha, Digest: sha, Config: set, LoadedAt: time.Now()})
}

// openPR opens a pull request to the config repository with files changed
// (a nil value deletes one) and waits for its webhook.
func (fx *fixture) openPR(branch string, files map[string]string) (int, *github.PullRequestEvent) {
	fx.t.Helper()
	pr, err := fx.forge.As("alice").OpenPR(fx.ctx, fx.repo, forge.PullRequest{Title: "Change " + branch, Head: branch, Files: bytesOf(files)})
	if err != nil {
		fx.t.Fatal(err)
	}
	return pr.GetNumber(), fx.event("opened", pr.GetNumber())
}

// push pushes to a pull request's branch and waits for synchronize.
func (fx *fixture) push(branch string, number int, files map[string]string) *github.PullRequestEvent {
	fx.t.Helper()
	if _, err := fx.forge.As("alice").Push(fx.ctx, fx.repo, branch, bytesOf(files), "Change again"); err != nil {
		fx.t.Fatal(err)
	}
	return fx.event("synchronize", number)
}

func (fx *fixture) event(action string, number int) *github.PullRequestEvent {
	fx.t.Helper()
	for {
		d := fx.hooks.WaitFor("pull_request", action, 30*time.Second)
		if ev := d.Parsed.(*github.PullRequestEvent); ev.GetNumber() == number {
			return ev
		}
	}
}

// handle runs the handler on a pull_request event, as the webhook server
// does.
func (fx *fixture) handle(h *Handler, ev *github.PullRequestEvent) error {
	owner, name, _ := strings.Cut(fx.repo, "/")
	return h.Handle(fx.ctx, logr.Discard(), &plugin.Event{Type: "pull_request", Org: owner, Repo: name, Payload: ev})
}

// comments are the plan comments on a pull request.
func (fx *fixture) comments(number int) []*github.IssueComment {
	fx.t.Helper()
	owner, name, _ := strings.Cut(fx.repo, "/")
	all, _, err := fx.gh.Issues.ListComments(fx.ctx, owner, name, number, &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}})
	if err != nil {
		fx.t.Fatal(err)
	}
	var out []*github.IssueComment
	for _, c := range all {
		if strings.HasPrefix(c.GetBody(), Marker) {
			out = append(out, c)
		}
	}
	return out
}

// status is the bowline/config status of a commit.
func (fx *fixture) status(sha string) *github.RepoStatus {
	fx.t.Helper()
	owner, name, _ := strings.Cut(fx.repo, "/")
	list, _, err := fx.gh.Repositories.ListStatuses(fx.ctx, owner, name, sha, nil)
	if err != nil {
		fx.t.Fatal(err)
	}
	for _, s := range list {
		if s.GetContext() == Context {
			return s // newest first
		}
	}
	return nil
}

func bytesOf(files map[string]string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range files {
		if v == "\x00delete" {
			out[k] = nil
			continue
		}
		out[k] = []byte(v)
	}
	return out
}

var discard = logr.Discard()

func forgePR(branch string, files map[string]string, base string) forge.PullRequest {
	return forge.PullRequest{Title: "Change " + branch, Head: branch, Base: base, Files: bytesOf(files)}
}

func eventOf(owner, name string, ev *github.PullRequestEvent) *plugin.Event {
	return &plugin.Event{Type: "pull_request", Org: owner, Repo: name, Payload: ev}
}

// statusOf is the bowline/config status of a commit of any repository.
func statusOf(t *testing.T, fx *fixture, repo, sha string) *github.RepoStatus {
	t.Helper()
	owner, name, _ := strings.Cut(repo, "/")
	list, _, err := fx.gh.Repositories.ListStatuses(fx.ctx, owner, name, sha, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.GetContext() == Context {
			return s
		}
	}
	return nil
}
