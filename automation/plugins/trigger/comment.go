package trigger

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/schema/jobs"
)

// Commands, each matched at the start of a line as Prow does.
var (
	testLineRe       = regexp.MustCompile(`(?m)^/test(?:[ \t]+(.*?))?[ \t]*\r?$`)
	retestRe         = regexp.MustCompile(`(?m)^/retest[ \t]*\r?$`)
	retestRequiredRe = regexp.MustCompile(`(?m)^/retest-required[ \t]*\r?$`)
	okToTestRe       = regexp.MustCompile(`(?m)^/ok-to-test[ \t]*\r?$`)
	okToTestCancelRe = regexp.MustCompile(`(?m)^/ok-to-test[ \t]+cancel[ \t]*\r?$`)
)

// commands is what one comment asks for.
type commands struct {
	list           bool     // /test ? or a bare /test
	all            bool     // /test all
	targets        []string // the words after /test
	retest         bool
	retestRequired bool
	okToTest       bool
	okToTestCancel bool
}

func parseCommands(body string) commands {
	var c commands
	for _, m := range testLineRe.FindAllStringSubmatch(body, -1) {
		for _, w := range strings.Fields(m[1]) {
			switch w {
			case "?":
				c.list = true
			case "all":
				c.all = true
			default:
				c.targets = append(c.targets, w)
			}
		}
		if strings.TrimSpace(m[1]) == "" {
			c.list = true
		}
	}
	c.retest = retestRe.MatchString(body)
	c.retestRequired = retestRequiredRe.MatchString(body)
	c.okToTest = okToTestRe.MatchString(body)
	c.okToTestCancel = okToTestCancelRe.MatchString(body)
	return c
}

func (c commands) any() bool {
	return c.list || c.all || len(c.targets) > 0 || c.retest || c.retestRequired || c.okToTest || c.okToTestCancel
}

// comment handles the commands in a new comment on an open pull request.
// As in Prow, anyone may /test and /retest a trusted pull request (its
// author is trusted, or it is labelled ok-to-test); on other pull requests
// only trusted users may. Only trusted users may say /ok-to-test and
// /ok-to-test cancel. Commands in fenced code blocks do not count.
func (h *handler) comment(ctx context.Context, c *plugin.Comment) error {
	if c.Action != plugin.CommentCreated || !c.IsPR || c.IssueState == "closed" || h.isBot(ctx, c.Author) {
		return nil
	}
	text := c.CommandText()
	cmds := parseCommands(text)
	if h.cfg.Trigger.IgnoreOkToTest {
		// Only trusted authors' pull requests are tested.
		cmds.okToTest, cmds.okToTestCancel = false, false
	}
	custom := h.customTriggers(text)
	if !cmds.any() && len(custom) == 0 {
		return nil
	}
	pr, _, err := h.gh.PullRequests.Get(ctx, h.org, h.repo, c.Number)
	if err != nil {
		return fmt.Errorf("get pull request #%d: %w", c.Number, err)
	}
	if pr.GetState() == "closed" {
		return nil
	}
	trusted, err := h.trustedUser(ctx, c.Author)
	if err != nil {
		return err
	}
	if !trusted {
		prTrusted, err := h.trustedPR(ctx, pr)
		if err != nil {
			return err
		}
		if !prTrusted {
			return h.reply(ctx, pr.GetNumber(), h.untrustedReply(c.Author))
		}
	}
	if cmds.okToTestCancel {
		return h.okToTestCancel(ctx, pr, c.Author, trusted)
	}
	if cmds.okToTest {
		// On a pull request that is trusted already, an untrusted user's
		// /ok-to-test only runs the automatic jobs, as Prow's does; it
		// never labels anything.
		if trusted {
			if err := h.markOkToTest(ctx, pr); err != nil {
				return err
			}
		}
		if !pr.GetDraft() {
			cmds.all = true
		}
	}
	if h.cfg.InRepo != nil {
		if err := h.addInRepo(ctx, pr); err != nil {
			return err
		}
		custom = h.customTriggers(text)
	}
	return h.runCommands(ctx, pr, c.Author, cmds, custom)
}

