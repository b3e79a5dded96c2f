package configreview

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/configplan"
	"github.com/bowline-ci/bowline/automation/plugin"
)

// Marker starts the plan comment, hidden in GitHub's rendering: bowline
// finds its comment by it and edits that one.
const Marker = "<!-- bowline/config-plan -->"

// GitHub's limits: a status description keeps 140 characters, a check
// run's summary 65535, one request carries 50 annotations.
const (
	maxDescription     = 140
	maxSummary         = 65535
	annotationsPerCall = 50
	maxAnnotations     = 500
)

// commentBody is the plan comment: the marker, the plan and when it was
// made.
func commentBody(p *configplan.Plan, sha string, took time.Duration) string {
	return fmt.Sprintf("%s\n%s\n<sub>Planned by bowline for %s in %s; this comment is updated on every push.</sub>\n",
		Marker, p.Markdown(), short(sha), took.Round(10*time.Millisecond))
}

// poster writes a review's results to one pull request.
type poster struct {
	gh          *github.Client
	owner, repo string
	number      int
	bot         *plugin.Bot
	log         logr.Logger
}

// status sets the bowline/config status of a commit.
func (p *poster) status(ctx context.Context, sha, state, description, target string) error {
	st := github.RepoStatus{State: github.Ptr(state), Context: github.Ptr(Context), Description: github.Ptr(bound(description, maxDescription))}
	if target != "" {
		st.TargetURL = github.Ptr(target)
	}
	if _, _, err := p.gh.Repositories.CreateStatus(ctx, p.owner, p.repo, sha, st); err != nil {
		return fmt.Errorf("set the %s status of %s: %w", Context, short(sha), err)
	}
	return nil
}

// comment writes the plan comment: the one comment of bowline's that
// starts with Marker, edited in place. Two reviews that run at once (two
// replicas, a redelivery) may both create one; each then looks again, keeps
// the oldest, writes its body there and deletes the others, so that one
// remains.
func (p *poster) comment(ctx context.Context, body string) (*github.IssueComment, error) {
	mine, err := p.bot.Checker(ctx, p.gh.Users)
	if err != nil {
		// Without its own login bowline still finds its comment by the
		// marker.
		p.log.Info("Could not look up bowline's login; finding the plan comment by its marker alone", "error", err.Error())
	}
	ours, err := p.planComments(ctx, mine)
	if err != nil {
		return nil, err
	}
	if len(ours) == 0 {
		created, _, err := p.gh.Issues.CreateComment(ctx, p.owner, p.repo, p.number, &github.IssueComment{Body: github.Ptr(body)})
		if err != nil {
			return nil, fmt.Errorf("comment the plan on #%d: %w", p.number, err)
		}
		if ours, err = p.planComments(ctx, mine); err != nil {
			return nil, err
		}
		if len(ours) <= 1 {
			return created, nil
		}
	}
	keep := ours[0]
	if keep.GetBody() != body {
		edited, _, err := p.gh.Issues.EditComment(ctx, p.owner, p.repo, keep.GetID(), &github.IssueComment{Body: github.Ptr(body)})
		if err != nil {
			return nil, fmt.Errorf("edit the plan comment of #%d: %w", p.number, err)
		}
		keep = edited
	}
	for _, dup := range ours[1:] {
		resp, err := p.gh.Issues.DeleteComment(ctx, p.owner, p.repo, dup.GetID())
		if err != nil && (resp == nil || resp.StatusCode != http.StatusNotFound) {
			return nil, fmt.Errorf("delete a second plan comment of #%d: %w", p.number, err)
		}
	}
	return keep, nil
}

