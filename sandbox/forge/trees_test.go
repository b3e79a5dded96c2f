package forge_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-github/v89/github"
)

func TestGitTreesAndBlobs(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	head := must[*github.Reference](t)(alice.Git.GetRef(fx.ctx, "acme", "widgets", "heads/main")).GetObject().GetSHA()

	// By branch, commit SHA and tree SHA alike.
	top := must[*github.Tree](t)(alice.Git.GetTree(fx.ctx, "acme", "widgets", "main", false))
	byCommit := must[*github.Tree](t)(alice.Git.GetTree(fx.ctx, "acme", "widgets", head, false))
	byTree := must[*github.Tree](t)(alice.Git.GetTree(fx.ctx, "acme", "widgets", top.GetSHA(), false))
	if top.GetSHA() == "" || byCommit.GetSHA() != top.GetSHA() || byTree.GetSHA() != top.GetSHA() || top.GetTruncated() {
		t.Fatalf("trees %s %s %s truncated %v", top.GetSHA(), byCommit.GetSHA(), byTree.GetSHA(), top.GetTruncated())
	}
	var names []string
	for _, e := range top.Entries {
		names = append(names, e.GetPath()+" "+e.GetType()+" "+e.GetMode())
	}
	if want := []string{"README.md blob 100644", "src tree 040000"}; !slices.Equal(names, want) {
		t.Fatalf("top-level entries %q, want %q", names, want)
	}

	all := must[*github.Tree](t)(alice.Git.GetTree(fx.ctx, "acme", "widgets", "main", true))
	var readme *github.TreeEntry
	names = nil
	for _, e := range all.Entries {
		names = append(names, e.GetPath())
		if e.GetPath() == "README.md" {
			readme = e
		}
	}
	if want := []string{"README.md", "src", "src/main.go"}; !slices.Equal(names, want) {
		t.Fatalf("recursive entries %q, want %q", names, want)
	}
	if readme.GetSize() != len("# widgets\n") || readme.GetURL() == "" {
		t.Fatalf("README.md entry %+v", readme)
	}

	raw := must[[]byte](t)(alice.Git.GetBlobRaw(fx.ctx, "acme", "widgets", readme.GetSHA()))
	blob := must[*github.Blob](t)(alice.Git.GetBlob(fx.ctx, "acme", "widgets", readme.GetSHA()))
	if string(raw) != "# widgets\n" || blob.GetEncoding() != "base64" || blob.GetSize() != len(raw) || blob.GetSHA() != readme.GetSHA() {
		t.Fatalf("blob raw %q json %+v", raw, blob)
	}

	// A revalidation with the ETag is free and answered 304.
	_, resp, err := alice.Git.GetTree(fx.ctx, "acme", "widgets", top.GetSHA(), true)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := alice.NewRequest(fx.ctx, http.MethodGet, "repos/acme/widgets/git/trees/"+top.GetSHA()+"?recursive=1", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	if _, err := alice.Do(req, nil); err == nil {
		t.Fatal("conditional request with a matching ETag was answered in full")
	} else if resp := err.(*github.ErrorResponse); resp.Response.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional request: %v", err)
	}

	for _, bad := range []string{"no-such-branch", "0123456789012345678901234567890123456789", "a b"} {
		_, resp, err := alice.Git.GetTree(fx.ctx, "acme", "widgets", bad, false)
		if got := status(t, resp, err); got != http.StatusNotFound {
			t.Errorf("tree %q: %d, want 404", bad, got)
		}
	}
	_, resp, err = alice.Git.GetBlob(fx.ctx, "acme", "widgets", top.GetSHA())
	if got := status(t, resp, err); got != http.StatusNotFound {
		t.Errorf("blob of a tree SHA: %d, want 404", got)
	}
	// A private repository is hidden from those who cannot read it.
	_, resp, err = fx.client(t, "dave-token").Git.GetTree(fx.ctx, "acme", "secret", "main", true)
	if got := status(t, resp, err); got != http.StatusNotFound {
		t.Errorf("private tree: %d, want 404", got)
	}
}

func TestIssueEvents(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	pr := fx.openPR(t, "dave", "events", map[string]string{"x.txt": "x\n"})
	n := pr.GetNumber()
	must[[]*github.Label](t)(alice.Issues.AddLabelsToIssue(fx.ctx, "acme", "widgets", n, []string{"lgtm", "approved"}))
	if _, err := alice.Issues.RemoveLabelForIssue(fx.ctx, "acme", "widgets", n, "lgtm"); err != nil {
		t.Fatal(err)
	}
	must[*github.Issue](t)(alice.Issues.AddAssignees(fx.ctx, "acme", "widgets", n, []string{"bob"}))
	events := must[[]*github.IssueEvent](t)(fx.client(t, "dave-token").Issues.ListIssueEvents(fx.ctx, "acme", "widgets", n, nil))
	var got []string
	for _, e := range events {
		what := e.GetLabel().GetName() + e.GetAssignee().GetLogin()
		got = append(got, e.GetEvent()+" "+what+" by "+e.GetActor().GetLogin())
		if e.GetID() == 0 || e.GetCreatedAt().IsZero() {
			t.Errorf("event %+v lacks an ID or time", e)
		}
	}
	want := []string{"labeled lgtm by alice", "labeled approved by alice", "unlabeled lgtm by alice", "assigned bob by alice"}
	if !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
}