// untrustedReply answers a command from an untrusted user on a pull request
// that is not trusted either.
func (h *handler) untrustedReply(by string) string {
	if h.cfg.Trigger.IgnoreOkToTest {
		return fmt.Sprintf("@%s: pull requests from untrusted authors cannot be marked trusted with `/ok-to-test` in this repository: "+
			"their tests are started by members of the %s organization with `/test`.", by, h.org)
	}
	return fmt.Sprintf("@%s: tests cannot be started until a trusted user has checked this pull request and commented `/ok-to-test`.", by)
}

// customTriggers lists the presubmits whose own trigger (not the default
// /test <name>) matches the comment.
func (h *handler) customTriggers(body string) []*jobs.Presubmit {
	var out []*jobs.Presubmit
	for i := range h.cfg.Presubmits {
		ps := &h.cfg.Presubmits[i]
		if ps.Trigger != "" && ps.Trigger != jobs.DefaultTriggerFor(ps.Name) && h.matches(ps.Trigger, body) {
			out = append(out, ps)
		}
	}
	return out
}

// triggerOf returns a presubmit's trigger, defaulted as Prow does.
func triggerOf(ps *jobs.Presubmit) string {
	if ps.Trigger != "" {
		return ps.Trigger
	}
	return jobs.DefaultTriggerFor(ps.Name)
}

// matches reports whether a trigger matches text. Compiled triggers are
// kept, since every comment is matched against every job of its
// repository; an invalid trigger (config validation reports it) matches
// nothing.
func (h *handler) matches(pattern, text string) bool {
	if re, ok := h.triggers.Load(pattern); ok {
		return re.(*regexp.Regexp) != nil && re.(*regexp.Regexp).MatchString(text)
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		re = nil
	}
	h.triggers.Store(pattern, re)
	return re != nil && re.MatchString(text)
}

// runCommands starts the jobs that /test, /retest and /retest-required
// ask for.
func (h *handler) runCommands(ctx context.Context, pr *github.PullRequest, by string, cmds commands, custom []*jobs.Presubmit) error {
	branch := pr.GetBase().GetRef()
	candidates := h.presubmitsFor(branch)
	if cmds.list {
		if err := h.reply(ctx, pr.GetNumber(), h.listMessage(by, pr, candidates)); err != nil {
			return err
		}
	}
	var toRun []*jobs.Presubmit
	if cmds.all {
		auto, err := h.automatic(ctx, pr)
		if err != nil {
			return err
		}
		toRun = append(toRun, auto...)
	}
	// Named jobs run whatever their filters say: asking is enough.
	var unknown []string
	for _, t := range cmds.targets {
		line := "/test " + t
		found := false
		for _, ps := range candidates {
			if h.matches(triggerOf(ps), line) {
				toRun = append(toRun, ps)
				found = true
			}
		}
		if !found {
			unknown = append(unknown, t)
		}
	}
	for _, ps := range custom {
		if slices.Contains(candidates, ps) {
			toRun = append(toRun, ps)
		}
	}
	retest := cmds.retest || cmds.retestRequired
	if retest {
		failed, reported, err := h.contexts(ctx, pr.GetHead().GetSHA())
		if err != nil {
			return err
		}
		for _, ps := range candidates {
			ctxName := contextOf(ps)
			switch {
			case failed[ctxName] && (cmds.retest || !ps.Optional):
				toRun = append(toRun, ps)
			case cmds.retest && !reported[ctxName]:
				run, err := h.runsAutomatically(ctx, ps, pr.GetNumber())
				if err != nil {
					return err
				}
				if run {
					toRun = append(toRun, ps)
				}
			}
		}
	}
	if len(unknown) > 0 {
		msg := fmt.Sprintf("@%s: no job on branch %s answers to `/test %s`.\n\n%s", by, branch, strings.Join(unknown, " "), availableJobs(candidates))
		if err := h.reply(ctx, pr.GetNumber(), msg); err != nil {
			return err
		}
	}
	return h.start(ctx, pr, toRun, by, retest && len(cmds.targets) == 0 && !cmds.all)
}

func contextOf(ps *jobs.Presubmit) string {
	if ps.Context != "" {
		return ps.Context
	}
	return ps.Name
}

