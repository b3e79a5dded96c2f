package configreview

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing/fstest"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/automation/configplan"
	"github.com/bowline-ci/bowline/reconcilers/configrepo"
	"github.com/bowline-ci/bowline/reconcilers/org"
	orgplan "github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// review plans one pull request to cr's repository and posts the plan.
func (h *Handler) review(ctx context.Context, log logr.Logger, cr *v1alpha1.ConfigRepository, owner, repo string, number int) error {
	defer h.prs.lock(prKey(owner, repo, number))()
	start := time.Now()
	gh, err := h.opts.GitHub(ctx, owner)
	if err != nil {
		return err
	}
	// The pull request as it is now: a push may have come since the event.
	pr, _, err := gh.PullRequests.Get(ctx, owner, repo, number)
	if err != nil {
		return fmt.Errorf("read pull request #%d: %w", number, err)
	}
	if pr.GetState() != "open" {
		return nil
	}
	post := &poster{gh: gh, owner: owner, repo: repo, number: number, bot: h.bot, log: log}
	if err := post.status(ctx, pr.GetHead().GetSHA(), "pending", "Planning the configuration change", ""); err != nil {
		return err
	}
	rev, err := h.load(ctx, cr, pr)
	if err != nil {
		h.opts.Metrics.observe("error", time.Since(start))
		_ = post.status(ctx, pr.GetHead().GetSHA(), "error", "Could not read the revision: "+err.Error(), "")
		return err
	}
	in := configplan.Input{
		Base: rev.base, Head: rev.head, Deploy: rev.deploy,
		Changed: rev.changed, ConfigPath: snapshot.WithDefaults(cr.Spec.Paths).Config,
		DeployPath: snapshot.WithDefaults(cr.Spec.Paths).Deploy, DeployApplied: h.opts.DeployApplied, Plugins: h.opts.Plugins,
		PullRequests: configplan.GitHub{ForOrg: h.opts.GitHub},
		Orgs: &timedOrgs{Orgs: configplan.ObservedOrgs{ForOrg: h.opts.GitHub, SettingsFor: h.orgSettings(cr)},
			deadline: time.Now().Add(h.opts.OrgTimeout), timeout: h.opts.OrgTimeout},
		Links: rev.comparison.PullRequestLinks(pr.GetHTMLURL(), configplan.Links{
			Head: blobLink(pr.GetHead().GetRepo().GetHTMLURL(), rev.headCommit.Hash.String()),
			Base: blobLink(pr.GetBase().GetRepo().GetHTMLURL(), rev.baseCommit.Hash.String()),
		}),
		Now: h.opts.Now(),
	}
	if !rev.baseIsMergeBase {
		// The base side is the applied revision, not the merge base: the
		// base's lines are not those of the merge base's files, nor of the
		// pull request's diff.
		in.Links.Base = nil
	}
	p, err := configplan.Compute(ctx, in)
	if err != nil {
		h.opts.Metrics.observe("error", time.Since(start))
		return fmt.Errorf("plan #%d: %w", number, err)
	}
	p.Notes = append(rev.notes, p.Notes...)
	if cr.Spec.Suspend {
		p.Notes = append(p.Notes, fmt.Sprintf("ConfigRepository %s/%s is suspended: merging applies nothing until spec.suspend is false", cr.Namespace, cr.Name))
	}
	sha := rev.headCommit.Hash.String()
	body := commentBody(p, sha, time.Since(start))
	// Only the plan of the pull request's current head goes in the comment:
	// an older review finishing late must not overwrite a newer one.
	cur, _, err := gh.PullRequests.Get(ctx, owner, repo, number)
	if err != nil {
		return fmt.Errorf("read pull request #%d: %w", number, err)
	}
	target := ""
	if cur.GetHead().GetSHA() == sha && cur.GetState() == "open" {
		c, err := post.comment(ctx, body)
		if err != nil {
			return err
		}
		target = c.GetHTMLURL()
	}
	state := "success"
	if !p.Valid {
		state = "failure"
	}
	if err := post.status(ctx, sha, state, p.Headline(), target); err != nil {
		return err
	}
	if h.opts.CheckRuns {
		if err := post.checkRun(ctx, sha, p, target); err != nil {
			return err
		}
	}
	result := "valid"
	if !p.Valid {
		result = "invalid"
	}
	took := time.Since(start)
	h.opts.Metrics.observe(result, took)
	log.Info("Planned a pull request to the config repository", "number", number, "head", sha, "valid", p.Valid,
		"jobs", len(p.Jobs), "duration", took.Round(time.Millisecond).String())
	return nil
}

// revision is what a review read: the two sides of the plan and the
// commits they come from.
type revision struct {
	base, head             configplan.Side
	baseCommit, headCommit *object.Commit
	deploy                 []configplan.DeployChange
	// comparison is of baseCommit and headCommit: the pull request's
	// diff when baseCommit is the merge base.
	comparison *configplan.Comparison
	notes      []string
	// baseIsMergeBase says the base side is the merge base's
	// configuration, so that changed tells what differs between the sides.
	baseIsMergeBase bool
	changed         map[string]bool
}

