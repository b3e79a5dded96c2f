// Package configreview reviews every pull request to a config repository:
// it loads the pull request's head exactly as the ConfigRepository
// reconciler would apply it (the same fetch, paths, limits, loader,
// strictness and further checks), plans what merging it would change
// (automation/configplan), and posts a commit status (bowline/config) that
// fails when the operator would refuse the revision, one plan comment that
// each push edits in place, and — where bowline is a GitHub App — a check
// run with the errors and warnings as annotations.
//
// It runs in the hook role for every pull_request event, whatever
// plugins.yaml enables, like automation/configpush, which applies the
// merged result.
package configreview

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/automation/configpush"
	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/reconcilers/configrepo"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Name is the handler's name in logs and metrics.
const Name = "config-review"

// Context is the commit status context, and the check run's name.
const Context = "bowline/config"

// Options configure a Handler.
type Options struct {
	// Client lists ConfigRepositories and GitHubOrganizations (a cached
	// client is right).
	Client client.Reader
	// APIReader reads a ConfigRepository's Secret without caching Secrets.
	APIReader client.Reader
	// Stores hold the applied revisions, the usual base of a plan.
	Stores *snapshot.Stores
	// GitHub returns the client for an org (scm/github's, ETag-cached).
	GitHub func(ctx context.Context, org string) (*github.Client, error)
	// DataDir holds the cache repositories the pull requests are fetched
	// into, one per ConfigRepository.
	DataDir string
	// Check is the install's further check of a revision, the one the
	// ConfigRepository reconciler runs (build clusters, namespaces).
	Check func(*configset.Set) error
	// Limits bound a revision, as the reconciler's.
	Limits configrepo.Limits
	// Plugins are the names of the plugins bowline implements.
	Plugins []string
	// DeployApplied says whether bowline applies its own deployment from
	// the config repository.
	DeployApplied bool
	// CheckRuns posts check runs with annotations: GitHub lets only GitHub
	// Apps write them.
	CheckRuns bool
	// BotLogin is bowline's own login, whose comment is the plan; empty
	// looks it up.
	BotLogin string
	// Metrics records plans; nil records nothing.
	Metrics *Metrics
	// OrgTimeout bounds reading orgs from GitHub for one plan; default 30s.
	OrgTimeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler reviews pull requests to config repositories.
type Handler struct {
	opts Options
	bot  *plugin.Bot
	// prs serialises the reviews of one pull request in this process.
	prs keyedMutex
	// repos serialise the use of one cache repository.
	repos keyedMutex
	mu    sync.Mutex
	// caches hold, per ConfigRepository UID, the blobs of the revision
	// read last and the base revisions loaded last.
	caches map[string]*repoCache
}

// New returns a Handler.
func New(o Options) *Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OrgTimeout <= 0 {
		o.OrgTimeout = 30 * time.Second
	}
	return &Handler{opts: o, bot: plugin.NewBot(o.BotLogin), caches: map[string]*repoCache{}}
}

// Name implements plugin.Plugin.
func (h *Handler) Name() string { return Name }

// Events implements plugin.Plugin.
func (h *Handler) Events() []string { return []string{"pull_request"} }

// Help implements plugin.Plugin.
func (h *Handler) Help() plugin.Help {
	return plugin.Help{Description: "Plans every pull request to a config repository: a " + Context +
		" status that fails when bowline would refuse the revision, and one comment, edited on each push, saying what merging it would change."}
}

// reviewed are the pull request actions that change what a plan says.
var reviewed = map[string]bool{"opened": true, "reopened": true, "synchronize": true, "ready_for_review": true}

// Handle implements plugin.Plugin.
func (h *Handler) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	pe, ok := ev.Payload.(*github.PullRequestEvent)
	if !ok {
		return nil
	}
	action := pe.GetAction()
	// An edit matters only when it moved the pull request to another base.
	if !reviewed[action] && !(action == "edited" && pe.GetChanges().GetBase() != nil) {
		return nil
	}
	pr := pe.GetPullRequest()
	if pr.GetState() != "open" {
		return nil
	}
	repos, err := h.watching(ctx, pe.GetRepo(), pr.GetBase().GetRef())
	if err != nil {
		return err
	}
	// Each ConfigRepository's review stands alone: one that cannot fetch
	// does not keep the others from posting theirs.
	var errs []error
	for i := range repos {
		if err := h.review(ctx, log.WithValues("configRepository", client.ObjectKeyFromObject(&repos[i]).String()), &repos[i], ev.Org, ev.Repo, pr.GetNumber()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// watching lists the ConfigRepositories that follow branch of repo.
func (h *Handler) watching(ctx context.Context, repo *github.Repository, branch string) ([]v1alpha1.ConfigRepository, error) {
	urls := map[string]bool{}
	for _, u := range []string{repo.GetCloneURL(), repo.GetHTMLURL(), repo.GetSSHURL(), repo.GetGitURL(), repo.GetURL()} {
		if n := configpush.NormalizeURL(u); n != "" {
			urls[n] = true
		}
	}
	var list v1alpha1.ConfigRepositoryList
	if err := h.opts.Client.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list ConfigRepositories: %w", err)
	}
	var out []v1alpha1.ConfigRepository
	for _, cr := range list.Items {
		if urls[configpush.NormalizeURL(cr.Spec.URL)] && followsBranch(cr.Spec.Ref, branch) && cr.DeletionTimestamp.IsZero() {
			out = append(out, cr)
		}
	}
	return out, nil
}

// followsBranch says whether a ConfigRepository follows branch (main by
// default); one pinned to a tag or a commit follows no branch.
func followsBranch(ref *v1alpha1.GitRef, branch string) bool {
	switch {
	case ref == nil || (ref.Branch == "" && ref.Tag == "" && ref.Commit == ""):
		return branch == "main"
	case ref.Branch != "":
		return branch == ref.Branch
	}
	return false
}

// keyedMutex serialises work per key.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	sync.Mutex
	users int
}

// lock locks key and returns its unlock.
func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.users--; l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
}

// prKey names a pull request.
func prKey(org, repo string, number int) string {
	return strings.ToLower(fmt.Sprintf("%s/%s#%d", org, repo, number))
}
