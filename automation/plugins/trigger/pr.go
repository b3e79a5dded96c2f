package trigger

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v89/github"
)

// pullRequest handles pull_request events.
func (h *handler) pullRequest(ctx context.Context, ev *github.PullRequestEvent) error {
	pr := ev.GetPullRequest()
	switch ev.GetAction() {
	case "opened", "reopened":
		return h.prOpened(ctx, pr)
	case "synchronize", "ready_for_review":
		return h.prUpdated(ctx, pr)
	case "edited":
		// A changed base branch changes which jobs apply and what they
		// test against.
		if ev.GetChanges().GetBase() == nil {
			return nil
		}
		return h.prUpdated(ctx, pr)
	case "labeled":
		return h.prLabeled(ctx, ev)
	case "closed":
		return h.abortPR(ctx, pr.GetNumber(), "", "Aborted: the pull request was closed.")
	case "converted_to_draft":
		return h.abortPR(ctx, pr.GetNumber(), "", "Aborted: the pull request was converted to a draft.")
	}
	return nil
}

// prOpened runs the automatic jobs of a trusted author's pull request, or
// asks for /ok-to-test.
func (h *handler) prOpened(ctx context.Context, pr *github.PullRequest) error {
	author := pr.GetUser().GetLogin()
	trusted, err := h.trustedUser(ctx, author)
	if err != nil {
		return err
	}
	if trusted {
		if pr.GetDraft() {
			return nil
		}
		return h.runAutomatic(ctx, pr, author, false)
	}
	if hasLabel(pr.Labels, OkToTestLabel) {
		if pr.GetDraft() {
			return nil
		}
		return h.runAutomatic(ctx, pr, author, false)
	}
	if hasLabel(pr.Labels, NeedsOkToTestLabel) {
		// Reopened, and already waiting for /ok-to-test.
		return nil
	}
	if _, _, err := h.gh.Issues.AddLabelsToIssue(ctx, h.org, h.repo, pr.GetNumber(), []string{NeedsOkToTestLabel}); err != nil {
		return fmt.Errorf("label #%d %s: %w", pr.GetNumber(), NeedsOkToTestLabel, err)
	}
	if err := h.reply(ctx, pr.GetNumber(), h.needsOkToTestMessage(author)); err != nil {
		return err
	}
	h.log.Info("Pull request needs /ok-to-test", "pull", pr.GetNumber(), "author", author)
	return nil
}

// prUpdated runs the automatic jobs again after a push, a base change or
// leaving draft.
func (h *handler) prUpdated(ctx context.Context, pr *github.PullRequest) error {
	if pr.GetDraft() || pr.GetState() == "closed" {
		return nil
	}
	trusted, err := h.trustedPR(ctx, pr)
	if err != nil || !trusted {
		return err
	}
	return h.runAutomatic(ctx, pr, pr.GetUser().GetLogin(), false)
}

// prLabeled handles labels that start tests, as Prow does:
//   - lgtm applied by a trusted user to a pull request still waiting for
//     /ok-to-test runs one round of tests;
//   - ok-to-test applied by a person (GitHub lets only those with triage
//     access label) marks the pull request trusted: needs-ok-to-test goes
//     and the automatic jobs run. The label bowline adds itself for an
//     /ok-to-test comment is skipped: the comment started the jobs.
func (h *handler) prLabeled(ctx context.Context, ev *github.PullRequestEvent) error {
	pr := ev.GetPullRequest()
	sender := ev.GetSender().GetLogin()
	switch {
	case pr.GetDraft() || pr.GetState() == "closed":
		return nil
	case strings.EqualFold(ev.GetLabel().GetName(), OkToTestLabel):
		if h.isBot(ctx, sender) {
			return nil
		}
		if hasLabel(pr.Labels, NeedsOkToTestLabel) {
			if err := h.removeLabel(ctx, pr.GetNumber(), NeedsOkToTestLabel); err != nil {
				return err
			}
		}
		return h.runAutomatic(ctx, pr, sender, false)
	case ev.GetLabel().GetName() == "lgtm" && hasLabel(pr.Labels, NeedsOkToTestLabel):
		trusted, err := h.trustedUser(ctx, sender)
		if err != nil || !trusted {
			return err
		}
		return h.runAutomatic(ctx, pr, sender, false)
	}
	return nil
}

// reply comments on an issue or pull request.
func (h *handler) reply(ctx context.Context, number int, body string) error {
	if _, _, err := h.gh.Issues.CreateComment(ctx, h.org, h.repo, number, &github.IssueComment{Body: &body}); err != nil {
		return fmt.Errorf("comment on #%d: %w", number, err)
	}
	return nil
}

// removeLabel removes a label, ignoring that it is already gone.
func (h *handler) removeLabel(ctx context.Context, number int, label string) error {
	resp, err := h.gh.Issues.RemoveLabelForIssue(ctx, h.org, h.repo, number, label)
	if err != nil && (resp == nil || resp.StatusCode != http.StatusNotFound) {
		return fmt.Errorf("remove label %s from #%d: %w", label, number, err)
	}
	return nil
}