// repoCache is what a Handler keeps per ConfigRepository between reviews.
type repoCache struct {
	mu sync.Mutex
	// blobs are those of the head read last, so that the next push's
	// unchanged files are not read again.
	blobs configrepo.BlobCache
	// bases are the base revisions loaded last, by commit.
	bases map[plumbing.Hash]*configrepo.Verdict
	order []plumbing.Hash
}

// maxBases is how many loaded base revisions a ConfigRepository keeps: the
// merge bases of the pull requests open at once are few.
const maxBases = 4

func (c *repoCache) base(h plumbing.Hash) *configrepo.Verdict {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bases[h]
}

func (c *repoCache) addBase(h plumbing.Hash, v *configrepo.Verdict) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.bases[h]; ok {
		return
	}
	c.bases[h] = v
	c.order = append(c.order, h)
	if len(c.order) > maxBases {
		delete(c.bases, c.order[0])
		c.order = c.order[1:]
	}
}

func (h *Handler) cacheFor(cr *v1alpha1.ConfigRepository) *repoCache {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.caches[string(cr.UID)]
	if c == nil {
		c = &repoCache{bases: map[plumbing.Hash]*configrepo.Verdict{}}
		h.caches[string(cr.UID)] = c
	}
	return c
}

// load fetches the pull request's head and its base branch with the
// reconciler's fetch, and judges the head as the reconciler would: the
// ConfigRepository's paths, limits, strictness and the install's checks.
// The base is the merge base, as GitHub's diff of the pull request: the
// applied snapshot when that is the merge base (no load at all), else the
// merge base loaded from git.
func (h *Handler) load(ctx context.Context, cr *v1alpha1.ConfigRepository, pr *github.PullRequest) (*revision, error) {
	dir := filepath.Join(h.opts.DataDir, "review", string(cr.UID))
	defer h.repos.lock(dir)()
	auth, err := h.auth(ctx, cr, dir)
	if err != nil {
		return nil, err
	}
	branch := "main"
	if cr.Spec.Ref != nil && cr.Spec.Ref.Branch != "" {
		branch = cr.Spec.Ref.Branch
	}
	headRef := fmt.Sprintf("refs/pull/%d/head", pr.GetNumber())
	repo, err := configrepo.FetchRefs(ctx, dir, cr.Spec.URL, auth, "refs/heads/"+branch, headRef)
	if err != nil {
		return nil, err
	}
	commit := func(name string) (*object.Commit, error) {
		ref, err := repo.Reference(plumbing.ReferenceName(name), true)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return repo.CommitObject(ref.Hash())
	}
	headC, err := commit(headRef)
	if err != nil {
		return nil, err
	}
	// Plan the head this review announced, when it is there: the ref may
	// have moved on since, and the newer head has a review of its own.
	if want := pr.GetHead().GetSHA(); want != "" && want != headC.Hash.String() {
		if c, err := repo.CommitObject(plumbing.NewHash(want)); err == nil {
			headC = c
		}
	}
	tipC, err := commit("refs/heads/" + branch)
	if err != nil {
		return nil, err
	}
	r := &revision{headCommit: headC, baseCommit: tipC}
	if bases, err := headC.MergeBase(tipC); err == nil && len(bases) > 0 {
		r.baseCommit = bases[0]
	}
	cache := h.cacheFor(cr)
	hv, blobs, err := configplan.Load(ctx, repo, headC, &cr.Spec, h.opts.Limits, h.opts.Check, cache.blobs)
	if err != nil {
		return nil, fmt.Errorf("read pull/%d: %w", pr.GetNumber(), err)
	}
	cache.blobs = blobs
	r.head = configplan.Side{Revision: configplan.Revision{Name: fmt.Sprintf("pull/%d@sha1:%s", pr.GetNumber(), headC.Hash), Commit: headC.Hash.String()}, Verdict: hv}
	if r.base, err = h.baseSide(ctx, cr, repo, r, branch, cache); err != nil {
		return nil, err
	}
	cmp, err := configplan.Compare(r.baseCommit, headC, snapshot.WithDefaults(cr.Spec.Paths).Deploy)
	if err != nil {
		return nil, err
	}
	r.deploy, r.comparison = cmp.Deploy, cmp
	if r.baseIsMergeBase {
		// Only then is the base side the base commit's configuration.
		r.changed = cmp.Changed
	}
	return r, nil
}

