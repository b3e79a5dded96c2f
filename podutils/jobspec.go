// Package podutils holds what the pod utilities (clonerefs, initupload,
// entrypoint, sidecar) and the agents that run them share: the job spec a
// run is given in $JOB_SPEC, Prow's environment contract, and Prow's
// metadata file formats (started.json, finished.json).
//
// Field names in this package follow Prow's JSON (snake_case), because job
// images and tools written for Prow parse them.
package podutils

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// JobSpec is what a run knows about itself, passed to every container as
// JSON in $JOB_SPEC (Prow's downward API).
type JobSpec struct {
	Type      v1alpha1.ProwJobType `json:"type,omitempty"`
	Job       string               `json:"job,omitempty"`
	BuildID   string               `json:"buildid,omitempty"`
	ProwJobID string               `json:"prowjobid,omitempty"`
	Refs      *Refs                `json:"refs,omitempty"`
	ExtraRefs []Refs               `json:"extra_refs,omitempty"`
}

// Refs is a repository and the pull requests merged onto it, in Prow's JSON.
type Refs struct {
	Org                 string   `json:"org"`
	Repo                string   `json:"repo"`
	RepoLink            string   `json:"repo_link,omitempty"`
	BaseRef             string   `json:"base_ref,omitempty"`
	BaseSHA             string   `json:"base_sha,omitempty"`
	BaseLink            string   `json:"base_link,omitempty"`
	Pulls               []Pull   `json:"pulls,omitempty"`
	PathAlias           string   `json:"path_alias,omitempty"`
	WorkDir             bool     `json:"workdir,omitempty"`
	CloneURI            string   `json:"clone_uri,omitempty"`
	SkipSubmodules      bool     `json:"skip_submodules,omitempty"`
	CloneDepth          int      `json:"clone_depth,omitempty"`
	SkipFetchHead       bool     `json:"skip_fetch_head,omitempty"`
	BloblessFetch       bool     `json:"blobless_fetch,omitempty"`
	SparseCheckoutFiles []string `json:"sparse_checkout_files,omitempty"`
}

// Pull is one pull request of Refs, in Prow's JSON.
type Pull struct {
	Number     int    `json:"number"`
	Author     string `json:"author"`
	SHA        string `json:"sha"`
	Title      string `json:"title,omitempty"`
	Ref        string `json:"ref,omitempty"`
	HeadRef    string `json:"head_ref,omitempty"`
	Link       string `json:"link,omitempty"`
	CommitLink string `json:"commit_link,omitempty"`
	AuthorLink string `json:"author_link,omitempty"`
}

// String renders refs as Prow's $PULL_REFS: "base:sha,1:sha,2:sha".
func (r Refs) String() string {
	var b strings.Builder
	b.WriteString(r.BaseRef)
	if r.BaseSHA != "" {
		b.WriteString(":" + r.BaseSHA)
	}
	for _, p := range r.Pulls {
		b.WriteString("," + strconv.Itoa(p.Number))
		if p.SHA != "" {
			b.WriteString(":" + p.SHA)
		}
	}
	return b.String()
}

// Path is where the repository is cloned, relative to the source root
// ($GOPATH): src/<path_alias>, or src/github.com/<org>/<repo>.
func (r Refs) Path() string {
	if r.PathAlias != "" {
		return "src/" + r.PathAlias
	}
	return "src/github.com/" + r.Org + "/" + r.Repo
}

// JobSpecFor builds the job spec of a ProwJob. buildID is the run's build
// ID (the ProwJob's status.buildID once set).
func JobSpecFor(pj *v1alpha1.ProwJob, buildID string) JobSpec {
	spec := JobSpec{
		Type:      pj.Spec.Type,
		Job:       pj.Spec.Job,
		BuildID:   buildID,
		ProwJobID: pj.Name,
	}
	if pj.Spec.Refs != nil {
		r := refsFrom(*pj.Spec.Refs)
		spec.Refs = &r
	}
	for _, er := range pj.Spec.ExtraRefs {
		spec.ExtraRefs = append(spec.ExtraRefs, refsFrom(er))
	}
	return spec
}

// AllRefs returns the refs followed by the extra refs: everything to clone.
func (s JobSpec) AllRefs() []Refs {
	var out []Refs
	if s.Refs != nil {
		out = append(out, *s.Refs)
	}
	return append(out, s.ExtraRefs...)
}

