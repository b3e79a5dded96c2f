package approve

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bowline-ci/bowline/automation/repoowners"
)

// The OWNERS of Prow's approvers tests: root, a, b, c, a/d, and a/combo
// whose approvers are e's, d's and c's.
var fakeRepo = map[string]string{
	"OWNERS":         "approvers: [Alice, Bob]",
	"a/OWNERS":       "approvers: [Art, Anne]",
	"b/OWNERS":       "approvers: [Bill, Ben, Barbara]",
	"c/OWNERS":       "approvers: [Chris, Carol]",
	"a/d/OWNERS":     "approvers: [David, Dan, Debbie]",
	"a/combo/OWNERS": "approvers: [Eve, Erin, David, Dan, Debbie, Chris, Carol]",
	"n/OWNERS":       "options: {no_parent_owners: true}\napprovers: [Nina]",
	"auto/OWNERS":    "options: {auto_approve_unowned_subfolders: true}\napprovers: [Otto]",
	"cj/OWNERS":      "approvers: [cjwagner]",
}

var (
	rootApprovers = []string{"alice", "bob"}
	aApprovers    = []string{"anne", "art"}
	bApprovers    = []string{"barbara", "ben", "bill"}
	cApprovers    = []string{"carol", "chris"}
	dApprovers    = []string{"dan", "david", "debbie"}
	eApprovers    = []string{"erin", "eve"}
)

func testOwners(t *testing.T) *repoowners.Owners {
	t.Helper()
	files := map[string][]byte{}
	for k, v := range fakeRepo {
		files[k] = []byte(v)
	}
	return repoowners.FromFiles(context.Background(), files, repoowners.Settings{Filenames: repoowners.DefaultFilenames})
}

func stateWith(t *testing.T, files []string, seed int, approvers ...string) *state {
	t.Helper()
	st := newState(newChangedFiles(testOwners(t), files, seed))
	for _, a := range approvers {
		st.add(a, "Approved", "REFERENCE", false)
	}
	return st
}

func TestUnapproved(t *testing.T) {
	tests := []struct {
		name      string
		files     []string
		approvers []string
		want      []string
	}{
		{"empty PR", nil, nil, nil},
		{"single root file approved", []string{"kubernetes.go"}, []string{"Alice"}, nil},
		{"single root file, no one approved", []string{"kubernetes.go"}, nil, []string{""}},
		{"b files approved at the root", []string{"b/test.go", "b/test_1.go"}, rootApprovers, nil},
		{"b unapproved", []string{"b/test_1.go", "b/test.go"}, nil, []string{"b"}},
		{"combo and d, neither approved", []string{"a/combo/test.go", "a/d/test.go"}, nil, []string{"a/combo", "a/d"}},
		{"combo and d, combo approved", []string{"a/combo/test.go", "a/d/test.go"}, append(eApprovers, cApprovers...), []string{"a/d"}},
		{"combo and d, both approved by d's", []string{"a/combo/test.go", "a/d/test.go"}, dApprovers, nil},
		{"case does not matter", []string{"c/x"}, []string{"CHRIS"}, nil},
		{"no_parent_owners: root cannot approve", []string{"n/x.go"}, rootApprovers, []string{"n"}},
		{"no_parent_owners: its own approvers can", []string{"n/x.go"}, []string{"nina"}, nil},
		{"auto_approve_unowned_subfolders: a new subfolder needs no one", []string{"auto/new/x.go"}, nil, nil},
		{"auto_approve_unowned_subfolders: the folder itself needs its approvers", []string{"auto/x.go"}, nil, []string{"auto"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := stateWith(t, tc.files, 0, tc.approvers...)
			if got := st.files.unapproved(st.current()).sorted(); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("unapproved %q, want %q", got, tc.want)
			}
		})
	}
	// A pull request with only auto-approved files is approved; one with no
	// files is not.
	if !stateWith(t, []string{"auto/new/x.go"}, 0).filesApproved() {
		t.Error("auto-approved subfolder not approved")
	}
	if stateWith(t, nil, 0).filesApproved() {
		t.Error("empty pull request approved")
	}
}

