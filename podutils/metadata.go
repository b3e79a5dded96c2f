package podutils

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Names of the files a run leaves in its artifact directory, as Prow's.
const (
	StartedFile      = "started.json"
	FinishedFile     = "finished.json"
	BuildLogFile     = "build-log.txt"
	CloneRecordsFile = "clone-records.json"
	CloneLogFile     = "clone-log.txt"
	ArtifactsDir     = "artifacts"
	LatestBuildFile  = "latest-build.txt"
)

// Results written to finished.json, as Prow's.
const (
	ResultSuccess = "SUCCESS"
	ResultFailure = "FAILURE"
	ResultAborted = "ABORTED"
	ResultError   = "ERROR"
)

// Exit codes the entrypoint writes to its marker file when the command did
// not decide the code itself, as Prow's.
const (
	// InternalErrorCode: the command could not be started, or it ran past
	// its timeout.
	InternalErrorCode = 127
	// PreviousErrorCode: an earlier step failed, so this one did not run.
	PreviousErrorCode = 129
	// AbortedErrorCode: the run was interrupted from outside.
	AbortedErrorCode = 130
)

// Started is started.json, written when a run begins.
type Started struct {
	// Timestamp is the start, in seconds since the epoch.
	Timestamp int64 `json:"timestamp"`
	// Pull is the pull request number of a presubmit.
	Pull string `json:"pull,omitempty"`
	// Repos maps "org/repo" to its refs string ("base:sha,1:sha").
	Repos map[string]string `json:"repos,omitempty"`
	// RepoVersion and RepoCommit are the commit checked out for the main
	// repository.
	RepoVersion string `json:"repo-version,omitempty"`
	RepoCommit  string `json:"repo-commit,omitempty"`
	// Metadata is free-form.
	Metadata map[string]any `json:"metadata,omitempty"`
}

// Finished is finished.json, written when a run ends.
type Finished struct {
	// Timestamp is the end, in seconds since the epoch.
	Timestamp *int64 `json:"timestamp,omitempty"`
	// Passed says whether the run passed.
	Passed *bool `json:"passed,omitempty"`
	// Result is SUCCESS, FAILURE, ABORTED or ERROR.
	Result string `json:"result,omitempty"`
	// Revision is the commit tested.
	Revision string `json:"revision,omitempty"`
	// Metadata merges what the job wrote to its metadata file, plus
	// bowline's notes (for example "timed-out").
	Metadata map[string]any `json:"metadata,omitempty"`
}

// NewStarted builds started.json for a run starting at now. commit is the
// commit checked out for the main repository, when known.
func NewStarted(spec JobSpec, now time.Time, commit string) Started {
	s := Started{Timestamp: now.Unix(), RepoVersion: commit, RepoCommit: commit}
	all := spec.AllRefs()
	if len(all) > 0 {
		s.Repos = map[string]string{}
		for _, r := range all {
			s.Repos[r.Org+"/"+r.Repo] = r.String()
		}
	}
	if spec.Refs != nil && len(spec.Refs.Pulls) > 0 {
		s.Pull = strconv.Itoa(spec.Refs.Pulls[0].Number)
	}
	if s.RepoVersion == "" {
		s.RepoVersion = spec.Revision()
		s.RepoCommit = s.RepoVersion
	}
	return s
}

// NewFinished builds finished.json.
func NewFinished(spec JobSpec, now time.Time, result string, metadata map[string]any) Finished {
	ts := now.Unix()
	passed := result == ResultSuccess
	return Finished{Timestamp: &ts, Passed: &passed, Result: result, Revision: spec.Revision(), Metadata: metadata}
}

// Duration is a time.Duration in JSON: written as a string ("90s"), read
// from a string or from a number of nanoseconds (as Prow's options are).
type Duration struct{ time.Duration }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string or nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("invalid duration %q: %w", s, err)
		}
		d.Duration = v
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("a duration is a string such as \"90s\" or a number of nanoseconds, not %s", b)
	}
	d.Duration = time.Duration(n)
	return nil
}
