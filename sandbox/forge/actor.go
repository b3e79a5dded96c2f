package forge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/gitstore"
)

// Actor does what a user does on GitHub, from Go: tests and demos use it to
// open pull requests, comment, review, push and merge as anyone. Calls go
// through the same API handlers as HTTP requests (in-process, without a
// token), so GitHub's permission rules apply and the same webhooks are sent.
type Actor struct {
	f     *Forge
	login string
}

// As returns an Actor for an existing user.
func (f *Forge) As(login string) *Actor { return &Actor{f: f, login: login} }

// Login is the user the Actor acts as.
func (a *Actor) Login() string { return a.login }

// Error is an API error answer.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Message is GitHub's message.
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

// Do sends one API request as the actor: body is marshalled to JSON, and
// a 2xx answer is unmarshalled into out (when not nil). Other answers are
// returned as *Error.
func (a *Actor) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://forge.internal"+path, rd)
	if err != nil {
		return err
	}
	a.f.mu.RLock()
	u := a.f.st.user(a.login)
	a.f.mu.RUnlock()
	if u == nil {
		return &Error{Status: http.StatusUnauthorized, Message: "no such user: " + a.login}
	}
	rec := &bufferedWriter{header: http.Header{}}
	a.f.serveAPI(rec, req, &principal{login: u.Login})
	if rec.code == 0 {
		rec.code = http.StatusOK
	}
	if rec.code >= 300 {
		var ae apiError
		_ = json.Unmarshal(rec.body.Bytes(), &ae)
		return &Error{Status: rec.code, Message: ae.Message}
	}
	if out != nil && rec.body.Len() > 0 {
		return json.Unmarshal(rec.body.Bytes(), out)
	}
	return nil
}

func repoPath(repo string, parts ...string) string {
	owner, name, _ := strings.Cut(repo, "/")
	p := "/repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name)
	for _, s := range parts {
		p += "/" + s
	}
	return p
}

// Push commits files (a nil value deletes the path) to branch of repo
// ("owner/name") and reports it as pushed by the actor, with the push and
// synchronize events GitHub sends. A new branch starts at the default
// branch. Like a push from a fork, it needs no write access.
func (a *Actor) Push(ctx context.Context, repo, branch string, files map[string][]byte, message string) (string, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok {
		return "", fmt.Errorf("repository %q is not owner/name", repo)
	}
	var sig gitstore.Signature
	found, defaultBranch := false, ""
	a.f.mu.RLock()
	if rp := a.f.st.repo(owner, name); rp != nil {
		found, defaultBranch = true, rp.DefaultBranch
		owner, name = rp.Owner, rp.Name
		sig = (&tx{state: a.f.st, now: a.f.now().UTC()}).signature(a.login)
	}
	a.f.mu.RUnlock()
	if !found {
		return "", &Error{Status: http.StatusNotFound, Message: "no repository " + repo}
	}
	old, err := a.f.git.ResolveRef(ctx, owner, name, "refs/heads/"+branch)
	parent := old
	if err != nil {
		if !errors.Is(err, gitstore.ErrNotFound) {
			return "", err
		}
		old = ""
		parent, _ = a.f.git.ResolveRef(ctx, owner, name, "refs/heads/"+defaultBranch)
	}
	sha, err := a.f.git.CommitFiles(ctx, owner, name, branch, parent, files, message, sig)
	if err != nil {
		return "", err
	}
	a.f.pushed(ctx, owner, name, []gitstore.RefUpdate{{Ref: "refs/heads/" + branch, Old: old, New: sha}}, a.login)
	return sha, nil
}

// PullRequest describes a pull request to open.
type PullRequest struct {
	Title, Body string
	// Head is the branch with the change; Base defaults to the default
	// branch.
	Head, Base string
	// Files, when set, are pushed to Head first (creating it).
	Files map[string][]byte
	Draft bool
}

