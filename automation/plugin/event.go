package plugin

import (
	"strings"

	"github.com/google/go-github/v89/github"
)

// GenericComment is the event type of a comment of any kind: an issue or
// pull request comment, a review, a review comment, or the body of a newly
// opened issue or pull request. Plugins that understand slash commands
// handle it rather than each GitHub event that carries text.
const GenericComment = "generic_comment"

// Comment actions of a GenericComment.
const (
	CommentCreated = "created"
	CommentEdited  = "edited"
	CommentDeleted = "deleted"
)

// Event is one GitHub event as plugins receive it.
type Event struct {
	// Type is GitHub's event name (X-GitHub-Event) or GenericComment.
	Type string
	// DeliveryID is GitHub's X-GitHub-Delivery of the webhook; it is the
	// same when GitHub redelivers, so plugins can use it to make their side
	// effects idempotent.
	DeliveryID string
	// Org and Repo are the repository the event is about; Repo is empty for
	// organization-level events.
	Org, Repo string
	// Payload is the go-github event (*github.PullRequestEvent,
	// *github.PushEvent, …); nil for GenericComment.
	Payload any
	// Comment is set for GenericComment events.
	Comment *Comment
}

// Comment is the text-bearing part of a GenericComment event.
type Comment struct {
	// Action is CommentCreated, CommentEdited or CommentDeleted.
	Action string
	// Body is the text in which slash commands count: the comment without
	// its fenced code blocks, cut to MaxCommandTextBytes (CommandText), so
	// that every plugin matching commands against it ignores a command
	// shown as an example, as Prow's trigger does.
	Body string
	// RawBody is the text as written, for plugins that read more than
	// commands.
	RawBody string
	// Author is the login of who wrote the text.
	Author string
	// HTMLURL links to the comment.
	HTMLURL string
	// Number is the issue or pull request number.
	Number int
	// IsPR is true for pull requests.
	IsPR bool
	// IssueAuthor is the login of the issue's or pull request's author.
	IssueAuthor string
	// IssueState is "open" or "closed".
	IssueState string
}

// Decoded is a parsed webhook: the event itself and, for events that carry
// text, the derived GenericComment.
type Decoded struct {
	Event   *Event
	Comment *Event
}

// Decode turns a parsed go-github event into plugin events.
func Decode(eventType, deliveryID string, payload any) Decoded {
	ev := &Event{Type: eventType, DeliveryID: deliveryID, Payload: payload}
	ev.Org, ev.Repo = RepoOf(payload)
	d := Decoded{Event: ev}
	if c := commentOf(payload); c != nil {
		c.RawBody = c.Body
		c.Body = CommandText(c.RawBody)
		d.Comment = &Event{Type: GenericComment, DeliveryID: deliveryID, Org: ev.Org, Repo: ev.Repo, Comment: c}
	}
	return d
}

// RepoOf returns the org and repository an event is about.
func RepoOf(payload any) (org, repo string) {
	switch p := payload.(type) {
	case *github.PushEvent:
		return splitFullName(p.GetRepo().GetFullName(), p.GetRepo().GetOwner().GetLogin(), p.GetRepo().GetName())
	case interface{ GetRepo() *github.Repository }:
		if r := p.GetRepo(); r != nil {
			return splitFullName(r.GetFullName(), r.GetOwner().GetLogin(), r.GetName())
		}
	}
	if p, ok := payload.(interface{ GetOrg() *github.Organization }); ok && p.GetOrg() != nil {
		return p.GetOrg().GetLogin(), ""
	}
	return "", ""
}

func splitFullName(full, owner, name string) (string, string) {
	if o, r, ok := strings.Cut(full, "/"); ok {
		return o, r
	}
	return owner, name
}

// commentOf derives the GenericComment of events that carry text, as Prow
// does: comments, reviews, review comments, and the bodies of newly opened
// issues and pull requests.
func commentOf(payload any) *Comment {
	switch p := payload.(type) {
	case *github.IssueCommentEvent:
		action := p.GetAction()
		if action != CommentCreated && action != CommentEdited && action != CommentDeleted {
			return nil
		}
		return &Comment{
			Action: action, Body: p.GetComment().GetBody(), Author: p.GetComment().GetUser().GetLogin(),
			HTMLURL: p.GetComment().GetHTMLURL(), Number: p.GetIssue().GetNumber(),
			IsPR: p.GetIssue().IsPullRequest(), IssueAuthor: p.GetIssue().GetUser().GetLogin(),
			IssueState: p.GetIssue().GetState(),
		}
	case *github.PullRequestReviewEvent:
		action := map[string]string{"submitted": CommentCreated, "edited": CommentEdited, "dismissed": CommentDeleted}[p.GetAction()]
		if action == "" || p.GetReview().GetBody() == "" {
			return nil
		}
		return &Comment{
			Action: action, Body: p.GetReview().GetBody(), Author: p.GetReview().GetUser().GetLogin(),
			HTMLURL: p.GetReview().GetHTMLURL(), Number: p.GetPullRequest().GetNumber(), IsPR: true,
			IssueAuthor: p.GetPullRequest().GetUser().GetLogin(), IssueState: p.GetPullRequest().GetState(),
		}
	case *github.PullRequestReviewCommentEvent:
		action := p.GetAction()
		if action != CommentCreated && action != CommentEdited && action != CommentDeleted {
			return nil
		}
		return &Comment{
			Action: action, Body: p.GetComment().GetBody(), Author: p.GetComment().GetUser().GetLogin(),
			HTMLURL: p.GetComment().GetHTMLURL(), Number: p.GetPullRequest().GetNumber(), IsPR: true,
			IssueAuthor: p.GetPullRequest().GetUser().GetLogin(), IssueState: p.GetPullRequest().GetState(),
		}
	case *github.IssuesEvent:
		if p.GetAction() != "opened" || p.GetIssue().GetBody() == "" {
			return nil
		}
		return &Comment{
			Action: CommentCreated, Body: p.GetIssue().GetBody(), Author: p.GetIssue().GetUser().GetLogin(),
			HTMLURL: p.GetIssue().GetHTMLURL(), Number: p.GetIssue().GetNumber(), IsPR: p.GetIssue().IsPullRequest(),
			IssueAuthor: p.GetIssue().GetUser().GetLogin(), IssueState: p.GetIssue().GetState(),
		}
	case *github.PullRequestEvent:
		if p.GetAction() != "opened" || p.GetPullRequest().GetBody() == "" {
			return nil
		}
		return &Comment{
			Action: CommentCreated, Body: p.GetPullRequest().GetBody(), Author: p.GetPullRequest().GetUser().GetLogin(),
			HTMLURL: p.GetPullRequest().GetHTMLURL(), Number: p.GetPullRequest().GetNumber(), IsPR: true,
			IssueAuthor: p.GetPullRequest().GetUser().GetLogin(), IssueState: p.GetPullRequest().GetState(),
		}
	}
	return nil
}