// contexts reads the commit's statuses: the contexts that failed (failure or
// error) and every context reported.
func (h *handler) contexts(ctx context.Context, sha string) (failed, reported map[string]bool, err error) {
	failed, reported = map[string]bool{}, map[string]bool{}
	opts := &github.ListOptions{PerPage: 100}
	for {
		cs, resp, err := h.gh.Repositories.GetCombinedStatus(ctx, h.org, h.repo, sha, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("get statuses of %s: %w", sha, err)
		}
		for _, s := range cs.Statuses {
			reported[s.GetContext()] = true
			if st := s.GetState(); st == "failure" || st == "error" {
				failed[s.GetContext()] = true
			}
		}
		if resp == nil || resp.NextPage == 0 {
			return failed, reported, nil
		}
		opts.Page = resp.NextPage
	}
}

// listMessage answers /test ?.
func (h *handler) listMessage(by string, pr *github.PullRequest, candidates []*jobs.Presubmit) string {
	return fmt.Sprintf("@%s: these jobs can run on this pull request (branch %s):\n\n%s", by, pr.GetBase().GetRef(), availableJobs(candidates))
}

// availableJobs lists jobs by their rerun command: required ones first,
// then optional ones, noting which run automatically.
func availableJobs(candidates []*jobs.Presubmit) string {
	if len(candidates) == 0 {
		return "No jobs are configured for this branch."
	}
	var required, optional []string
	for _, ps := range candidates {
		cmd := ps.RerunCommand
		if cmd == "" {
			cmd = jobs.DefaultRerunCommandFor(ps.Name)
		}
		line := fmt.Sprintf("- `%s`", cmd)
		switch {
		case ps.AlwaysRun:
			line += " (runs automatically)"
		case ps.RunIfChanged != "" || ps.SkipIfOnlyChanged != "":
			line += " (runs automatically when matching files change)"
		}
		if ps.Optional {
			optional = append(optional, line)
		} else {
			required = append(required, line)
		}
	}
	var b strings.Builder
	if len(required) > 0 {
		b.WriteString("Required jobs:\n" + strings.Join(required, "\n") + "\n\n")
	}
	if len(optional) > 0 {
		b.WriteString("Optional jobs:\n" + strings.Join(optional, "\n") + "\n\n")
	}
	b.WriteString("Use `/test all` to run every job that applies to the changed files.")
	return b.String()
}

// markOkToTest swaps needs-ok-to-test for ok-to-test.
func (h *handler) markOkToTest(ctx context.Context, pr *github.PullRequest) error {
	if hasLabel(pr.Labels, NeedsOkToTestLabel) {
		if err := h.removeLabel(ctx, pr.GetNumber(), NeedsOkToTestLabel); err != nil {
			return err
		}
	}
	if !hasLabel(pr.Labels, OkToTestLabel) {
		if _, _, err := h.gh.Issues.AddLabelsToIssue(ctx, h.org, h.repo, pr.GetNumber(), []string{OkToTestLabel}); err != nil {
			return fmt.Errorf("label #%d %s: %w", pr.GetNumber(), OkToTestLabel, err)
		}
	}
	return nil
}

// okToTestCancel withdraws /ok-to-test: the pull request of an untrusted
// author waits for /ok-to-test again. Runs already started continue.
func (h *handler) okToTestCancel(ctx context.Context, pr *github.PullRequest, by string, trusted bool) error {
	if !trusted {
		return h.reply(ctx, pr.GetNumber(), fmt.Sprintf("@%s: only trusted users may withdraw `/ok-to-test`.", by))
	}
	if hasLabel(pr.Labels, OkToTestLabel) {
		if err := h.removeLabel(ctx, pr.GetNumber(), OkToTestLabel); err != nil {
			return err
		}
	}
	authorTrusted, err := h.trustedUser(ctx, pr.GetUser().GetLogin())
	if err != nil || authorTrusted || hasLabel(pr.Labels, NeedsOkToTestLabel) {
		return err
	}
	if _, _, err := h.gh.Issues.AddLabelsToIssue(ctx, h.org, h.repo, pr.GetNumber(), []string{NeedsOkToTestLabel}); err != nil {
		return fmt.Errorf("label #%d %s: %w", pr.GetNumber(), NeedsOkToTestLabel, err)
	}
	return nil
}
