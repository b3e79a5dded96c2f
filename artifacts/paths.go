// Package artifacts stores the logs and artifacts of job runs through
// gocloud.dev/blob: a local directory by default, Google Cloud Storage
// (gs://) or S3 and S3-compatible stores (s3://) by URL, in Prow's layout:
//
//	pr-logs/pull/<org>_<repo>/<pr>/<job>/<build>/   presubmits
//	pr-logs/pull/batch/<job>/<build>/               batches
//	logs/<job>/<build>/                             postsubmits and periodics
//
// Each run directory holds started.json, finished.json, build-log.txt,
// clone-records.json, clone-log.txt and artifacts/. build-log.txt is
// rewritten while the run goes on, so a reader can follow it (Tail).
package artifacts

import (
	"fmt"
	"path"
	"strconv"

	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Path strategies, as Prow's: how a presubmit's org and repo appear in its
// path.
const (
	// StrategyExplicit always writes <org>_<repo>. bowline's default.
	StrategyExplicit = "explicit"
	// StrategyLegacy leaves out the default org (and repo).
	StrategyLegacy = "legacy"
	// StrategySingle leaves out the default org and repo together.
	StrategySingle = "single"
)

// Config says where a run's files go. Its JSON is the storage part of the
// pod utilities' options, with Prow's gcs_configuration field names.
type Config struct {
	// Bucket is a URL (gs://bucket, s3://bucket?region=…, file:///dir) or
	// a local directory.
	Bucket string `json:"bucket"`
	// PathPrefix is prepended to every run's path.
	PathPrefix string `json:"path_prefix,omitempty"`
	// PathStrategy is explicit (default), legacy or single.
	PathStrategy string `json:"path_strategy,omitempty"`
	// DefaultOrg and DefaultRepo are left out of paths by the legacy and
	// single strategies.
	DefaultOrg  string `json:"default_org,omitempty"`
	DefaultRepo string `json:"default_repo,omitempty"`
	// S3CredentialsFile is Prow's S3 credentials file (S3Credentials),
	// used for s3:// buckets when it exists; see Config.Open.
	S3CredentialsFile string `json:"s3_credentials_file,omitempty"`
}

// Validate reports a configuration that cannot produce paths.
func (c Config) Validate() error {
	if c.Bucket == "" {
		return fmt.Errorf("no bucket: give a directory or a gs://, s3:// or file:// URL")
	}
	switch c.PathStrategy {
	case "", StrategyExplicit:
	case StrategyLegacy, StrategySingle:
		if c.DefaultOrg == "" || c.DefaultRepo == "" {
			return fmt.Errorf("path strategy %q needs default_org and default_repo", c.PathStrategy)
		}
	default:
		return fmt.Errorf("unknown path strategy %q: use explicit, legacy or single", c.PathStrategy)
	}
	return nil
}

// RunPath is the directory (without a trailing slash) of one run.
func (c Config) RunPath(spec podutils.JobSpec) (string, error) {
	if spec.Job == "" || spec.BuildID == "" {
		return "", fmt.Errorf("a run path needs the job name and build ID (job %q, build %q)", spec.Job, spec.BuildID)
	}
	var dir string
	switch spec.Type {
	case v1alpha1.PresubmitJob:
		if spec.Refs == nil || len(spec.Refs.Pulls) == 0 {
			return "", fmt.Errorf("presubmit %s has no pull request", spec.Job)
		}
		repo, err := c.repoSegment(*spec.Refs)
		if err != nil {
			return "", err
		}
		dir = path.Join("pr-logs/pull", repo, strconv.Itoa(spec.Refs.Pulls[0].Number), spec.Job, spec.BuildID)
	case v1alpha1.BatchJob:
		dir = path.Join("pr-logs/pull/batch", spec.Job, spec.BuildID)
	case v1alpha1.PostsubmitJob, v1alpha1.PeriodicJob:
		dir = path.Join("logs", spec.Job, spec.BuildID)
	default:
		return "", fmt.Errorf("unknown job type %q", spec.Type)
	}
	if c.PathPrefix != "" {
		dir = path.Join(c.PathPrefix, dir)
	}
	return dir, nil
}

// repoSegment is how a presubmit's repository appears in its path.
func (c Config) repoSegment(r podutils.Refs) (string, error) {
	explicit := r.Org + "_" + r.Repo
	switch c.PathStrategy {
	case "", StrategyExplicit:
		return explicit, nil
	case StrategySingle:
		if r.Org == c.DefaultOrg && r.Repo == c.DefaultRepo {
			return "", nil
		}
		return explicit, nil
	case StrategyLegacy:
		if r.Org != c.DefaultOrg {
			return explicit, nil
		}
		if r.Repo == c.DefaultRepo {
			return "", nil
		}
		return r.Repo, nil
	}
	return "", fmt.Errorf("unknown path strategy %q", c.PathStrategy)
}

// RunPathFor is the run directory of a ProwJob; its build ID is taken from
// status.buildID.
func (c Config) RunPathFor(pj *v1alpha1.ProwJob) (string, error) {
	return c.RunPath(podutils.JobSpecFor(pj, pj.Status.BuildID))
}

// ConfigFor takes a ProwJob's storage settings from its decoration config.
// fallbackBucket is used when the job names no bucket.
func ConfigFor(pj *v1alpha1.ProwJob, fallbackBucket string) Config {
	c := Config{Bucket: fallbackBucket}
	if dc := pj.Spec.DecorationConfig; dc != nil && dc.GCSConfiguration != nil {
		g := dc.GCSConfiguration
		if g.Bucket != "" {
			c.Bucket = g.Bucket
		}
		if g.LocalOutputDir != "" {
			c.Bucket = g.LocalOutputDir
		}
		c.PathPrefix = g.PathPrefix
		c.PathStrategy = g.PathStrategy
		c.DefaultOrg = g.DefaultOrg
		c.DefaultRepo = g.DefaultRepo
	}
	return c
}

// Key joins a run directory and a file name into an object key.
func Key(runPath, name string) string { return path.Join(runPath, name) }
