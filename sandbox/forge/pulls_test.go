package forge_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge"
)

// openPR pushes a branch with files as author and opens a pull request
// through the API.
func (fx *fixture) openPR(t *testing.T, author, branch string, files map[string]string) *github.PullRequest {
	t.Helper()
	fs := map[string][]byte{}
	for p, c := range files {
		fs[p] = []byte(c)
	}
	if _, err := fx.env.As(author).Push(fx.ctx, "acme/widgets", branch, fs, "Change "+branch); err != nil {
		t.Fatal(err)
	}
	return must[*github.PullRequest](t)(fx.client(t, author+"-token").PullRequests.Create(fx.ctx, "acme", "widgets",
		&github.NewPullRequest{Title: github.Ptr("Change " + branch), Head: github.Ptr(branch), Base: github.Ptr("main"), Body: github.Ptr("Please merge.")}))
}

func TestPullRequestLifecycle(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	pr := fx.openPR(t, "dave", "feature", map[string]string{"feature.txt": "one\n"})
	if pr.GetNumber() != 1 || pr.GetState() != "open" || pr.GetHead().GetRef() != "feature" || pr.GetBase().GetRef() != "main" ||
		pr.GetUser().GetLogin() != "dave" || pr.GetAuthorAssociation() != "NONE" {
		t.Fatalf("created %+v", pr)
	}
	opened := fx.hook.WaitFor("pull_request", "opened", wait).Parsed.(*github.PullRequestEvent)
	if opened.GetRepo().GetFullName() != "acme/widgets" || opened.GetSender().GetLogin() != "dave" || opened.GetOrganization().GetLogin() != "acme" {
		t.Fatalf("opened event %+v", opened)
	}
	_, resp, err := alice.PullRequests.Create(fx.ctx, "acme", "widgets", &github.NewPullRequest{Title: github.Ptr("again"), Head: github.Ptr("feature"), Base: github.Ptr("main")})
	if got := status(t, resp, err); got != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate pull request = %d, want 422", got)
	}
	got := must[*github.PullRequest](t)(alice.PullRequests.Get(fx.ctx, "acme", "widgets", 1))
	if !got.GetMergeable() || got.GetMergeableState() != "clean" || got.GetCommits() != 1 || got.GetChangedFiles() != 1 {
		t.Fatalf("mergeability %v/%s commits %d files %d", got.GetMergeable(), got.GetMergeableState(), got.GetCommits(), got.GetChangedFiles())
	}
	headRef := must[*github.Reference](t)(alice.Git.GetRef(fx.ctx, "acme", "widgets", "pull/1/head"))
	if headRef.GetObject().GetSHA() != got.GetHead().GetSHA() {
		t.Fatalf("refs/pull/1/head = %s, head = %s", headRef.GetObject().GetSHA(), got.GetHead().GetSHA())
	}

	// A push to the head branch synchronizes the pull request.
	before := got.GetHead().GetSHA()
	after, err := fx.env.As("dave").Push(fx.ctx, "acme/widgets", "feature", map[string][]byte{"feature.txt": []byte("two\n")}, "Second")
	if err != nil {
		t.Fatal(err)
	}
	sync := fx.hook.WaitFor("pull_request", "synchronize", wait).Parsed.(*github.PullRequestEvent)
	if sync.GetBefore() != before || sync.GetAfter() != after || sync.GetPullRequest().GetHead().GetSHA() != after {
		t.Fatalf("synchronize before %s after %s head %s", sync.GetBefore(), sync.GetAfter(), sync.GetPullRequest().GetHead().GetSHA())
	}
	files := must[[]*github.CommitFile](t)(alice.PullRequests.ListFiles(fx.ctx, "acme", "widgets", 1, nil))
	commits := must[[]*github.RepositoryCommit](t)(alice.PullRequests.ListCommits(fx.ctx, "acme", "widgets", 1, nil))
	if len(files) != 1 || files[0].GetFilename() != "feature.txt" || files[0].GetStatus() != "added" || len(commits) != 2 || commits[1].GetSHA() != after {
		t.Fatalf("files %v commits %v", files, commits)
	}

	edited := must[*github.PullRequest](t)(fx.client(t, "dave-token").PullRequests.Edit(fx.ctx, "acme", "widgets", 1, &github.PullRequest{Title: github.Ptr("Better title")}))
	if edited.GetTitle() != "Better title" {
		t.Fatalf("edited title %q", edited.GetTitle())
	}
	ev := fx.hook.WaitFor("pull_request", "edited", wait).Parsed.(*github.PullRequestEvent)
	if ev.GetChanges().GetTitle().GetFrom() != "Change feature" {
		t.Fatalf("edited changes %+v", ev.GetChanges())
	}

	must[*github.PullRequest](t)(alice.PullRequests.Edit(fx.ctx, "acme", "widgets", 1, &github.PullRequest{State: github.Ptr("closed")}))
	fx.hook.WaitFor("pull_request", "closed", wait)
	must[*github.PullRequest](t)(alice.PullRequests.Edit(fx.ctx, "acme", "widgets", 1, &github.PullRequest{State: github.Ptr("open")}))
	fx.hook.WaitFor("pull_request", "reopened", wait)

	open := must[[]*github.PullRequest](t)(alice.PullRequests.List(fx.ctx, "acme", "widgets", &github.PullRequestListOptions{State: "open", Head: "acme:feature"}))
	if len(open) != 1 || open[0].GetNumber() != 1 {
		t.Fatalf("open pull requests by head = %v", open)
	}
}

