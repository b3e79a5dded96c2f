package gitstore

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pullRequest builds main (base + one unrelated commit) and a feature
// branch of two commits from base, touching different files, and returns
// the base commit, main's head and feature's head.
func pullRequest(t *testing.T, s *Store) (base, mainHead, head string) {
	t.Helper()
	base = seed(t, s, map[string]string{"README.md": "one\ntwo\nthree\nfour\nfive\n", "keep.txt": "keep\n"})
	mainHead = commit(t, s, "main", "", map[string]string{"README.md": "ONE\ntwo\nthree\nfour\nfive\n"}, "Shout the first line")
	commit(t, s, "feature", base, map[string]string{"feature.txt": "feature\n"}, "Add feature")
	head = commit(t, s, "feature", "", map[string]string{"README.md": "one\ntwo\nthree\nfour\nFIVE\n"}, "Shout the last line")
	return base, mainHead, head
}

func TestMergeMethods(t *testing.T) {
	ctx := context.Background()
	wantReadme := "ONE\ntwo\nthree\nfour\nFIVE\n"
	tests := []struct {
		method   string
		check    func(t *testing.T, s *Store, merged *Commit, mainHead, head string)
		messages []string // messages from main's old head (excluded) to the new one
	}{
		{
			method: MethodMerge,
			check: func(t *testing.T, s *Store, merged *Commit, mainHead, head string) {
				if !cmp.Equal(merged.Parents, []string{mainHead, head}) {
					t.Errorf("parents = %v, want [%s %s]", merged.Parents, mainHead, head)
				}
				if merged.Message != "Merge pull request #1\n\nTwo shouts" || merged.Author.Name != "Alice" {
					t.Errorf("merge commit = %+v", merged)
				}
			},
			messages: []string{"Add feature", "Shout the last line", "Merge pull request #1\n\nTwo shouts"},
		},
		{
			method: MethodSquash,
			check: func(t *testing.T, s *Store, merged *Commit, mainHead, head string) {
				if !cmp.Equal(merged.Parents, []string{mainHead}) {
					t.Errorf("parents = %v, want [%s]", merged.Parents, mainHead)
				}
				files, err := s.Diff(ctx, "org", "repo", mainHead, merged.SHA)
				if err != nil {
					t.Fatal(err)
				}
				if len(files) != 2 || files[0].Filename != "README.md" || files[1].Filename != "feature.txt" {
					t.Errorf("squashed changes = %+v", files)
				}
			},
			messages: []string{"Merge pull request #1\n\nTwo shouts"},
		},
		{
			method: MethodRebase,
			check: func(t *testing.T, s *Store, merged *Commit, mainHead, head string) {
				if len(merged.Parents) != 1 || merged.SHA == head {
					t.Errorf("rebased tip = %+v", merged)
				}
				// Authors and messages are kept; the committer is who merged.
				if merged.Author.Name != "Bob" || merged.Committer.Name != "Alice" {
					t.Errorf("rebased tip signatures = %+v / %+v", merged.Author, merged.Committer)
				}
			},
			messages: []string{"Add feature", "Shout the last line"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			s := newStore(t)
			_, mainHead, head := pullRequest(t, s)
			if ok, err := s.Mergeable(ctx, "org", "repo", "main", head); err != nil || !ok {
				t.Fatalf("Mergeable = %v, %v", ok, err)
			}
			sha, err := s.Merge(ctx, "org", "repo", "main", head, tc.method, "Merge pull request #1", "Two shouts", alice)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := s.ResolveRef(ctx, "org", "repo", "main"); got != sha {
				t.Fatalf("main = %s, Merge returned %s", got, sha)
			}
			if got := readFile(t, s, "main", "README.md"); got != wantReadme {
				t.Errorf("README.md = %q, want %q", got, wantReadme)
			}
			if got := readFile(t, s, "main", "feature.txt"); got != "feature\n" {
				t.Errorf("feature.txt = %q", got)
			}
			merged, err := s.GetCommit(ctx, "org", "repo", sha)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s, merged, mainHead, head)
			log, err := s.Log(ctx, "org", "repo", mainHead, "main", 0)
			if err != nil {
				t.Fatal(err)
			}
			var messages []string
			for _, c := range log {
				messages = append(messages, c.Message)
			}
			if diff := cmp.Diff(tc.messages, messages); diff != "" {
				t.Errorf("new commits on main (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeConflict(t *testing.T) {
	ctx := context.Background()
	for _, method := range []string{MethodMerge, MethodSquash, MethodRebase} {
		t.Run(method, func(t *testing.T) {
			s := newStore(t)
			base := seed(t, s, map[string]string{"a.txt": "base\n"})
			mainHead := commit(t, s, "main", "", map[string]string{"a.txt": "main\n"}, "Main edit")
			head := commit(t, s, "feature", base, map[string]string{"a.txt": "feature\n"}, "Feature edit")
			if ok, err := s.Mergeable(ctx, "org", "repo", "main", head); err != nil || ok {
				t.Errorf("Mergeable = %v, %v; want false", ok, err)
			}
			_, err := s.Merge(ctx, "org", "repo", "main", head, method, "Merge", "", alice)
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("Merge = %v, want ErrConflict", err)
			}
			if got, _ := s.ResolveRef(ctx, "org", "repo", "main"); got != mainHead {
				t.Errorf("main moved to %s", got)
			}
			if got, _ := s.ResolveRef(ctx, "org", "repo", "feature"); got != head {
				t.Errorf("feature moved to %s", got)
			}
		})
	}
}

func TestMergeErrors(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	_, _, head := pullRequest(t, s)
	orphan := commit(t, s, "orphan", "", map[string]string{"x": "x"}, "Unrelated root")
	tests := []struct {
		name, base, head, method string
		want                     error
	}{
		{"unknown method", "main", head, "octopus", ErrInvalid},
		{"missing base", "nope", head, MethodMerge, ErrNotFound},
		{"missing head", "main", "1111111111111111111111111111111111111111", MethodMerge, ErrNotFound},
		{"unrelated merge", "main", orphan, MethodMerge, ErrConflict},
		{"unrelated rebase", "main", orphan, MethodRebase, ErrConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Merge(ctx, "org", "repo", tc.base, tc.head, tc.method, "t", "", alice); !errors.Is(err, tc.want) {
				t.Errorf("Merge = %v, want %v", err, tc.want)
			}
		})
	}
	if ok, err := s.Mergeable(ctx, "org", "repo", "main", orphan); err != nil || ok {
		t.Errorf("Mergeable(unrelated) = %v, %v; want false", ok, err)
	}
}

func TestRebaseDropsAppliedAndMergeCommits(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	base := seed(t, s, map[string]string{"a.txt": "a\n"})
	// The same change lands on main and on the feature branch.
	mainHead := commit(t, s, "main", "", map[string]string{"a.txt": "A\n"}, "Upper-case a on main")
	commit(t, s, "feature", base, map[string]string{"a.txt": "A\n"}, "Upper-case a on feature")
	if _, err := s.Merge(ctx, "org", "repo", "feature", mainHead, MethodMerge, "Merge main into feature", "", bob); err != nil {
		t.Fatal(err)
	}
	head := commit(t, s, "feature", "", map[string]string{"b.txt": "b\n"}, "Add b")
	sha, err := s.Merge(ctx, "org", "repo", "main", head, MethodRebase, "", "", alice)
	if err != nil {
		t.Fatal(err)
	}
	log, err := s.Log(ctx, "org", "repo", mainHead, sha, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].Message != "Add b" {
		t.Errorf("replayed commits = %+v", log)
	}
}