func TestOwnersFiles(t *testing.T) {
	tests := []struct {
		name      string
		files     []string
		approvers []string
		want      []ownersFile
	}{
		{"empty PR", nil, nil, nil},
		{"single root file approved", []string{"kubernetes.go"}, []string{"Alice"}, []ownersFile{{dir: "", approved: true, approvers: []string{"Alice"}}}},
		{"b, no one approved", []string{"b/test.go"}, nil, []ownersFile{{dir: "b"}}},
		{"b fully approved", []string{"b/test.go"}, []string{"Bill", "Ben"}, []ownersFile{{dir: "b", approved: true, approvers: []string{"Ben", "Bill"}}}},
		{"combo and d; combo approved", []string{"a/combo/test.go", "a/d/test.go"}, []string{"Eve"},
			[]ownersFile{{dir: "a/combo", approved: true, approvers: []string{"Eve"}}, {dir: "a/d"}}},
		{"combo, c, d; c's approve combo and c", []string{"a/combo/test.go", "a/d/test.go", "c/test"}, []string{"Chris"},
			[]ownersFile{{dir: "a/combo", approved: true, approvers: []string{"Chris"}}, {dir: "a/d"}, {dir: "c", approved: true, approvers: []string{"Chris"}}}},
		{"a covers a/d; approved several times", []string{"a/test.go", "a/d/test.go", "b/test"}, []string{"Alice", "Art", "Bill"},
			[]ownersFile{{dir: "a", approved: true, approvers: []string{"Alice", "Art"}}, {dir: "b", approved: true, approvers: []string{"Alice", "Bill"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := stateWith(t, tc.files, 0, tc.approvers...).ownersFiles()
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(ownersFile{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("owners files (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCCs checks the suggested approvers: who is suggested depends on the
// pull request (the seed), so the cases check the choice within what may be
// chosen, and that it is stable.
func TestCCs(t *testing.T) {
	tests := []struct {
		name      string
		files     []string
		approvers []string
		assignees []string
		// each want is a set the suggestion must pick exactly one of; fixed
		// logins are sets of one.
		want     [][]string
		assigned []string
	}{
		{name: "empty PR"},
		{name: "single root file approved", files: []string{"kubernetes.go"}, approvers: []string{"alice"}},
		{name: "single root file unapproved", files: []string{"kubernetes.go"}, want: [][]string{rootApprovers}},
		{name: "combo and d, neither approved: one of d's covers both", files: []string{"a/combo/test.go", "a/d/test.go"}, want: [][]string{dApprovers}},
		{name: "combo and d, combo approved", files: []string{"a/combo/test.go", "a/d/test.go"}, approvers: eApprovers, want: [][]string{dApprovers}},
		{name: "combo and d, both approved", files: []string{"a/combo/test.go", "a/d/test.go"}, approvers: dApprovers},
		{name: "a, b, c: one of each", files: []string{"a/test.go", "b/test.go", "c/test"}, want: [][]string{aApprovers, bApprovers, cApprovers}},
		{name: "a, b, c: only c still needs someone", files: []string{"a/test.go", "b/test.go", "c/test"}, approvers: []string{"Art", "Ben"}, want: [][]string{cApprovers}},
		{name: "assignees who can approve are asked first", files: []string{"a/test.go", "b/test.go", "c/test"}, assignees: []string{"art", "ben"},
			want: [][]string{{"art"}, {"ben"}, cApprovers}, assigned: []string{"art", "ben"}},
		{name: "assignees who cannot approve are not", files: []string{"a/test.go", "b/test.go", "c/test"}, assignees: []string{"art", "ben", "john", "jack"},
			want: [][]string{{"art"}, {"ben"}, cApprovers}, assigned: []string{"art", "ben"}},
		{name: "an assigned root approver is asked", files: []string{"a/test.go"}, assignees: []string{"alice"},
			want: [][]string{{"alice"}}, assigned: []string{"alice"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range 8 {
				st := stateWith(t, tc.files, seed, tc.approvers...)
				for _, a := range tc.assignees {
					st.assignees[a] = true
				}
				got := st.ccs()
				if len(got) != len(tc.want) {
					t.Fatalf("seed %d: ccs %q, want one of each of %q", seed, got, tc.want)
				}
				for _, options := range tc.want {
					if n := len(slices.DeleteFunc(slices.Clone(got), func(s string) bool { return !slices.Contains(options, s) })); n != 1 {
						t.Errorf("seed %d: ccs %q pick %d of %q", seed, got, n, options)
					}
				}
				if a := st.assignedCCs(); !slices.Equal(a, tc.assigned) && !(len(a) == 0 && len(tc.assigned) == 0) {
					t.Errorf("seed %d: assigned ccs %q, want %q", seed, a, tc.assigned)
				}
				if again := st.ccs(); !slices.Equal(again, got) {
					t.Errorf("seed %d: ccs changed from %q to %q", seed, got, again)
				}
			}
		})
	}
	// Different pull requests spread the load over the approvers.
	seen := map[string]bool{}
	for seed := range 32 {
		for _, c := range stateWith(t, []string{"b/x"}, seed).ccs() {
			seen[c] = true
		}
	}
	if len(seen) < 2 {
		t.Errorf("32 pull requests all suggest %v", seen)
	}
}

func TestRequirements(t *testing.T) {
	files := []string{"a/a.go"}
	tests := []struct {
		name                   string
		issue                  int
		requireIssue           bool
		noIssue, manual        bool
		approvers, changeReqBy []string
		wantMet, wantApproved  bool
	}{
		{name: "approved", approvers: []string{"art"}, wantMet: true, wantApproved: true},
		{name: "unapproved", wantMet: false},
		{name: "issue required, none", approvers: []string{"art"}, requireIssue: true},
		{name: "issue required, referenced", approvers: []string{"art"}, requireIssue: true, issue: 42, wantMet: true, wantApproved: true},
		{name: "issue required, waived by an approver", approvers: []string{"art"}, requireIssue: true, noIssue: true, wantMet: true, wantApproved: true},
		{name: "manually approved", manual: true, wantApproved: true},
		{name: "changes requested by an approver", approvers: []string{"art"}, changeReqBy: []string{"anne"}},
		{name: "changes requested by someone who approves nothing here", approvers: []string{"art"}, changeReqBy: []string{"bill"}, wantMet: true, wantApproved: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := stateWith(t, files, 0)
			for _, a := range tc.approvers {
				st.add(a, "Approved", "", tc.noIssue)
			}
			for _, c := range tc.changeReqBy {
				st.changeRequested[c] = true
			}
			st.requireIssue, st.associatedIssue = tc.requireIssue, tc.issue
			st.manuallyApproved = func() bool { return tc.manual }
			if got := st.requirementsMet(); got != tc.wantMet {
				t.Errorf("requirements met = %v, want %v", got, tc.wantMet)
			}
			if got := st.isApproved(); got != tc.wantApproved {
				t.Errorf("approved = %v, want %v", got, tc.wantApproved)
			}
		})
	}
}

// TestAddApprovers replays conversations as Prow's approve tests do; the
// author is cjwagner, who owns cj/.
func TestAddApprovers(t *testing.T) {
	now := time.Now()
	at := func(minutes int) time.Time { return now.Add(time.Duration(minutes) * time.Minute) }
	c := func(m int, author, body string) *comment { return &comment{author: author, body: body, created: at(m)} }
	r := func(m int, author, body, state string) *comment {
		return &comment{author: author, body: body, created: at(m), reviewState: state}
	}
	tests := []struct {
		name            string
		files           []string
		comments        []*comment
		ignoreReviews   bool
		lgtmActsApprove bool
		selfApprove     bool
		want            []string // approvers, lower case
		wantApproved    bool
	}{
		{name: "/approve", files: []string{"a/a.go"}, comments: []*comment{c(1, "Art", "stuff\n/approve\nmore")}, want: []string{"art"}, wantApproved: true},
		{name: "/approve not at the start of a line", files: []string{"a/a.go"}, comments: []*comment{c(1, "Art", "please /approve")}},
		{name: "/approve cancel", files: []string{"a/a.go"}, comments: []*comment{c(1, "Art", "/approve no-issue"), c(2, "Art", "stuff\n/approve cancel \nmore")}},
		{name: "/remove-approve", files: []string{"a/a.go"}, comments: []*comment{c(1, "Art", "/approve"), c(2, "Art", "/remove-approve")}},
		{name: "self-approval", files: []string{"cj/c.go"}, selfApprove: true, want: []string{"cjwagner"}, wantApproved: true},
		{name: "self-approval cancelled", files: []string{"cj/c.go"}, selfApprove: true, comments: []*comment{c(1, "CJWagner", "/approve cancel")}},
		{name: "/lgtm does not approve", files: []string{"a/a.go"}, comments: []*comment{c(1, "art", "/lgtm")}},
		{name: "/lgtm approves with lgtm_acts_as_approve", files: []string{"a/a.go"}, lgtmActsApprove: true, comments: []*comment{c(1, "art", "/lgtm")}, want: []string{"art"}, wantApproved: true},
		{name: "/lgtm cancel cancels with lgtm_acts_as_approve", files: []string{"cj/c.go"}, lgtmActsApprove: true, selfApprove: true, comments: []*comment{c(1, "CJWagner", "/lgtm cancel //PR changed after LGTM")}},
		{name: "approving review", files: []string{"a/a.go"}, comments: []*comment{r(1, "Art", "stuff", "APPROVED")}, want: []string{"art"}, wantApproved: true},
		{name: "approving review ignored", files: []string{"cj/c.go"}, ignoreReviews: true, comments: []*comment{r(1, "cjwagner", "stuff", "APPROVED")}},
		{name: "reviews in other states do nothing", files: []string{"cj/c.go"}, comments: []*comment{r(1, "cjwagner", "x", "COMMENTED"), r(2, "cjwagner", "y", "PENDING"), r(3, "cjwagner", "z", "DISMISSED")}},
		{name: "changes requested after approval cancels", files: []string{"cj/c.go"}, comments: []*comment{r(1, "cjwagner", "yep", "APPROVED"), r(3, "cjwagner", "nope", "CHANGES_REQUESTED")}},
		{name: "a dismissed review does not cancel", files: []string{"a/a.go"}, comments: []*comment{r(1, "Art", "yep", "APPROVED"), r(3, "Art", "dismissed", "DISMISSED")}, want: []string{"art"}, wantApproved: true},
		{name: "/approve cancel after an approving review", files: []string{"cj/c.go"}, comments: []*comment{r(1, "cjwagner", "yep", "APPROVED"), c(2, "cjwagner", "/approve cancel")}},
		{name: "/approve cancel in an approving review", files: []string{"a/a.go", "cj/c.go"}, comments: []*comment{r(1, "cjwagner", "/approve cancel", "APPROVED")}},
		{name: "/approve in an approving review after changes requested", files: []string{"a/a.go"},
			comments: []*comment{r(1, "Art", "/approve", "CHANGES_REQUESTED"), r(2, "Art", "/approve", "APPROVED")}, want: []string{"art"}, wantApproved: true},
		{name: "changes requested hold back even with /approve in the review", files: []string{"a/a.go"},
			comments: []*comment{r(1, "Art", "/approve", "CHANGES_REQUESTED")}, want: []string{"art"}},
		{name: "no-issue sticks across a later /approve", files: []string{"a/a.go"}, comments: []*comment{c(1, "Art", "/approve no-issue"), c(2, "Art", "/approve")}, want: []string{"art"}, wantApproved: true},
		{name: "non-approvers count as approvers of nothing", files: []string{"a/a.go"}, comments: []*comment{c(1, "Bill", "/approve")}, want: []string{"bill"}},
		{name: "the bot is ignored", files: []string{"a/a.go"}, comments: []*comment{c(1, "bowline-bot", "/approve")}},
	}
	isBot := func(l string) bool { return strings.EqualFold(l, "bowline-bot") }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := stateWith(t, tc.files, 0)
			if tc.selfApprove {
				st.add("cjwagner", "Author self-approved", "#", false)
			}
			var relevant []*comment
			for _, c := range tc.comments {
				if isApprovalCommand(isBot, tc.lgtmActsApprove, c) || isApprovalState(isBot, !tc.ignoreReviews, c) {
					relevant = append(relevant, c)
				}
			}
			addApprovers(st, relevant, "cjwagner", !tc.ignoreReviews)
			if got := st.current().sorted(); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("approvers %q, want %q", got, tc.want)
			}
			if got := st.isApproved(); got != tc.wantApproved {
				t.Errorf("approved = %v, want %v", got, tc.wantApproved)
			}
		})
	}
}

func TestAssociatedIssue(t *testing.T) {
	for body, want := range map[string]int{
		"some changes that fix #42.\n/assign":       42,
		"Finally fixes kubernetes/kubernetes#1":     1,
		"see https://github.com/org/other/issues/7": 7,
		"see https://github.com/elsewhere/x/pull/7": 0,
		"no issue": 0,
	} {
		if got := associatedIssue(body, "org"); got != want {
			t.Errorf("associatedIssue(%q) = %d, want %d", body, got, want)
		}
	}
}
