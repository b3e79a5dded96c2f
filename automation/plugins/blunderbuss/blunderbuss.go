// Package blunderbuss is the blunderbuss plugin (reference: Prow's
// blunderbuss): it asks for reviews from the reviewers in the OWNERS files
// of the files a pull request changes, when it is opened or marked ready
// for review, and on /auto-cc.
//
// Each reviewer of the OWNERS chain of a changed file weighs as many lines
// as the file changes (at least one); request_count reviewers (2 by
// default) are drawn at random in proportion to their weight, so that the
// people who own most of the change are the most likely to be asked, but
// load spreads. When the reviewers are too few, approvers fill in, unless
// exclude_approvers. At most max_request_count are asked (when set); the
// required_reviewers of the OWNERS files are always asked in addition.
// The author is never asked. Draft pull requests wait with ignore_drafts,
// pull requests of ignore_authors are left alone, and a pull request whose
// description asks for reviewers with /cc gets those instead.
package blunderbuss

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/automation/repoowners"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// Name is the plugin's name in plugins.yaml.
const Name = "blunderbuss"

// DefaultRequestCount is Prow's request_count.
const DefaultRequestCount = 2

var (
	autoCCRE = regexp.MustCompile(`(?mi)^/auto-cc\s*$`)
	// ccRE is the assign plugin's /cc and /uncc: a description that asks
	// for reviewers itself gets no others.
	ccRE = regexp.MustCompile(`(?mi)^/(un)?cc(( +@?[-/\w]+?)*)\s*$`)
)

// Config is what the plugin reads from the applied configuration for one
// repository.
type Config struct {
	Blunderbuss plugins.Blunderbuss
	Owners      repoowners.Settings
}

func (c *Config) requestCount() int {
	if c.Blunderbuss.ReviewerCount == nil {
		return DefaultRequestCount
	}
	return *c.Blunderbuss.ReviewerCount
}

// ConfigFrom reads the configuration of org/repo from a loaded
// configuration.
func ConfigFrom(set *configset.Set, org, repo string) *Config {
	c := &Config{Owners: repoowners.SettingsFor(set, org, repo)}
	if set.Plugins != nil {
		c.Blunderbuss = set.Plugins.Blunderbuss
	}
	return c
}

// Plugin is the blunderbuss plugin.
type Plugin struct {
	pluginbase.Base
	owners *repoowners.Client
}

// New returns the blunderbuss plugin; owners may be shared with other
// plugins.
func New(b pluginbase.Base, owners *repoowners.Client) *Plugin {
	return &Plugin{Base: b, owners: owners}
}

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{"pull_request", plugin.GenericComment} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Requests reviews from the reviewers in the OWNERS files of the changed files when a pull request is opened " +
			"or marked ready for review. Reviewers are drawn at random, weighted by the lines they own in the change; approvers " +
			"fill in when reviewers are too few (unless exclude_approvers), and required_reviewers are always asked. A pull " +
			"request whose description says /cc gets only those. The author is never asked. use_status_availability and " +
			"wait_for_status are not supported yet.",
		Config: strings.TrimLeft(`
blunderbuss:
  request_count: 2          # reviewers to ask (default 2)
  max_request_count: 3      # never more than this many (0: no limit)
  exclude_approvers: false  # true: never fall back to approvers
  ignore_drafts: false      # true: wait until a draft is ready for review
  ignore_authors: [dependabot]  # leave these authors' pull requests alone
`, "\n"),
		Commands: []plugin.Command{{
			Usage:       "/auto-cc",
			Description: "Requests reviews from OWNERS reviewers again, e.g. after OWNERS changed.",
			WhoCanUse:   "Anyone",
			Examples:    []string{"/auto-cc"},
		}},
	}
}

// DescribeConfig implements plugin.ConfigDescriber.
func (p *Plugin) DescribeConfig(org, repo string) string {
	set := p.Config()
	if set == nil {
		return ""
	}
	cfg := ConfigFrom(set, org, repo)
	n := cfg.requestCount()
	s := "s"
	if n == 1 {
		s = ""
	}
	return fmt.Sprintf("Requests reviews from %d reviewer%s.", n, s)
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	env, err := p.Env(ctx, log, ev)
	if env == nil || err != nil {
		return err
	}
	cfg := ConfigFrom(env.Set, env.Org, env.Repo)
	var number int
	switch pe := ev.Payload.(type) {
	case *github.PullRequestEvent:
		pr := pe.GetPullRequest()
		action := pe.GetAction()
		if action != "opened" && action != "ready_for_review" {
			return nil
		}
		if ccRE.MatchString(pr.GetBody()) || (pr.GetDraft() && cfg.Blunderbuss.IgnoreDrafts) ||
			slices.Contains(cfg.Blunderbuss.IgnoreAuthors, pr.GetUser().GetLogin()) {
			return nil
		}
		number = pe.GetNumber()
	default:
		c := ev.Comment
		if ev.Type != plugin.GenericComment || c == nil || c.Action != plugin.CommentCreated || !c.IsPR ||
			c.IssueState == "closed" || !autoCCRE.MatchString(c.Body) {
			return nil
		}
		number = c.Number
	}
	if ev.Comment != nil {
		isBot, err := env.IsBot(ctx)
		if err != nil {
			return err
		}
		if isBot(ev.Comment.Author) {
			return nil
		}
	}
	pr, err := env.PullRequest(ctx, number)
	if err != nil {
		return err
	}
	owners, err := p.owners.Load(ctx, repoowners.FromClient(env.GitHub), ev.Org, ev.Repo, pr.GetBase().GetRef(), cfg.Owners)
	if err != nil {
		return fmt.Errorf("load OWNERS: %w", err)
	}
	files, err := env.PullFiles(ctx, number)
	if err != nil {
		return err
	}
	var changes []Change
	for _, f := range files {
		changes = append(changes, Change{File: f.GetFilename(), Lines: f.GetAdditions() + f.GetDeletions()})
	}
	reviewers := Select(owners, changes, pr.GetUser().GetLogin(), cfg, seedOf(ev.Org, ev.Repo, number))
	if len(reviewers) == 0 {
		log.V(1).Info("No reviewers to request")
		return nil
	}
	return request(ctx, env, number, reviewers)
}

