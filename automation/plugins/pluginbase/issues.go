package pluginbase

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v89/github"

	ghclient "github.com/bowline-ci/bowline/scm/github"
)

// perPage is the largest page GitHub serves.
const perPage = 100

// IssueLabels lists the labels on an issue or pull request.
func (e *Env) IssueLabels(ctx context.Context, number int) ([]string, error) {
	var out []string
	opts := &github.ListOptions{PerPage: perPage}
	for {
		page, resp, err := e.GitHub.Issues.ListLabelsByIssue(ctx, e.Org, e.Repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list labels of %s#%d: %w", e.FullName(), number, err)
		}
		for _, l := range page {
			out = append(out, l.GetName())
		}
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// RepoLabels lists the labels a repository has.
func (e *Env) RepoLabels(ctx context.Context) ([]string, error) {
	var out []string
	opts := &github.ListOptions{PerPage: perPage}
	for {
		page, resp, err := e.GitHub.Issues.ListLabels(ctx, e.Org, e.Repo, opts)
		if err != nil {
			return nil, fmt.Errorf("list labels of %s: %w", e.FullName(), err)
		}
		for _, l := range page {
			out = append(out, l.GetName())
		}
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// HasLabel reports whether labels holds name; GitHub's label names are
// case-insensitive.
func HasLabel(labels []string, name string) bool {
	for _, l := range labels {
		if strings.EqualFold(l, name) {
			return true
		}
	}
	return false
}

// AddLabel adds a label to an issue or pull request. GitHub creates a label
// the repository does not have yet, as it does for Prow.
func (e *Env) AddLabel(ctx context.Context, number int, name string) error {
	if _, _, err := e.GitHub.Issues.AddLabelsToIssue(ctx, e.Org, e.Repo, number, []string{name}); err != nil {
		return fmt.Errorf("add label %q to %s#%d: %w", name, e.FullName(), number, err)
	}
	e.Log.Info("Added label", "number", number, "label", name)
	return nil
}

// RemoveLabel removes a label from an issue or pull request; a label that
// is not there (any more) is not an error.
func (e *Env) RemoveLabel(ctx context.Context, number int, name string) error {
	_, err := e.GitHub.Issues.RemoveLabelForIssue(ctx, e.Org, e.Repo, number, name)
	if err != nil && !ghclient.IsNotFound(err) {
		return fmt.Errorf("remove label %q from %s#%d: %w", name, e.FullName(), number, err)
	}
	e.Log.Info("Removed label", "number", number, "label", name)
	return nil
}

// Comment comments on an issue or pull request.
func (e *Env) Comment(ctx context.Context, number int, body string) error {
	if _, _, err := e.GitHub.Issues.CreateComment(ctx, e.Org, e.Repo, number, &github.IssueComment{Body: &body}); err != nil {
		return fmt.Errorf("comment on %s#%d: %w", e.FullName(), number, err)
	}
	return nil
}

// Comments lists the comments on an issue or pull request, oldest first.
func (e *Env) Comments(ctx context.Context, number int) ([]*github.IssueComment, error) {
	var out []*github.IssueComment
	opts := &github.IssueListCommentsOptions{ListOptions: github.ListOptions{PerPage: perPage}}
	for {
		page, resp, err := e.GitHub.Issues.ListComments(ctx, e.Org, e.Repo, number, opts)
		if err != nil {
			return nil, fmt.Errorf("list comments of %s#%d: %w", e.FullName(), number, err)
		}
		out = append(out, page...)
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// PruneComments deletes bowline's own comments on an issue or pull request
// whose body satisfies match, as Prow's comment pruner does: a plugin that
// explained a problem removes its explanation once the problem is gone.
func (e *Env) PruneComments(ctx context.Context, number int, match func(body string) bool) error {
	isBot, err := e.IsBot(ctx)
	if err != nil {
		return err
	}
	comments, err := e.Comments(ctx, number)
	if err != nil {
		return err
	}
	for _, c := range comments {
		if !isBot(c.GetUser().GetLogin()) || !match(c.GetBody()) {
			continue
		}
		if _, err := e.GitHub.Issues.DeleteComment(ctx, e.Org, e.Repo, c.GetID()); err != nil && !ghclient.IsNotFound(err) {
			return fmt.Errorf("delete comment %d on %s#%d: %w", c.GetID(), e.FullName(), number, err)
		}
	}
	return nil
}

// FindBotComment returns bowline's newest comment on an issue or pull
// request whose body satisfies match, or nil.
func (e *Env) FindBotComment(ctx context.Context, number int, match func(body string) bool) (*github.IssueComment, error) {
	isBot, err := e.IsBot(ctx)
	if err != nil {
		return nil, err
	}
	comments, err := e.Comments(ctx, number)
	if err != nil {
		return nil, err
	}
	for i := len(comments) - 1; i >= 0; i-- {
		if c := comments[i]; isBot(c.GetUser().GetLogin()) && match(c.GetBody()) {
			return c, nil
		}
	}
	return nil, nil
}
