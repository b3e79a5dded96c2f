package forge_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge"
)

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	seed, err := forge.ParseSeed([]byte(seedYAML))
	if err != nil {
		t.Fatal(err)
	}
	start := func() (*forge.Forge, *github.Client) {
		f, err := forge.New(forge.Options{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		// Seeding again after a restart changes nothing.
		if err := f.Seed(ctx, seed); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(f.Handler())
		t.Cleanup(srv.Close)
		f.SetBaseURL(srv.URL)
		base := srv.URL + "/"
		c, err := github.NewClient(github.WithAuthToken("bob-token"), github.WithURLs(&base, &base))
		if err != nil {
			t.Fatal(err)
		}
		return f, c
	}
	f, c := start()
	pr, err := f.As("bob").OpenPR(ctx, "acme/widgets", forge.PullRequest{Title: "Keep me", Head: "keep",
		Files: map[string][]byte{"keep.txt": []byte("keep\n")}})
	if err != nil {
		t.Fatal(err)
	}
	must[*github.IssueComment](t)(c.Issues.CreateComment(ctx, "acme", "widgets", pr.GetNumber(), &github.IssueComment{Body: github.Ptr("hello")}))
	must[*github.Label](t)(c.Issues.EditLabel(ctx, "acme", "widgets", "lgtm", &github.Label{Color: github.Ptr("000000")}))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	f, c = start()
	defer f.Close()
	got := must[*github.PullRequest](t)(c.PullRequests.Get(ctx, "acme", "widgets", pr.GetNumber()))
	if got.GetTitle() != "Keep me" || got.GetHead().GetSHA() != pr.GetHead().GetSHA() || got.GetComments() != 1 {
		t.Fatalf("after restart: %+v", got)
	}
	next := must[*github.Issue](t)(c.Issues.Create(ctx, "acme", "widgets", &github.IssueRequest{Title: github.Ptr("next")}))
	if next.GetNumber() != pr.GetNumber()+1 {
		t.Fatalf("numbering restarted: #%d", next.GetNumber())
	}
	labels := must[[]*github.Label](t)(c.Issues.ListLabels(ctx, "acme", "widgets", nil))
	if len(labels) != 3 {
		t.Fatalf("labels duplicated or lost: %d", len(labels))
	}
	// Seeding again does not undo changes made through the API.
	if l := must[*github.Label](t)(c.Issues.GetLabel(ctx, "acme", "widgets", "lgtm")); l.GetColor() != "000000" {
		t.Fatalf("lgtm colour after restart %s, want the edited 000000", l.GetColor())
	}
}
