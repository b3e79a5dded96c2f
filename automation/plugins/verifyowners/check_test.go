package verifyowners

import (
	"slices"
	"testing"
)

func TestAddedLines(t *testing.T) {
	patch := "@@ -1,3 +1,4 @@\n approvers:\n-- alice\n+- bob\n+- carol\n reviewers:\n@@ -10,2 +11,3 @@\n x\n+y\n z"
	if got, want := addedLines(patch), []int{2, 3, 12}; !slices.Equal(got, want) {
		t.Errorf("added lines %v, want %v", got, want)
	}
	if got := addedLines(""); got != nil {
		t.Errorf("no patch: %v", got)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		file, data string
		users      []string
		problem    string
		line       int
	}{
		{"a/OWNERS", "approvers: [Alice, '@bob']\nreviewers: [carol]\nadvisory_approvers: [dan]\n", []string{"alice", "bob", "carol", "dan"}, "", 0},
		{"a/OWNERS", "filters:\n  '.*':\n    approvers: [x]\n  '\\.go$':\n    reviewers: [yann]\n", []string{"x", "yann"}, "", 0},
		{"a/OWNERS", "approvers:\n- alice\nreviewers: [\n", nil, "Cannot parse file:", 3},
		{"a/OWNERS", "approvers: alice\n", nil, "Cannot parse file:", 1},
		{"a/OWNERS", "labels: [lgtm]\napprovers: [a]\n", nil, "File contains banned labels: lgtm.", 1},
		{"OWNERS", "reviewers: [a]\n", nil, "No approvers defined in this root directory OWNERS file.", 1},
		{"a/OWNERS", "filters:\n  '[':\n    approvers: [a]\n", nil, `The filter "[" is not a regular expression`, 1},
	}
	for _, tc := range tests {
		users, p := check(tc.file, []byte(tc.data), []string{"lgtm", "approved"})
		switch {
		case tc.problem == "" && p != nil:
			t.Errorf("%q: unexpected problem %+v", tc.data, p)
		case tc.problem != "" && (p == nil || !startsWith(p.message, tc.problem) || p.line != tc.line):
			t.Errorf("%q: problem %+v, want %q at line %d", tc.data, p, tc.problem, tc.line)
		case tc.problem == "" && !slices.Equal(users, tc.users):
			t.Errorf("%q: users %q, want %q", tc.data, users, tc.users)
		}
	}
}

func startsWith(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }
