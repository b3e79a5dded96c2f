// Package reporter reports ProwJobs to GitHub, as Prow's crier does with its
// github reporter: one commit status per run, on the pull request's head
// (presubmits) or the pushed commit (postsubmits), and one summary comment
// per pull request listing the jobs that failed on its head commit, edited
// in place as runs finish and deleted once none fail.
//
// States map to GitHub's as Prow's do: triggered and pending → pending,
// success → success, failure and aborted → failure, error → error. The
// status description ends with the base commit ("BaseSHA:<sha>") so that
// results stay usable by the merge controller after the run is garbage
// collected, and the target URL is the run's page (status.url).
//
// What was reported is recorded in the run's status.reports under the name
// "github"; a run whose state equals the recorded one is not reported again,
// so an operator restart reports nothing twice. Runs with spec.report false
// (the job's skip_report) and job types outside github_reporter's
// job_types_to_report are not reported, nor is a presubmit run once a newer
// run reports the same context on the same commit: that one owns the
// status now.
package reporter