// WorkDirRefs returns the refs whose clone is the working directory: the
// first with workdir set, else the main refs, else the first extra refs.
func (s JobSpec) WorkDirRefs() (Refs, bool) {
	all := s.AllRefs()
	for _, r := range all {
		if r.WorkDir {
			return r, true
		}
	}
	if len(all) > 0 {
		return all[0], true
	}
	return Refs{}, false
}

// Revision is the commit a run tested, as Prow reports it in finished.json:
// the first pull request's head, else the base commit, else the base ref.
func (s JobSpec) Revision() string {
	if s.Refs == nil {
		return ""
	}
	if len(s.Refs.Pulls) > 0 && s.Refs.Pulls[0].SHA != "" {
		return s.Refs.Pulls[0].SHA
	}
	if s.Refs.BaseSHA != "" {
		return s.Refs.BaseSHA
	}
	return s.Refs.BaseRef
}

func refsFrom(r v1alpha1.Refs) Refs {
	out := Refs{
		Org:                 r.Org,
		Repo:                r.Repo,
		RepoLink:            r.RepoLink,
		BaseRef:             r.BaseRef,
		BaseSHA:             r.BaseSHA,
		BaseLink:            r.BaseLink,
		PathAlias:           r.PathAlias,
		WorkDir:             r.WorkDir,
		CloneURI:            r.CloneURI,
		SkipSubmodules:      r.SkipSubmodules,
		CloneDepth:          int(r.CloneDepth),
		SkipFetchHead:       r.SkipFetchHead,
		BloblessFetch:       r.BloblessFetch,
		SparseCheckoutFiles: r.SparseCheckoutFiles,
	}
	for _, p := range r.Pulls {
		out.Pulls = append(out.Pulls, Pull{
			Number:     int(p.Number),
			Author:     p.Author,
			SHA:        p.SHA,
			Title:      p.Title,
			Ref:        p.Ref,
			HeadRef:    p.HeadRef,
			Link:       p.Link,
			CommitLink: p.CommitLink,
			AuthorLink: p.AuthorLink,
		})
	}
	return out
}

// EnvVar is one variable of the job environment.
type EnvVar struct {
	Name  string
	Value string
}

// Environment returns Prow's environment contract for a run, in a fixed
// order: CI, ARTIFACTS, JOB_NAME, JOB_TYPE, JOB_SPEC, BUILD_ID (and
// BUILD_NUMBER, its old name), PROW_JOB_ID, then the refs variables for
// jobs with refs, then the pull request variables for presubmits.
// artifactsDir is the value of $ARTIFACTS.
func Environment(spec JobSpec, artifactsDir string) ([]EnvVar, error) {
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encode job spec: %w", err)
	}
	env := []EnvVar{
		{"CI", "true"},
		{"ARTIFACTS", artifactsDir},
		{"JOB_NAME", spec.Job},
		{"JOB_TYPE", string(spec.Type)},
		{"JOB_SPEC", string(raw)},
		{"BUILD_ID", spec.BuildID},
		{"BUILD_NUMBER", spec.BuildID},
		{"PROW_JOB_ID", spec.ProwJobID},
	}
	refs := spec.Refs
	if refs == nil && spec.Type == v1alpha1.PeriodicJob && len(spec.ExtraRefs) > 0 {
		// Prow describes a periodic by its first extra refs.
		refs = &spec.ExtraRefs[0]
	}
	if refs == nil {
		return env, nil
	}
	env = append(env,
		EnvVar{"REPO_OWNER", refs.Org},
		EnvVar{"REPO_NAME", refs.Repo},
		EnvVar{"PULL_BASE_REF", refs.BaseRef},
		EnvVar{"PULL_BASE_SHA", refs.BaseSHA},
		EnvVar{"PULL_REFS", refs.String()},
	)
	if spec.Type == v1alpha1.PresubmitJob && len(refs.Pulls) > 0 {
		p := refs.Pulls[0]
		env = append(env,
			EnvVar{"PULL_NUMBER", strconv.Itoa(p.Number)},
			EnvVar{"PULL_PULL_SHA", p.SHA},
			EnvVar{"PULL_HEAD_REF", p.HeadRef},
			EnvVar{"PULL_TITLE", p.Title},
		)
	}
	return env, nil
}

// JobSpecFromEnv reads $JOB_SPEC.
func JobSpecFromEnv() (JobSpec, error) {
	raw := os.Getenv("JOB_SPEC")
	if raw == "" {
		return JobSpec{}, fmt.Errorf("$JOB_SPEC is not set")
	}
	var spec JobSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return JobSpec{}, fmt.Errorf("parse $JOB_SPEC: %w", err)
	}
	return spec, nil
}