// request asks for reviews. GitHub refuses the whole request when one
// login cannot review (not a collaborator); then each is asked alone, and
// those GitHub refuses are logged and skipped.
func request(ctx context.Context, env *pluginbase.Env, n int, logins []string) error {
	_, _, err := env.GitHub.PullRequests.RequestReviewers(ctx, env.Org, env.Repo, n, github.ReviewersRequest{Reviewers: logins})
	if err == nil {
		return nil
	}
	if !unprocessable(err) {
		return fmt.Errorf("request reviews from %v: %w", logins, err)
	}
	for _, l := range logins {
		if _, _, err := env.GitHub.PullRequests.RequestReviewers(ctx, env.Org, env.Repo, n, github.ReviewersRequest{Reviewers: []string{l}}); err != nil {
			if !unprocessable(err) {
				return fmt.Errorf("request a review from %s: %w", l, err)
			}
			env.Log.Info("GitHub refused a review request", "reviewer", l, "error", err.Error())
		}
	}
	return nil
}

func unprocessable(err error) bool {
	var ge *github.ErrorResponse
	return errors.As(err, &ge) && ge.Response != nil && ge.Response.StatusCode == 422
}

// seedOf makes the draw depend on the pull request only, so that a
// redelivered event asks the same people.
func seedOf(org, repo string, n int) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s#%d", strings.ToLower(org), strings.ToLower(repo), n)
	return h.Sum64()
}

// Change is one changed file and how many lines it changes.
type Change struct {
	File  string
	Lines int
}

// Owners is what selection needs from OWNERS.
type Owners interface {
	Reviewers(path string) *repoowners.Layers
	Approvers(path string) *repoowners.Layers
	RequiredReviewers(path string) []string
}

// Select picks the reviewers to request for changes by author.
func Select(o Owners, changes []Change, author string, cfg *Config, seed uint64) []string {
	author = repoowners.NormLogin(author)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	count := cfg.requestCount()
	chosen := draw(r, weights(changes, author, nil, func(f string) []string { return o.Reviewers(f).Set() }), count)
	if len(chosen) < count && !cfg.Blunderbuss.ExcludeApprovers {
		more := weights(changes, author, chosen, func(f string) []string { return o.Approvers(f).Set() })
		chosen = append(chosen, draw(r, more, count-len(chosen))...)
	}
	if m := cfg.Blunderbuss.MaxReviewerCount; m > 0 && len(chosen) > m {
		chosen = chosen[:m]
	}
	var required []string
	for _, c := range changes {
		for _, l := range o.RequiredReviewers(c.File) {
			if l != author && !slices.Contains(chosen, l) && !slices.Contains(required, l) {
				required = append(required, l)
			}
		}
	}
	slices.Sort(required)
	return append(chosen, required...)
}

// candidate is a login and its weight.
type candidate struct {
	login  string
	weight int
}

// weights sums, for each login of candidates(file), the lines of the files
// they cover; the author and those already chosen are left out.
func weights(changes []Change, author string, chosen []string, candidates func(file string) []string) []candidate {
	w := map[string]int{}
	for _, c := range changes {
		lines := max(c.Lines, 1)
		for _, l := range candidates(c.File) {
			if l != author && !slices.Contains(chosen, l) {
				w[l] += lines
			}
		}
	}
	out := make([]candidate, 0, len(w))
	for l, n := range w {
		out = append(out, candidate{l, n})
	}
	slices.SortFunc(out, func(a, b candidate) int { return strings.Compare(a.login, b.login) })
	return out
}

// draw picks up to n candidates without replacement, each with probability
// proportional to its weight.
func draw(r *rand.Rand, cands []candidate, n int) []string {
	var out []string
	for len(out) < n && len(cands) > 0 {
		total := 0
		for _, c := range cands {
			total += c.weight
		}
		x := r.IntN(total)
		for i, c := range cands {
			if x < c.weight {
				out = append(out, c.login)
				cands = slices.Delete(cands, i, i+1)
				break
			}
			x -= c.weight
		}
	}
	return out
}