// baseSide is the revision the plan compares with.
func (h *Handler) baseSide(ctx context.Context, cr *v1alpha1.ConfigRepository, repo *git.Repository, r *revision, branch string, cache *repoCache) (configplan.Side, error) {
	mb := r.baseCommit
	name := configplan.Revision{Name: fmt.Sprintf("%s@sha1:%s", branch, mb.Hash), Commit: mb.Hash.String()}
	snap := h.opts.Stores.For(types.NamespacedName{Namespace: cr.Namespace, Name: cr.Name}).Current()
	if snap != nil && snap.Config != nil && revisionCommit(snap.Revision) == mb.Hash.String() {
		r.baseIsMergeBase = true
		return configplan.Side{Revision: configplan.Revision{Name: snap.Revision, Commit: mb.Hash.String()},
			Verdict: &configrepo.Verdict{Set: snap.Config, Warnings: snap.Config.Warnings}}, nil
	}
	if v := cache.base(mb.Hash); v != nil {
		r.baseIsMergeBase = true
		return configplan.Side{Revision: name, Verdict: v}, nil
	}
	v, _, err := configplan.Load(ctx, repo, mb, &cr.Spec, h.opts.Limits, h.opts.Check, nil)
	if err != nil {
		return configplan.Side{}, fmt.Errorf("read the merge base %s: %w", mb.Hash, err)
	}
	if v.Valid() {
		cache.addBase(mb.Hash, v)
		r.baseIsMergeBase = true
		return configplan.Side{Revision: name, Verdict: v}, nil
	}
	// The merge base is not valid: compare with what is applied, or with
	// nothing before the first revision is.
	if snap != nil && snap.Config != nil {
		r.notes = append(r.notes, fmt.Sprintf("the merge base %s is not a valid revision: the plan compares with the applied revision", short(mb.Hash.String())))
		return configplan.Side{Revision: configplan.Revision{Name: snap.Revision, Commit: revisionCommit(snap.Revision)},
			Verdict: &configrepo.Verdict{Set: snap.Config, Warnings: snap.Config.Warnings}}, nil
	}
	empty, err := configset.Load(ctx, fstest.MapFS{}, configset.Options{})
	if err != nil {
		return configplan.Side{}, err
	}
	r.notes = append(r.notes, "no revision is applied yet and the merge base is not valid: the plan compares with an empty configuration")
	return configplan.Side{Revision: configplan.Revision{Name: "(nothing applied)"}, Verdict: &configrepo.Verdict{Set: empty}}, nil
}

// auth builds the credentials of the ConfigRepository's Secret.
func (h *Handler) auth(ctx context.Context, cr *v1alpha1.ConfigRepository, dir string) (transport.AuthMethod, error) {
	var secret *corev1.Secret
	if ref := cr.Spec.SecretRef; ref != nil {
		secret = &corev1.Secret{}
		if err := h.opts.APIReader.Get(ctx, types.NamespacedName{Namespace: cr.Namespace, Name: ref.Name}, secret); err != nil {
			return nil, fmt.Errorf("get secret %s: %w", ref.Name, err)
		}
	}
	auth, err := configrepo.AuthFor(cr.Spec.URL, secret, dir+".known_hosts")
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", cr.Spec.SecretRef.Name, err)
	}
	return auth, nil
}

// orgSettings reads the GitHubOrganization that follows an org for the
// ConfigRepository: its options and limits, and whether it applies plans.
func (h *Handler) orgSettings(cr *v1alpha1.ConfigRepository) func(ctx context.Context, name string) (configplan.OrgSettings, error) {
	return func(ctx context.Context, name string) (configplan.OrgSettings, error) {
		var list v1alpha1.GitHubOrganizationList
		if err := h.opts.Client.List(ctx, &list, client.InNamespace(cr.Namespace)); err != nil {
			return configplan.OrgSettings{}, err
		}
		no := false
		for i := range list.Items {
			o := &list.Items[i]
			if strings.EqualFold(o.Spec.Org, name) && o.Spec.ConfigRepositoryRef.Name == cr.Name {
				yes, applies := true, o.Spec.Confirm
				return configplan.OrgSettings{Options: org.OptionsFrom(o), Limits: org.LimitsFrom(o), Managed: &yes, Applies: &applies}, nil
			}
		}
		return configplan.OrgSettings{Limits: org.DefaultLimits(), Managed: &no}, nil
	}
}

// timedOrgs bounds the time one plan spends reading orgs from GitHub, all
// of them together: a change that touches every org of a large
// configuration still posts its plan in time, the orgs read after the
// deadline planned against the configuration alone.
type timedOrgs struct {
	configplan.Orgs
	deadline time.Time
	timeout  time.Duration
}

func (t *timedOrgs) Observe(ctx context.Context, d *orgplan.Desired) (*orgplan.State, error) {
	if ctx.Err() == nil && !time.Now().Before(t.deadline) {
		return nil, fmt.Errorf("not read: reading orgs for this plan took its %s already", t.timeout)
	}
	ctx, cancel := context.WithDeadline(ctx, t.deadline)
	defer cancel()
	s, err := t.Orgs.Observe(ctx, d)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("reading orgs for this plan took longer than %s", t.timeout)
	}
	return s, err
}

// blobLink links a file's line in a repository's web pages at a commit.
func blobLink(htmlURL, sha string) func(file string, line int) string {
	if htmlURL == "" {
		return nil
	}
	return func(file string, line int) string {
		u := strings.TrimSuffix(htmlURL, "/") + "/blob/" + sha + "/" + file
		if line > 0 {
			u += fmt.Sprintf("#L%d", line)
		}
		return u
	}
}

// revisionCommit is the commit of a revision named like main@sha1:<sha>.
func revisionCommit(rev string) string {
	_, sha, ok := strings.Cut(rev, "sha1:")
	if !ok {
		return ""
	}
	return sha
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}
