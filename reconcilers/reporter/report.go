package reporter

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Name is the reporter's key in status.reports.
const Name = "github"

// Config is the part of the configuration's github_reporter section the
// reporter uses.
type Config struct {
	// JobTypesToReport are the job types reported; empty means presubmit
	// and postsubmit, as Prow's default.
	JobTypesToReport []v1alpha1.ProwJobType
	// NoCommentRepos are "org" or "org/repo" entries whose pull requests
	// get statuses but no summary comment.
	NoCommentRepos []string
	// Namespace is config.yaml's prowjob_namespace: only runs there are
	// reported, as Prow's crier watches only it. Empty reports every
	// namespace.
	Namespace string
}

func (c Config) reports(t v1alpha1.ProwJobType) bool {
	types := c.JobTypesToReport
	if len(types) == 0 {
		types = []v1alpha1.ProwJobType{v1alpha1.PresubmitJob, v1alpha1.PostsubmitJob}
	}
	return slices.Contains(types, t)
}

func (c Config) comments(org, repo string) bool {
	return !slices.Contains(c.NoCommentRepos, org) && !slices.Contains(c.NoCommentRepos, org+"/"+repo)
}

// githubState maps a run's state to a commit status state.
func githubState(s v1alpha1.ProwJobState) string {
	switch s {
	case v1alpha1.SuccessState:
		return "success"
	case v1alpha1.FailureState, v1alpha1.AbortedState:
		return "failure"
	case v1alpha1.ErrorState:
		return "error"
	default:
		return "pending"
	}
}

// maxDescription is GitHub's limit on a status description.
const maxDescription = 140

// description is the status description: the run's description followed by
// the base commit, cut to GitHub's limit without losing the commit.
func description(pj *v1alpha1.ProwJob) string {
	d := pj.Status.Description
	if d == "" {
		d = "Job " + string(pj.Status.State) + "."
	}
	sha := ""
	if pj.Spec.Refs != nil {
		sha = pj.Spec.Refs.BaseSHA
	}
	if sha == "" {
		return cut(d, maxDescription)
	}
	suffix := " BaseSHA:" + sha
	return cut(d, maxDescription-len(suffix)) + suffix
}

func cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	if n <= 3 {
		return s[:n]
	}
	return s[:n-3] + "..."
}

// statusSHA is the commit a run's status goes on, "" when the run has none.
func statusSHA(pj *v1alpha1.ProwJob) string {
	r := pj.Spec.Refs
	if r == nil {
		return ""
	}
	if pj.Spec.Type == v1alpha1.PresubmitJob {
		if len(r.Pulls) == 1 {
			return r.Pulls[0].SHA
		}
		return ""
	}
	return r.BaseSHA
}

// statusContext is the run's status context: spec.context, or the job name.
func statusContext(pj *v1alpha1.ProwJob) string {
	if pj.Spec.Context != "" {
		return pj.Spec.Context
	}
	return pj.Spec.Job
}

// lastReported is the state last reported to GitHub.
func lastReported(pj *v1alpha1.ProwJob) v1alpha1.ProwJobState {
	return reportedBy(pj, Name)
}

// reportedBy is the state a reporter last reported.
func reportedBy(pj *v1alpha1.ProwJob, reporter string) v1alpha1.ProwJobState {
	for _, r := range pj.Status.Reports {
		if r.Reporter == reporter {
			return r.State
		}
	}
	return ""
}

// commentMarker identifies the summary comment.
const commentMarker = "<!-- bowline test report -->"

// failedRun is one row of the summary comment.
type failedRun struct {
	context, sha, url, rerun string
	state                    v1alpha1.ProwJobState
}

// summaryComment renders the failed runs of a pull request's head commit;
// "" when none failed.
func summaryComment(author string, failed []failedRun) string {
	if len(failed) == 0 {
		return ""
	}
	var b strings.Builder
	if author != "" {
		fmt.Fprintf(&b, "@%s: ", author)
	}
	fmt.Fprintf(&b, "The following %s **failed**:\n\n", plural(len(failed), "job", "jobs"))
	b.WriteString("| Job | Commit | Details | Rerun command |\n|---|---|---|---|\n")
	for _, f := range failed {
		details := string(f.state)
		if f.url != "" {
			details = fmt.Sprintf("[%s](%s)", f.state, f.url)
		}
		rerun := ""
		if f.rerun != "" {
			rerun = "`" + f.rerun + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", escapeCell(f.context), shortSHA(f.sha), details, rerun)
	}
	b.WriteString("\nThis comment is updated as jobs finish and removed once none of them fail.\n\n")
	b.WriteString(commentMarker)
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
