package inrepo

import (
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// Where a repository defines its own jobs, as in Prow: the .prow directory
// (every YAML file under it) or, when there is none, the .prow.yaml file.
const (
	FileName = ".prow.yaml"
	DirName  = ".prow"
)

// IsConfigPath reports whether a changed file may change a repository's
// in-repo config.
func IsConfigPath(p string) bool {
	return p == FileName || strings.HasPrefix(p, DirName+"/") || p == configset.ProwIgnoreFileName
}

// ProwYAML is one in-repo config file: presets and jobs, with no org/repo
// keys (they are the repository's own).
type ProwYAML struct {
	Presets     []jobs.Preset     `json:"presets,omitempty"`
	Presubmits  []jobs.Presubmit  `json:"presubmits,omitempty"`
	Postsubmits []jobs.Postsubmit `json:"postsubmits,omitempty"`
	// ProwIgnored is free-form, a place for YAML anchors.
	ProwIgnored any `json:"prow_ignored,omitempty"`
}

// Jobs are a repository's own jobs, with the applied configuration's
// defaults and presets.
type Jobs struct {
	Presubmits  []jobs.Presubmit
	Postsubmits []jobs.Postsubmit
}

// configFiles picks the files that make up the in-repo config from a
// repository's files (paths relative to its root): every YAML file under
// .prow that no .prowignore leaves out, or else .prow.yaml.
func configFiles(files map[string][]byte) []string {
	var dir []string
	for p := range files {
		if strings.HasPrefix(p, DirName+"/") {
			dir = append(dir, p)
		}
	}
	if len(dir) == 0 {
		if _, ok := files[FileName]; ok {
			return []string{FileName}
		}
		return nil
	}
	for p := range files {
		if path.Base(p) == configset.ProwIgnoreFileName {
			dir = append(dir, p)
		}
	}
	slices.Sort(dir)
	return configset.ProwIgnoreFilter(dir, func(p string) []byte { return files[p] })
}

// Load decodes, defaults and checks the in-repo config of org/repo from its
// files (paths relative to the repository's root, as read at one revision
// or merged from several) against the applied configuration set: its
// presets and decoration defaults apply, its in_repo_config must allow each
// job's cluster, and no job may share a name with one of the applied
// configuration's jobs of the repository that runs on the same branches.
// Messages name files as name(path) gives them. A repository without
// in-repo config files has no jobs and no error.
func Load(set *configset.Set, org, repo string, files map[string][]byte, name func(string) string) (*Jobs, error) {
	var errs yamlpos.Errors
	dec := yamlpos.NewDecoder()
	var y ProwYAML
	for _, p := range configFiles(files) {
		var part ProwYAML
		dec.Decode(name(p), files[p], &part, &errs)
		y.Presets = append(y.Presets, part.Presets...)
		y.Presubmits = append(y.Presubmits, part.Presubmits...)
		y.Postsubmits = append(y.Postsubmits, part.Postsubmits...)
	}
	byName := map[string][]byte{}
	for p, data := range files {
		byName[name(p)] = data
	}
	resolve := func() error {
		errs.Resolve(func(f string) ([]byte, bool) { data, ok := byName[f]; return data, ok })
		return errs.Err()
	}
	if err := resolve(); err != nil {
		return nil, err
	}
	key := org + "/" + repo
	c := &jobs.Config{
		Presets:         append(slices.Clone(set.Jobs.Presets), y.Presets...),
		DecorateAllJobs: set.Jobs.DecorateAllJobs,
	}
	if len(y.Presubmits) > 0 {
		c.Presubmits = map[string][]jobs.Presubmit{key: y.Presubmits}
	}
	if len(y.Postsubmits) > 0 {
		c.Postsubmits = map[string][]jobs.Postsubmit{key: y.Postsubmits}
	}
	c.SetDefaults(set.Config.JobDefaults())
	c.ApplyPresets(&errs)
	c.EachJob(func(_ string, j *jobs.JobBase) {
		if !set.Config.InRepoConfigAllowsCluster(j.Cluster, org, repo) {
			errs.AddAt(j.Pos, yamlpos.At("cluster"), "job %q: cluster %q is not allowed for in-repo jobs of %s (in_repo_config.allowed_clusters)", j.Name, j.Cluster, key)
		}
	})
	// Checked together with the applied configuration's jobs of the
	// repository, so that a name cannot be taken twice; only problems of
	// the in-repo jobs are reported (the applied ones were checked when
	// they were applied).
	check := jobs.Config{
		Presets:         c.Presets,
		DecorateAllJobs: c.DecorateAllJobs,
		Presubmits:      map[string][]jobs.Presubmit{key: append(slices.Clone(set.Jobs.Presubmits[key]), c.Presubmits[key]...)},
		Postsubmits:     map[string][]jobs.Postsubmit{key: append(slices.Clone(set.Jobs.Postsubmits[key]), c.Postsubmits[key]...)},
	}
	var all yamlpos.Errors
	check.Validate(jobs.ValidateOptions{JobQueueCapacities: set.Config.Plank.JobQueueCapacities}, &all)
	ours := slices.Collect(maps.Keys(byName))
	for _, e := range all.List {
		if slices.Contains(ours, e.File) {
			errs.List = append(errs.List, e)
		}
	}
	errs.Warnings = nil
	if err := resolve(); err != nil {
		return nil, err
	}
	return &Jobs{Presubmits: c.Presubmits[key], Postsubmits: c.Postsubmits[key]}, nil
}