// planComments lists bowline's plan comments on the pull request, oldest
// first.
func (p *poster) planComments(ctx context.Context, mine func(string) bool) ([]*github.IssueComment, error) {
	var out []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		page, resp, err := p.gh.Issues.ListComments(ctx, p.owner, p.repo, p.number, opts)
		if err != nil {
			return nil, fmt.Errorf("list the comments of #%d: %w", p.number, err)
		}
		for _, c := range page {
			if strings.HasPrefix(c.GetBody(), Marker) && (mine == nil || mine(c.GetUser().GetLogin())) {
				out = append(out, c)
			}
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	slices.SortFunc(out, func(a, b *github.IssueComment) int { return int(a.GetID() - b.GetID()) })
	return out, nil
}

// checkRun writes the bowline/config check run of a commit: the plan as
// its summary, the errors and warnings as annotations of their lines. A
// commit planned again (a redelivery, a new base) updates its run without
// adding the annotations a second time.
func (p *poster) checkRun(ctx context.Context, sha string, plan *configplan.Plan, details string) error {
	conclusion := "success"
	if !plan.Valid {
		conclusion = "failure"
	}
	output := func(anns []*github.CheckRunAnnotation) *github.CheckRunOutput {
		return &github.CheckRunOutput{Title: github.Ptr(plan.Headline()), Summary: github.Ptr(bound(plan.Markdown(), maxSummary)), Annotations: anns}
	}
	var detailsURL *string
	if details != "" {
		detailsURL = github.Ptr(details)
	}
	runs, _, err := p.gh.Checks.ListCheckRunsForRef(ctx, p.owner, p.repo, sha, &github.ListCheckRunsOptions{CheckName: github.Ptr(Context)})
	if err != nil {
		return fmt.Errorf("list the check runs of %s: %w", short(sha), err)
	}
	if len(runs.CheckRuns) > 0 {
		_, _, err := p.gh.Checks.UpdateCheckRun(ctx, p.owner, p.repo, runs.CheckRuns[0].GetID(), github.UpdateCheckRunOptions{
			Name: Context, Status: github.Ptr("completed"), Conclusion: github.Ptr(conclusion), Output: output(nil), DetailsURL: detailsURL})
		if err != nil {
			return fmt.Errorf("update the check run of %s: %w", short(sha), err)
		}
		return nil
	}
	anns := annotations(plan)
	first := anns[:min(len(anns), annotationsPerCall)]
	run, _, err := p.gh.Checks.CreateCheckRun(ctx, p.owner, p.repo, github.CreateCheckRunOptions{
		Name: Context, HeadSHA: sha, Status: github.Ptr("completed"), Conclusion: github.Ptr(conclusion), Output: output(first), DetailsURL: detailsURL})
	if err != nil {
		return fmt.Errorf("create the check run of %s: %w", short(sha), err)
	}
	// GitHub takes 50 annotations a request, and appends those of updates.
	for i := len(first); i < len(anns); i += annotationsPerCall {
		chunk := anns[i:min(len(anns), i+annotationsPerCall)]
		if _, _, err := p.gh.Checks.UpdateCheckRun(ctx, p.owner, p.repo, run.GetID(), github.UpdateCheckRunOptions{Name: Context, Output: output(chunk)}); err != nil {
			return fmt.Errorf("annotate the check run of %s: %w", short(sha), err)
		}
	}
	return nil
}

// annotations are the plan's errors (failure) and new warnings (warning) that
// have a line, at most maxAnnotations.
func annotations(plan *configplan.Plan) []*github.CheckRunAnnotation {
	var out []*github.CheckRunAnnotation
	add := func(list []configplan.Problem, level string) {
		for _, e := range list {
			if e.File == "" || e.Line == 0 || len(out) == maxAnnotations {
				continue
			}
			a := &github.CheckRunAnnotation{Path: github.Ptr(e.File), StartLine: github.Ptr(e.Line), EndLine: github.Ptr(e.Line),
				AnnotationLevel: github.Ptr(level), Message: github.Ptr(e.Message), Title: github.Ptr(Context)}
			if e.Column > 0 {
				a.StartColumn, a.EndColumn = github.Ptr(e.Column), github.Ptr(e.Column)
			}
			out = append(out, a)
		}
	}
	add(plan.Errors, "failure")
	add(plan.NewWarnings(), "warning")
	return out
}

// bound cuts s to n characters.
func bound(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
