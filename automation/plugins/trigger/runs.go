package trigger

import "github.com/bowline-ci/bowline/schema/jobs"

// RunsOnPullRequest reports whether the trigger starts ps by itself on a
// pull request to branch: the branch must match, then RunsByItself. files
// lists the files the pull request changes; it is called only when a change
// matcher needs them. Other components (the plan of a configuration change)
// use it to say which pull requests a job would run on.
func RunsOnPullRequest(ps *jobs.Presubmit, branch string, files func() ([]string, error)) (bool, error) {
	if !ps.Brancher.ShouldRun(branch) {
		return false, nil
	}
	return RunsByItself(ps, files)
}

// RunsByItself reports whether a presubmit starts by itself on a pull
// request, whatever its branch: always_run, or a change matcher that the
// changed files satisfy. Jobs that only the merge pool runs
// (run_before_merge) and manual jobs do not.
func RunsByItself(ps *jobs.Presubmit, files func() ([]string, error)) (bool, error) {
	if ps.RunBeforeMerge {
		return false, nil
	}
	if ps.AlwaysRun {
		return true, nil
	}
	if ps.RunIfChanged == "" && ps.SkipIfOnlyChanged == "" {
		return false, nil
	}
	changed, err := files()
	if err != nil {
		return false, err
	}
	run, _ := ps.RunsAgainstChanges(changed)
	return run, nil
}

// PostsubmitRuns reports whether a push to branch that changes files starts
// ps, by Prow's rules: the branch must match; always_run: true runs; a
// change matcher decides next; without one the job runs unless always_run
// is false.
func PostsubmitRuns(ps *jobs.Postsubmit, branch string, files []string) bool {
	return postsubmitRuns(ps, branch, files)
}
