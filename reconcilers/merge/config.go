package merge

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/snapshot"
)

// Defaults of Tide's settings that bowline's loader leaves unset.
const (
	DefaultMaxGoroutines = 20
	defaultNamespace     = "default"
)

// Config is what the merge controller reads from the applied configuration:
// the tide section, the presubmits, branch protection and where ProwJobs
// live.
type Config struct {
	Tide             *prowconfig.Tide
	Presubmits       map[string][]jobs.Presubmit
	BranchProtection *prowconfig.BranchProtection
	// Namespace is prowjob_namespace: where runs and MergePools live.
	Namespace string

	SyncPeriod         time.Duration
	StatusUpdatePeriod time.Duration
	FullResyncPeriod   time.Duration
	MaxGoroutines      int
	// MaxQueryConcurrency caps the searches run at once (0: no cap).
	MaxQueryConcurrency int
	SpeculativeDepth    int
	Bisect              bool

	titles, bodies map[string]*template.Template
}

// ConfigFrom reads the merge controller's settings from an applied
// configuration; nil gives nil (nothing configured yet).
func ConfigFrom(set *configset.Set) (*Config, error) {
	if set == nil || set.Config == nil {
		return nil, nil
	}
	t := &set.Config.Tide
	c := &Config{
		Tide:                t,
		BranchProtection:    &set.Config.BranchProtection,
		Namespace:           set.Config.ProwJobNamespace,
		SyncPeriod:          prowconfig.DefaultTideSyncPeriod,
		MaxGoroutines:       t.MaxGoroutines,
		MaxQueryConcurrency: t.MaxQueryConcurrency,
		SpeculativeDepth:    prowconfig.DefaultSpeculativeDepth,
		Bisect:              true,
		FullResyncPeriod:    prowconfig.DefaultFullResyncPeriod,
		titles:              map[string]*template.Template{},
		bodies:              map[string]*template.Template{},
	}
	if set.Jobs != nil {
		c.Presubmits = set.Jobs.Presubmits
	}
	if c.Namespace == "" {
		c.Namespace = defaultNamespace
	}
	if t.SyncPeriod != nil && t.SyncPeriod.Duration > 0 {
		c.SyncPeriod = t.SyncPeriod.Duration
	}
	c.StatusUpdatePeriod = c.SyncPeriod
	if t.StatusUpdatePeriod != nil && t.StatusUpdatePeriod.Duration > 0 {
		c.StatusUpdatePeriod = t.StatusUpdatePeriod.Duration
	}
	if c.MaxGoroutines <= 0 {
		c.MaxGoroutines = DefaultMaxGoroutines
	}
	b := t.Bowline
	if b.SpeculativeDepth != nil {
		c.SpeculativeDepth = *b.SpeculativeDepth
	}
	if b.Bisect != nil {
		c.Bisect = *b.Bisect
	}
	if b.FullResyncPeriod != nil && b.FullResyncPeriod.Duration > 0 {
		c.FullResyncPeriod = b.FullResyncPeriod.Duration
	}
	c.FullResyncPeriod = max(c.FullResyncPeriod, c.SyncPeriod)
	for k, tmpl := range t.MergeTemplate {
		for _, x := range []struct {
			text string
			into map[string]*template.Template
		}{{tmpl.Title, c.titles}, {tmpl.Body, c.bodies}} {
			if x.text == "" {
				continue
			}
			parsed, err := template.New(k).Parse(x.text)
			if err != nil {
				return nil, fmt.Errorf("tide.merge_commit_template[%s]: %w", k, err)
			}
			x.into[k] = parsed
		}
	}
	return c, nil
}

// Covers says whether some query covers the repository.
func (c *Config) Covers(org, repo string) bool {
	for i := range c.Tide.Queries {
		if queryCovers(&c.Tide.Queries[i], org, repo) {
			return true
		}
	}
	return false
}

// shard is one search's scope: an org (minus the repos every query covering
// it excludes) or a list of repos of one org.
type shard struct {
	org   string
	query string
	// reviews is true when a query in scope needs GitHub's approval, so
	// that the approved pull requests are searched for too.
	reviews bool
}

// shards are the searches that find every open pull request in the scope of
// the queries, one per org as Tide does with a GitHub App.
func (c *Config) shards() []shard {
	orgs := map[string]map[string]bool{} // org -> excluded repos
	repos := map[string][]string{}       // org -> repos
	seenOrg := map[string]bool{}
	for i := range c.Tide.Queries {
		q := &c.Tide.Queries[i]
		for _, o := range q.Orgs {
			ex := map[string]bool{}
			for _, r := range q.ExcludedRepos {
				if strings.HasPrefix(strings.ToLower(r), strings.ToLower(o)+"/") {
					ex[r] = true
				}
			}
			if !seenOrg[o] {
				orgs[o], seenOrg[o] = ex, true
				continue
			}
			for r := range orgs[o] {
				if !ex[r] {
					delete(orgs[o], r)
				}
			}
		}
	}
	for i := range c.Tide.Queries {
		for _, r := range c.Tide.Queries[i].Repos {
			org, _, ok := strings.Cut(r, "/")
			if !ok {
				continue
			}
			if ex, ok := orgs[org]; ok {
				delete(ex, r)
				continue
			}
			repos[org] = append(repos[org], r)
		}
	}
	var out []shard
	for org, ex := range orgs {
		q := fmt.Sprintf("org:%q", org)
		for _, r := range sortedKeys(ex) {
			q += fmt.Sprintf(" -repo:%q", r)
		}
		out = append(out, shard{org: org, query: q})
	}
	for org, rs := range repos {
		sort.Strings(rs)
		var parts []string
		for _, r := range uniq(rs) {
			parts = append(parts, fmt.Sprintf("repo:%q", r))
		}
		out = append(out, shard{org: org, query: strings.Join(parts, " ")})
	}
	for i := range out {
		for j := range c.Tide.Queries {
			q := &c.Tide.Queries[j]
			if q.ReviewApprovedRequired && (containsFold(q.Orgs, out[i].org) || hasRepoOf(q.Repos, out[i].org)) {
				out[i].reviews = true
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].query < out[j].query })
	return out
}