// OpenPR opens a pull request, pushing its files first.
func (a *Actor) OpenPR(ctx context.Context, repo string, pr PullRequest) (*github.PullRequest, error) {
	if pr.Base == "" {
		var r github.Repository
		if err := a.Do(ctx, http.MethodGet, repoPath(repo), nil, &r); err != nil {
			return nil, err
		}
		pr.Base = r.GetDefaultBranch()
	}
	if len(pr.Files) > 0 {
		msg := pr.Title
		if msg == "" {
			msg = "Change " + pr.Head
		}
		if _, err := a.Push(ctx, repo, pr.Head, pr.Files, msg); err != nil {
			return nil, err
		}
	}
	var out github.PullRequest
	err := a.Do(ctx, http.MethodPost, repoPath(repo, "pulls"), map[string]any{
		"title": pr.Title, "body": pr.Body, "head": pr.Head, "base": pr.Base, "draft": pr.Draft}, &out)
	return &out, err
}

// CreateIssue opens an issue.
func (a *Actor) CreateIssue(ctx context.Context, repo, title, body string) (*github.Issue, error) {
	var out github.Issue
	err := a.Do(ctx, http.MethodPost, repoPath(repo, "issues"), map[string]string{"title": title, "body": body}, &out)
	return &out, err
}

// Comment comments on an issue or pull request.
func (a *Actor) Comment(ctx context.Context, repo string, number int, body string) (*github.IssueComment, error) {
	var out github.IssueComment
	err := a.Do(ctx, http.MethodPost, repoPath(repo, "issues", fmt.Sprint(number), "comments"), map[string]string{"body": body}, &out)
	return &out, err
}

// Review submits a review: event is APPROVE, REQUEST_CHANGES or COMMENT.
func (a *Actor) Review(ctx context.Context, repo string, number int, event, body string) (*github.PullRequestReview, error) {
	var out github.PullRequestReview
	err := a.Do(ctx, http.MethodPost, repoPath(repo, "pulls", fmt.Sprint(number), "reviews"),
		map[string]string{"event": event, "body": body}, &out)
	return &out, err
}

// Merge merges a pull request with method merge, squash or rebase, and
// returns the resulting commit.
func (a *Actor) Merge(ctx context.Context, repo string, number int, method string) (string, error) {
	var out github.PullRequestMergeResult
	err := a.Do(ctx, http.MethodPut, repoPath(repo, "pulls", fmt.Sprint(number), "merge"),
		map[string]string{"merge_method": method}, &out)
	return out.GetSHA(), err
}

// Label adds labels to an issue or pull request.
func (a *Actor) Label(ctx context.Context, repo string, number int, labels ...string) error {
	return a.Do(ctx, http.MethodPost, repoPath(repo, "issues", fmt.Sprint(number), "labels"),
		map[string][]string{"labels": labels}, nil)
}

// Unlabel removes a label from an issue or pull request.
func (a *Actor) Unlabel(ctx context.Context, repo string, number int, label string) error {
	return a.Do(ctx, http.MethodDelete, repoPath(repo, "issues", fmt.Sprint(number), "labels", url.PathEscape(label)), nil, nil)
}

// Close closes an issue or pull request; Reopen reopens it.
func (a *Actor) Close(ctx context.Context, repo string, number int) error {
	return a.Do(ctx, http.MethodPatch, repoPath(repo, "issues", fmt.Sprint(number)), map[string]string{"state": "closed"}, nil)
}

// Reopen reopens a closed issue or pull request.
func (a *Actor) Reopen(ctx context.Context, repo string, number int) error {
	return a.Do(ctx, http.MethodPatch, repoPath(repo, "issues", fmt.Sprint(number)), map[string]string{"state": "open"}, nil)
}

// SetDraft converts a pull request to a draft or marks it ready for review.
func (a *Actor) SetDraft(ctx context.Context, repo string, number int, draft bool) error {
	return a.Do(ctx, http.MethodPatch, repoPath(repo, "pulls", fmt.Sprint(number)), map[string]bool{"draft": draft}, nil)
}

// SetStatus sets a commit status (state is error, failure, pending or
// success).
func (a *Actor) SetStatus(ctx context.Context, repo, sha, context, state, description string) error {
	return a.Do(ctx, http.MethodPost, repoPath(repo, "statuses", sha),
		map[string]string{"context": context, "state": state, "description": description}, nil)
}

// PR reads a pull request.
func (a *Actor) PR(ctx context.Context, repo string, number int) (*github.PullRequest, error) {
	var out github.PullRequest
	err := a.Do(ctx, http.MethodGet, repoPath(repo, "pulls", fmt.Sprint(number)), nil, &out)
	return &out, err
}
