package plugin_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/bowline-ci/bowline/automation/plugin"
)

type fake struct {
	name   string
	events []string
}

func (f fake) Name() string                                             { return f.name }
func (f fake) Events() []string                                         { return f.events }
func (f fake) Help() plugin.Help                                        { return plugin.Help{Description: f.name} }
func (f fake) Handle(context.Context, logr.Logger, *plugin.Event) error { return nil }

type enablement map[string][]string

func (e enablement) EnabledPlugins(org, repo string) []string {
	return append(append([]string{}, e[org]...), e[org+"/"+repo]...)
}

func TestSet(t *testing.T) {
	a := fake{"a", []string{"push", plugin.GenericComment}}
	b := fake{"b", []string{"pull_request"}}
	c := fake{"c", []string{"push"}}
	set, err := plugin.NewSet(a, b, c)
	if err != nil {
		t.Fatal(err)
	}
	en := enablement{"acme": {"a", "b"}, "acme/special": {"c"}}
	tests := []struct {
		org, repo, event string
		want             []string
	}{
		{"acme", "widgets", "push", []string{"a"}},
		{"acme", "special", "push", []string{"a", "c"}},
		{"acme", "widgets", "pull_request", []string{"b"}},
		{"acme", "widgets", plugin.GenericComment, []string{"a"}},
		{"other", "x", "push", nil},
	}
	for _, tc := range tests {
		var got []string
		for _, p := range set.For(en, tc.org, tc.repo, tc.event) {
			got = append(got, p.Name())
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("For(%s/%s, %s) = %v, want %v", tc.org, tc.repo, tc.event, got, tc.want)
		}
	}
	if got := set.For(nil, "acme", "widgets", "push"); got != nil {
		t.Errorf("nil enablement enabled %v", got)
	}
	for _, bad := range [][]plugin.Plugin{{a, a}, {fake{"", []string{"push"}}}, {fake{"x", nil}}, {nil}} {
		if _, err := plugin.NewSet(bad...); err == nil {
			t.Errorf("NewSet(%v) accepted", bad)
		}
	}
	idx := set.HelpIndex(en)
	if len(idx.Plugins) != 3 || len(idx.Plugins["a"].Events) != 2 {
		t.Errorf("help index %+v", idx)
	}
}

func TestDecodeComments(t *testing.T) {
	s := github.Ptr[string]
	repo := &github.Repository{FullName: s("acme/widgets"), Name: s("widgets"), Owner: &github.User{Login: s("acme")}}
	user := &github.User{Login: s("alice")}
	pr := &github.PullRequest{Number: github.Ptr(7), User: &github.User{Login: s("bob")}, State: s("open"), Body: s("/test all")}
	tests := []struct {
		name    string
		payload any
		want    *plugin.Comment // nil: no generic comment
	}{
		{"issue comment on a PR", &github.IssueCommentEvent{Action: s("created"), Repo: repo,
			Issue:   &github.Issue{Number: github.Ptr(7), State: s("open"), User: &github.User{Login: s("bob")}, PullRequestLinks: &github.PullRequestLinks{}},
			Comment: &github.IssueComment{Body: s("/retest"), User: user}},
			&plugin.Comment{Action: "created", Body: "/retest", Author: "alice", Number: 7, IsPR: true, IssueAuthor: "bob", IssueState: "open"}},
		{"issue comment on an issue", &github.IssueCommentEvent{Action: s("edited"), Repo: repo,
			Issue:   &github.Issue{Number: github.Ptr(3), State: s("open"), User: user},
			Comment: &github.IssueComment{Body: s("hi"), User: user}},
			&plugin.Comment{Action: "edited", Body: "hi", Author: "alice", Number: 3, IssueAuthor: "alice", IssueState: "open"}},
		{"review submitted", &github.PullRequestReviewEvent{Action: s("submitted"), Repo: repo, PullRequest: pr,
			Review: &github.PullRequestReview{Body: s("/lgtm"), User: user}},
			&plugin.Comment{Action: "created", Body: "/lgtm", Author: "alice", Number: 7, IsPR: true, IssueAuthor: "bob", IssueState: "open"}},
		{"review without a body", &github.PullRequestReviewEvent{Action: s("submitted"), Repo: repo, PullRequest: pr,
			Review: &github.PullRequestReview{User: user}}, nil},
		{"PR opened with a body", &github.PullRequestEvent{Action: s("opened"), Repo: repo, PullRequest: pr},
			&plugin.Comment{Action: "created", Body: "/test all", Author: "bob", Number: 7, IsPR: true, IssueAuthor: "bob", IssueState: "open"}},
		{"PR synchronized", &github.PullRequestEvent{Action: s("synchronize"), Repo: repo, PullRequest: pr}, nil},
		{"push", &github.PushEvent{Repo: &github.PushEventRepository{FullName: s("acme/widgets")}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := plugin.Decode("x", "d-1", tc.payload)
			if d.Event.Org != "acme" || d.Event.Repo != "widgets" || d.Event.DeliveryID != "d-1" {
				t.Errorf("event %+v", d.Event)
			}
			if (d.Comment == nil) != (tc.want == nil) {
				t.Fatalf("comment %+v, want %+v", d.Comment, tc.want)
			}
			if tc.want != nil {
				// Decode keeps the comment as written in RawBody.
				tc.want.RawBody = tc.want.Body
			}
			if tc.want != nil && *d.Comment.Comment != *tc.want {
				t.Errorf("comment %+v, want %+v", *d.Comment.Comment, *tc.want)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	ghErr := func(code int) error {
		return &github.ErrorResponse{Response: &http.Response{StatusCode: code, Request: &http.Request{}}}
	}
	gr := schema.GroupResource{Group: "bowline.dev", Resource: "prowjobs"}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"plain", errors.New("connection reset"), true},
		{"permanent", plugin.Permanent(errors.New("x")), false},
		{"wrapped permanent", fmt.Errorf("ctx: %w", plugin.Permanent(errors.New("x"))), false},
		{"canceled", context.Canceled, false},
		{"GitHub 502", ghErr(502), true},
		{"GitHub 404", ghErr(404), false},
		{"GitHub 422", ghErr(422), false},
		{"GitHub 429", ghErr(429), true},
		{"rate limit", &github.RateLimitError{Response: &http.Response{Request: &http.Request{}}}, true},
		{"API server conflict", apierrors.NewConflict(gr, "x", errors.New("changed")), true},
		{"API server invalid", apierrors.NewInvalid(schema.GroupKind{Kind: "ProwJob"}, "x", nil), false},
		{"API server forbidden", apierrors.NewForbidden(gr, "x", errors.New("no")), false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		if got := plugin.Retryable(tc.err); got != tc.want {
			t.Errorf("%s: Retryable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestDecodeStripsCodeBlocks: every plugin matches commands against Body,
// from which Decode drops fenced code blocks; RawBody keeps the comment.
func TestDecodeStripsCodeBlocks(t *testing.T) {
	body := "Try:\n```\n/hold\n```\n/lgtm\n"
	d := plugin.Decode("issue_comment", "d", &github.IssueCommentEvent{Action: github.Ptr("created"),
		Comment: &github.IssueComment{Body: github.Ptr(body)}, Issue: &github.Issue{Number: github.Ptr(1)}})
	if c := d.Comment.Comment; c.Body != "Try:\n/lgtm\n" || c.RawBody != body {
		t.Errorf("Body %q, RawBody %q", c.Body, c.RawBody)
	}
}
