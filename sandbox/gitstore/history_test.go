package gitstore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// branching builds
//
//	main:    init ── m1 ─────────── m2
//	           \                    /
//	feature:    f1 ── f2 ──(merge m1)── f3
//
// and returns the commits by name.
func branching(t *testing.T, s *Store) map[string]string {
	t.Helper()
	c := map[string]string{}
	c["init"] = seed(t, s, map[string]string{"README.md": "line1\nline2\nline3\n", "old.txt": "unchanged content\nthat is long enough\nfor rename detection\n", "gone.txt": "bye\n"})
	c["f1"] = commit(t, s, "feature", c["init"], map[string]string{"feature.txt": "f1\n"}, "f1")
	c["m1"] = commit(t, s, "main", "", map[string]string{"main.txt": "m1\n"}, "m1")
	c["f2"] = commit(t, s, "feature", "", map[string]string{"README.md": "line1\nline2 changed\nline3\nline4\n", "gone.txt": "\x00"}, "f2")
	sha, err := s.Merge(context.Background(), "org", "repo", "feature", c["m1"], MethodMerge, "Merge main", "", bob)
	if err != nil {
		t.Fatal(err)
	}
	c["fm"] = sha
	c["f3"] = commit(t, s, "feature", "", map[string]string{"old.txt": "\x00", "new.txt": "unchanged content\nthat is long enough\nfor rename detection\n"}, "f3 rename")
	c["m2"] = commit(t, s, "main", "", map[string]string{"main.txt": "m2\n"}, "m2")
	return c
}

func shas(commits []Commit) []string {
	var out []string
	for _, c := range commits {
		out = append(out, c.SHA)
	}
	return out
}

func TestLog(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := branching(t, s)
	tests := []struct {
		name, base, head string
		limit            int
		want             []string
	}{
		{"pull request commits", "main", "feature", 0, []string{c["f1"], c["f2"], c["fm"], c["f3"]}},
		{"limit keeps the newest", "main", "feature", 2, []string{c["fm"], c["f3"]}},
		{"main since feature", "feature", "main", 0, []string{c["m2"]}},
		{"whole history", "", "main", 0, []string{c["init"], c["m1"], c["m2"]}},
		{"by sha", c["f1"], c["f2"], 0, []string{c["f2"]}},
		{"nothing", "feature", "feature", 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Log(ctx, "org", "repo", tc.base, tc.head, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, shas(got)); diff != "" {
				t.Errorf("Log (-want +got):\n%s", diff)
			}
			if tc.limit == 0 {
				if n, err := s.CountCommits(ctx, "org", "repo", tc.base, tc.head); err != nil || n != len(tc.want) {
					t.Errorf("CountCommits = %d, %v; want %d", n, err, len(tc.want))
				}
			}
		})
	}
	got, _ := s.Log(ctx, "org", "repo", "main", "feature", 0)
	if got[1].Message != "f2" || got[1].Author.Name != "Bob" || len(got[2].Parents) != 2 {
		t.Errorf("commit fields: %+v", got)
	}
	if _, err := s.Log(ctx, "org", "repo", "", "nope", 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("Log of a missing ref = %v, want ErrNotFound", err)
	}
}

func TestMergeBase(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := branching(t, s)
	for _, tc := range []struct{ a, b, want string }{
		{"main", "feature", c["m1"]}, // feature merged m1
		{c["f2"], "main", c["init"]},
		{c["m1"], c["m2"], c["m1"]},
	} {
		if got, err := s.MergeBase(ctx, "org", "repo", tc.a, tc.b); err != nil || got != tc.want {
			t.Errorf("MergeBase(%s, %s) = %s, %v; want %s", tc.a, tc.b, got, err, tc.want)
		}
	}
	orphan := commit(t, s, "orphan", "", map[string]string{"x": "x"}, "Unrelated root")
	if _, err := s.MergeBase(ctx, "org", "repo", "main", orphan); !errors.Is(err, ErrNotFound) {
		t.Errorf("MergeBase of unrelated = %v, want ErrNotFound", err)
	}
	if _, err := s.Diff(ctx, "org", "repo", "main", orphan); !errors.Is(err, ErrNotFound) {
		t.Errorf("Diff of unrelated = %v, want ErrNotFound", err)
	}
}

func TestDiff(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := branching(t, s)
	got, err := s.Diff(ctx, "org", "repo", "main", "feature")
	if err != nil {
		t.Fatal(err)
	}
	blob := func(ref, path string) string {
		_, sha, err := s.ReadFile(ctx, "org", "repo", ref, path)
		if err != nil {
			t.Fatal(err)
		}
		return sha
	}
	// Three dots: m2's change to main.txt is not part of the comparison,
	// and neither is m1's (merged into feature, so below the merge base).
	want := []FileChange{
		{Filename: "README.md", Status: "modified", Additions: 2, Deletions: 1, SHA: blob("feature", "README.md"),
			Patch: "@@ -1,3 +1,4 @@\n line1\n-line2\n+line2 changed\n line3\n+line4"},
		{Filename: "feature.txt", Status: "added", Additions: 1, SHA: blob("feature", "feature.txt"), Patch: "@@ -0,0 +1 @@\n+f1"},
		{Filename: "gone.txt", Status: "removed", Deletions: 1, SHA: blob(c["init"], "gone.txt"), Patch: "@@ -1 +0,0 @@\n-bye"},
		{Filename: "new.txt", PreviousFilename: "old.txt", Status: "renamed", SHA: blob("feature", "new.txt")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}

	root, err := s.Diff(ctx, "org", "repo", "", c["init"])
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range root {
		if f.Status != "added" {
			t.Errorf("%s: status %s", f.Filename, f.Status)
		}
		names = append(names, f.Filename)
	}
	if strings.Join(names, ",") != "README.md,gone.txt,old.txt" {
		t.Errorf("root commit files = %v", names)
	}
	if _, err := s.Diff(ctx, "org", "repo", "feature", "main~0"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Diff with revision syntax = %v, want ErrInvalid", err)
	}
}

func TestDiffBinaryAndOddNames(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	base := seed(t, s, map[string]string{"bin.dat": "\x00\x01\x02"})
	head := commit(t, s, "main", "", map[string]string{"bin.dat": "\x00\x01\x03", "dir with space/ü\t.txt": "x\n", "diff --git": "-- a\n"}, "odd")
	got, err := s.Diff(ctx, "org", "repo", base, head)
	if err != nil {
		t.Fatal(err)
	}
	want := []FileChange{
		{Filename: "bin.dat", Status: "modified", SHA: got[0].SHA},
		{Filename: "diff --git", Status: "added", Additions: 1, SHA: got[1].SHA, Patch: "@@ -0,0 +1 @@\n+-- a"},
		{Filename: "dir with space/ü\t.txt", Status: "added", Additions: 1, SHA: got[2].SHA, Patch: "@@ -0,0 +1 @@\n+x"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
}
