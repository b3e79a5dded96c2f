package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestUpPlan reviews a change of bowline's own configuration through
// `bowline up`: a pull request to the sandbox's demo/config gets a
// bowline/config status and one plan comment; a push that breaks the
// revision turns the status to failure with the error's file and line, and
// the same comment says so; a push that fixes it turns it back; merging
// applies it.
func TestUpPlan(t *testing.T) {
	p := startUp(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	repo := p.ready.Sandbox.ConfigRepo
	if repo == "" {
		t.Fatal("bowline up names no sandbox config repository")
	}
	owner, name, _ := strings.Cut(repo, "/")
	alice := p.sandboxClient(t, p.ready.Sandbox.Token)
	kube := upClient(t, p)

	const jobsFile = "config/jobs/demo/hello/hello.yaml"
	cur, _, _, err := alice.Repositories.GetContents(ctx, owner, name, jobsFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := cur.GetContent()
	if err != nil {
		t.Fatal(err)
	}
	// A presubmit more, which only runs when a file it names changes.
	const lint = "  - name: pull-hello-lint\n    run_if_changed: '^lint-me$'\n    decorate: true\n    spec:\n      containers:\n      - image: alpine:3.22\n        command: [sh, -c, 'true']\n\npostsubmits:"
	good := strings.Replace(orig, "\npostsubmits:", lint, 1)
	if good == orig {
		t.Fatal("the quickstart's jobs changed shape: no postsubmits section")
	}
	head := openPullRequest(ctx, t, alice, repo, "lint-job", map[string]string{jobsFile: good})
	const n = 1

	statusOf := func(sha string) *github.RepoStatus {
		list, _, err := alice.Repositories.ListStatuses(ctx, owner, name, sha, nil)
		if err != nil {
			return nil
		}
		for _, s := range list {
			if s.GetContext() == "bowline/config" {
				return s
			}
		}
		return nil
	}
	waitStatus := func(what, sha, state string) *github.RepoStatus {
		t.Helper()
		var st *github.RepoStatus
		eventually(t, what, 2*time.Minute, func() (bool, string) {
			st = statusOf(sha)
			return st != nil && st.GetState() == state, fmt.Sprintf("%+v", st)
		})
		return st
	}
	plans := func() []*github.IssueComment {
		cs, _, err := alice.Issues.ListComments(ctx, owner, name, n, nil)
		if err != nil {
			return nil
		}
		var out []*github.IssueComment
		for _, c := range cs {
			if strings.HasPrefix(c.GetBody(), "<!-- bowline/config-plan -->") {
				out = append(out, c)
			}
		}
		return out
	}
	waitPlan := func(what string, want ...string) *github.IssueComment {
		t.Helper()
		var c *github.IssueComment
		eventually(t, what, time.Minute, func() (bool, string) {
			cs := plans()
			if len(cs) != 1 {
				return false, fmt.Sprintf("%d plan comments", len(cs))
			}
			c = cs[0]
			for _, w := range want {
				if !strings.Contains(c.GetBody(), w) {
					return false, c.GetBody()
				}
			}
			return true, ""
		})
		return c
	}

	st := waitStatus("the plan's status on the pull request", head, "success")
	if !strings.HasPrefix(st.GetDescription(), "Valid: jobs +1 ~0 -0") {
		t.Errorf("status description %q", st.GetDescription())
	}
	first := waitPlan("the plan comment", "### bowline plan: valid", "`pull-hello-lint`", "runs on 0 of 0", "Planned by bowline for "+head[:12])
	if st.GetTargetURL() != first.GetHTMLURL() {
		t.Errorf("status links %q, want the comment %q", st.GetTargetURL(), first.GetHTMLURL())
	}

	// A push that breaks the revision: the status fails with the file and
	// line, and the same comment says why.
	bad := strings.Replace(good, "    always_run: true\n", "    always_runn: true\n", 1)
	head = pushFiles(ctx, t, alice, repo, "lint-job", map[string]string{jobsFile: bad}, false)
	st = waitStatus("a failing status for the bad revision", head, "failure")
	if want := "Refused: 1 error (first at " + jobsFile + ":6:5)"; st.GetDescription() != want {
		t.Errorf("status description %q, want %q", st.GetDescription(), want)
	}
	c := waitPlan("the comment edited for the bad revision", "### bowline plan: refused", jobsFile+":6:5", `unknown field "always_runn"`)
	if c.GetID() != first.GetID() {
		t.Errorf("a new plan comment #%d instead of editing #%d", c.GetID(), first.GetID())
	}

	// The fix, then the merge applies it.
	head = pushFiles(ctx, t, alice, repo, "lint-job", map[string]string{jobsFile: good}, false)
	waitStatus("the status of the fixed revision", head, "success")
	waitPlan("the comment edited for the fixed revision", "### bowline plan: valid", "Planned by bowline for "+head[:12])
	merged, _, err := alice.PullRequests.Merge(ctx, owner, name, n, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the merged configuration applied", time.Minute, func() (bool, string) {
		cr := &v1alpha1.ConfigRepository{}
		if err := kube.Get(ctx, types.NamespacedName{Namespace: "default", Name: "config"}, cr); err != nil {
			return false, err.Error()
		}
		s := cr.Status
		return strings.HasSuffix(s.LastAppliedRevision, merged.GetSHA()) && s.Summary != nil && s.Summary.Presubmits == 2,
			fmt.Sprintf("applied %s, summary %+v", s.LastAppliedRevision, s.Summary)
	})
	p.stop(t)
}
