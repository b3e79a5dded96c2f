package blunderbuss

import (
	"context"
	"slices"
	"testing"

	"github.com/bowline-ci/bowline/automation/repoowners"
)

func owners(t *testing.T, files map[string]string) *repoowners.Owners {
	t.Helper()
	b := map[string][]byte{}
	for k, v := range files {
		b[k] = []byte(v)
	}
	return repoowners.FromFiles(context.Background(), b, repoowners.Settings{Filenames: repoowners.DefaultFilenames})
}

func cfg(count, maxCount int, excludeApprovers bool) *Config {
	c := &Config{}
	c.Blunderbuss.ReviewerCount = &count
	c.Blunderbuss.MaxReviewerCount = maxCount
	c.Blunderbuss.ExcludeApprovers = excludeApprovers
	return c
}

// TestWeightedByLines draws many times: the reviewer of the file with 90 of
// the 100 changed lines is picked about nine times in ten.
func TestWeightedByLines(t *testing.T) {
	o := owners(t, map[string]string{
		"big/OWNERS":   "reviewers: [big]\napprovers: [root]",
		"small/OWNERS": "reviewers: [small]\napprovers: [root]",
	})
	changes := []Change{{File: "big/x.go", Lines: 90}, {File: "small/y.go", Lines: 10}}
	counts := map[string]int{}
	for seed := range uint64(2000) {
		got := Select(o, changes, "author", cfg(1, 0, true), seed)
		if len(got) != 1 {
			t.Fatalf("seed %d: %q", seed, got)
		}
		counts[got[0]]++
	}
	if share := float64(counts["big"]) / 2000; share < 0.85 || share > 0.95 {
		t.Errorf("the 90-line reviewer was picked %.0f%% of the time, want about 90%%: %v", share*100, counts)
	}
}

func TestSelect(t *testing.T) {
	o := owners(t, map[string]string{
		"OWNERS":      "approvers: [root-approver]\nreviewers: [root-reviewer]",
		"a/OWNERS":    "approvers: [a-approver]\nreviewers: [a-reviewer, author]\nrequired_reviewers: [security]",
		"b/OWNERS":    "approvers: [b-approver]",
		"lone/OWNERS": "options: {no_parent_owners: true}\nreviewers: [lone]",
	})
	tests := []struct {
		name    string
		changes []Change
		cfg     *Config
		// want lists sets to pick exactly one of (a single login: that login).
		want [][]string
	}{
		{name: "two reviewers of the chain", changes: []Change{{"a/x", 5}}, cfg: cfg(2, 0, false),
			want: [][]string{{"a-reviewer"}, {"root-reviewer"}, {"security"}}},
		{name: "the author is never asked", changes: []Change{{"a/x", 5}}, cfg: cfg(3, 0, false),
			want: [][]string{{"a-reviewer"}, {"root-reviewer"}, {"a-approver", "root-approver"}, {"security"}}},
		// no_parent_owners stops at lone/ for reviewers only: it lists no
		// approvers, so the root's apply.
		{name: "approvers fill in", changes: []Change{{"lone/x", 1}}, cfg: cfg(2, 0, false),
			want: [][]string{{"lone"}, {"root-approver"}}},
		{name: "approvers fill in from the chain", changes: []Change{{"b/x", 1}}, cfg: cfg(3, 0, false),
			want: [][]string{{"root-reviewer"}, {"b-approver"}, {"root-approver"}}},
		{name: "exclude_approvers", changes: []Change{{"b/x", 1}}, cfg: cfg(3, 0, true),
			want: [][]string{{"root-reviewer"}}},
		{name: "max_request_count", changes: []Change{{"b/x", 1}}, cfg: cfg(3, 1, false),
			want: [][]string{{"root-reviewer", "b-approver", "root-approver"}}},
		{name: "required reviewers beyond the count", changes: []Change{{"a/x", 1}}, cfg: cfg(1, 1, false),
			want: [][]string{{"a-reviewer", "root-reviewer"}, {"security"}}},
		{name: "request_count 0 asks only the required", changes: []Change{{"a/x", 1}}, cfg: cfg(0, 0, false),
			want: [][]string{{"security"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(16) {
				got := Select(o, tc.changes, "Author", tc.cfg, seed)
				if len(got) != len(tc.want) {
					t.Fatalf("seed %d: %q, want one of each of %q", seed, got, tc.want)
				}
				for _, options := range tc.want {
					if n := len(slices.DeleteFunc(slices.Clone(got), func(s string) bool { return !slices.Contains(options, s) })); n != 1 {
						t.Errorf("seed %d: %q picks %d of %q", seed, got, n, options)
					}
				}
				if again := Select(o, tc.changes, "Author", tc.cfg, seed); !slices.Equal(again, got) {
					t.Errorf("seed %d: %q then %q", seed, got, again)
				}
			}
		})
	}
}