// PolicyFor resolves the configuration of one pool. protection are the
// required contexts of the branch's protection on GitHub (added to Prow's
// branch-protection section with from-branch-protection); allowed are the
// merge methods the repository allows (nil when unknown).
func (c *Config) PolicyFor(org, repo, branch string, protection []string, allowed map[string]bool) *Policy {
	t := c.Tide
	full := org + "/" + repo
	p := &Policy{
		Presubmits:       c.Presubmits[full],
		ContextOptions:   mergedContextOptions(t.ContextOptions, org, repo, branch),
		Method:           c.mergeMethod(org, repo, branch),
		SquashLabel:      t.SquashLabel,
		RebaseLabel:      t.RebaseLabel,
		MergeLabel:       t.MergeLabel,
		AllowedMethods:   allowed,
		BatchLimit:       t.BatchSizeLimit(org, repo),
		Priority:         t.Priority,
		DisplayAll:       t.DisplayAllQueriesInStatus,
		SpeculativeDepth: c.SpeculativeDepth,
		Bisect:           c.Bisect,
	}
	p.PrioritizeExisting = true
	for _, k := range []string{full, org, "*"} {
		if v, ok := t.PrioritizeExistingBatchesMap[k]; ok {
			p.PrioritizeExisting = v
			break
		}
	}
	p.MergeBlocks = "permit"
	for _, k := range []string{full, org, "*"} {
		if v, ok := t.GitHubMergeBlocksPolicyMap[k]; ok {
			p.MergeBlocks = v
			break
		}
	}
	for i := range t.Queries {
		if queryCovers(&t.Queries[i], org, repo) {
			p.Queries = append(p.Queries, t.Queries[i])
		}
	}
	if isTrue(p.ContextOptions.FromBranchProtection) && c.BranchProtection != nil {
		jc := prowconfig.JobContextsFor(p.Presubmits, branch)
		if pol := c.BranchProtection.GetPolicy(org, repo, branch, jc); pol != nil {
			p.RequireManual = isTrue(pol.RequireManuallyTriggeredJobs)
			if isTrue(pol.Protect) && pol.RequiredStatusChecks != nil {
				p.Protection = append(p.Protection, pol.RequiredStatusChecks.Contexts...)
			}
		}
		p.Protection = append(p.Protection, protection...)
	}
	return p
}

// mergeMethod is the merge method of a branch, resolved as Prow does
// (prowconfig.Tide.MergeMethodFor).
func (c *Config) mergeMethod(org, repo, branch string) string {
	return c.Tide.MergeMethodFor(org, repo, branch)
}

// commitTemplates are merge_commit_template's title and body for a
// repository (org/repo, else org); nil where unset.
func (c *Config) commitTemplates(org, repo string) (title, body *template.Template) {
	for _, k := range []string{org + "/" + repo, org} {
		if _, ok := c.Tide.MergeTemplate[k]; ok {
			return c.titles[k], c.bodies[k]
		}
	}
	return nil, nil
}

// statusURL is the link of a pull request's tide status: target_url(s) when
// set, else the pull request's page under pr_status_base_url(s), else under
// def (the web role's /pr), as <base>/<org>/<repo>/<number>.
func (c *Config) statusURL(org, repo string, number int, def string) string {
	t := c.Tide
	if u := lookup(t.TargetURLs, org, repo); u != "" {
		return u
	}
	if t.TargetURL != "" {
		return t.TargetURL
	}
	base := lookup(t.PRStatusBaseURLs, org, repo)
	if base == "" {
		base = t.PRStatusBaseURL
	}
	if base == "" {
		base = def
	}
	if base == "" {
		return ""
	}
	return strings.TrimSuffix(base, "/") + "/" + url.PathEscape(org) + "/" + url.PathEscape(repo) + "/" + strconv.Itoa(number)
}

func lookup(m map[string]string, org, repo string) string {
	for _, k := range []string{org + "/" + repo, org, "*"} {
		if v, ok := m[k]; ok {
			return v
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func uniq(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func hasRepoOf(repos []string, org string) bool {
	for _, r := range repos {
		if o, _, ok := strings.Cut(r, "/"); ok && strings.EqualFold(o, org) {
			return true
		}
	}
	return false
}

// snapshotSource gives the applied configuration revision; a
// *snapshot.Store is one.
type snapshotSource interface {
	Current() *snapshot.Snapshot
}

// ConfigFromSnapshots returns a Config getter for Reconciler.Config that
// reads the applied revision and parses it once per revision.
func ConfigFromSnapshots(src snapshotSource) func() (*Config, error) {
	var (
		mu   sync.Mutex
		last *snapshot.Snapshot
		cfg  *Config
		err  error
	)
	return func() (*Config, error) {
		snap := src.Current()
		mu.Lock()
		defer mu.Unlock()
		if snap != last {
			last = snap
			cfg, err = nil, nil
			if snap != nil {
				cfg, err = ConfigFrom(snap.Config)
			}
		}
		return cfg, err
	}
}