func TestDraftTransitions(t *testing.T) {
	fx := setup(t)
	pr, err := fx.env.As("bob").OpenPR(fx.ctx, "acme/widgets", forge.PullRequest{Title: "WIP", Head: "wip", Draft: true,
		Files: map[string][]byte{"wip.txt": []byte("wip\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if !pr.GetDraft() {
		t.Fatal("not a draft")
	}
	_, resp, err := fx.client(t, "alice-token").PullRequests.Merge(fx.ctx, "acme", "widgets", pr.GetNumber(), "", nil)
	if got := status(t, resp, err); got != http.StatusMethodNotAllowed {
		t.Fatalf("merge a draft = %d, want 405", got)
	}
	if err := fx.env.As("bob").SetDraft(fx.ctx, "acme/widgets", pr.GetNumber(), false); err != nil {
		t.Fatal(err)
	}
	fx.hook.WaitFor("pull_request", "ready_for_review", wait)
	if err := fx.env.As("bob").SetDraft(fx.ctx, "acme/widgets", pr.GetNumber(), true); err != nil {
		t.Fatal(err)
	}
	fx.hook.WaitFor("pull_request", "converted_to_draft", wait)
}

func TestMergeMethods(t *testing.T) {
	tests := []struct {
		method  string
		parents int
		message string
	}{
		{"merge", 2, "Merge pull request #1 from acme/topic"},
		{"squash", 1, "Change topic (#1)"},
		{"rebase", 1, "Change topic"},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			fx := setup(t)
			// Move main so that a merge commit is needed.
			if _, err := fx.env.As("alice").Push(fx.ctx, "acme/widgets", "main", map[string][]byte{"other.txt": []byte("x\n")}, "Other"); err != nil {
				t.Fatal(err)
			}
			pr := fx.openPR(t, "dave", "topic", map[string]string{"topic.txt": "topic\n"})
			bob := fx.client(t, "bob-token")
			res := must[*github.PullRequestMergeResult](t)(bob.PullRequests.Merge(fx.ctx, "acme", "widgets", pr.GetNumber(), "",
				&github.PullRequestOptions{MergeMethod: tt.method, SHA: pr.GetHead().GetSHA()}))
			cm := must[*github.RepositoryCommit](t)(bob.Repositories.GetCommit(fx.ctx, "acme", "widgets", "main", nil))
			if cm.GetSHA() != res.GetSHA() || len(cm.Parents) != tt.parents || !strings.HasPrefix(cm.GetCommit().GetMessage(), tt.message) {
				t.Fatalf("main = %s with %d parents and message %q; merge result %s", cm.GetSHA(), len(cm.Parents), cm.GetCommit().GetMessage(), res.GetSHA())
			}
			merged := must[*github.PullRequest](t)(bob.PullRequests.Get(fx.ctx, "acme", "widgets", pr.GetNumber()))
			if !merged.GetMerged() || merged.GetState() != "closed" || merged.GetMergedBy().GetLogin() != "bob" || merged.GetMergeCommitSHA() != res.GetSHA() ||
				merged.GetChangedFiles() != 1 || merged.GetCommits() != 1 {
				t.Fatalf("after merge: %+v", merged)
			}
			if !must[bool](t)(bob.PullRequests.IsMerged(fx.ctx, "acme", "widgets", pr.GetNumber())) {
				t.Fatal("IsMerged = false")
			}
			// GitHub sends the push of the base branch, then closed.
			for {
				push := fx.hook.WaitFor("push", "", wait).Parsed.(*github.PushEvent)
				if push.GetAfter() == res.GetSHA() {
					break
				}
			}
			closed := fx.hook.WaitFor("pull_request", "closed", wait).Parsed.(*github.PullRequestEvent)
			if !closed.GetPullRequest().GetMerged() {
				t.Fatal("closed event says not merged")
			}
		})
	}
}

func TestMergeRefusals(t *testing.T) {
	fx := setup(t)
	pr := fx.openPR(t, "dave", "topic", map[string]string{"README.md": "# mine\n"})
	conflict := fx.openPR(t, "dave", "conflict", map[string]string{"README.md": "# theirs\n"})
	tests := []struct {
		name   string
		token  string
		number int
		opts   *github.PullRequestOptions
		want   int
	}{
		{"outsider", "dave-token", pr.GetNumber(), nil, http.StatusForbidden},
		{"read-only collaborator", "carol-token", pr.GetNumber(), nil, http.StatusForbidden},
		{"anonymous", "", pr.GetNumber(), nil, http.StatusUnauthorized},
		{"head moved", "bob-token", pr.GetNumber(), &github.PullRequestOptions{SHA: strings.Repeat("1", 40)}, http.StatusConflict},
		{"unknown method", "bob-token", pr.GetNumber(), &github.PullRequestOptions{MergeMethod: "octopus"}, http.StatusUnprocessableEntity},
		{"merged", "bob-token", pr.GetNumber(), nil, http.StatusOK},
		{"already merged", "bob-token", pr.GetNumber(), nil, http.StatusMethodNotAllowed},
		{"conflict", "bob-token", conflict.GetNumber(), nil, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := fx.client(t, tt.token).PullRequests.Merge(fx.ctx, "acme", "widgets", tt.number, "", tt.opts)
			if got := status(t, resp, err); got != tt.want {
				t.Fatalf("status = %d, want %d", got, tt.want)
			}
		})
	}
	t.Run("mergeable state of the conflicting one", func(t *testing.T) {
		got := must[*github.PullRequest](t)(fx.client(t, "bob-token").PullRequests.Get(fx.ctx, "acme", "widgets", conflict.GetNumber()))
		if got.GetMergeable() || got.GetMergeableState() != "dirty" {
			t.Fatalf("mergeable %v state %s, want false dirty", got.GetMergeable(), got.GetMergeableState())
		}
	})
}

func TestPushToBaseMarksMerged(t *testing.T) {
	fx := setup(t)
	pr := fx.openPR(t, "bob", "topic", map[string]string{"t.txt": "t\n"})
	alice := fx.client(t, "alice-token")
	must[*github.Reference](t)(alice.Git.UpdateRef(fx.ctx, "acme", "widgets", "heads/main", github.UpdateRef{SHA: pr.GetHead().GetSHA()}))
	got := must[*github.PullRequest](t)(alice.PullRequests.Get(fx.ctx, "acme", "widgets", pr.GetNumber()))
	if !got.GetMerged() || got.GetMergeCommitSHA() != pr.GetHead().GetSHA() {
		t.Fatalf("after fast-forwarding main: merged=%v sha=%s", got.GetMerged(), got.GetMergeCommitSHA())
	}
}
