// Package configset loads a whole Prow-style configuration repository:
// config.yaml, job config directories, plugins.yaml, supplemental config
// directories, peribolos org files, labels.yaml and OWNERS files. It
// decodes every file strictly and concurrently, applies Prow's defaults and
// runs Prow's checks, and reports every problem at once as
// file:line:col: message.
package configset

import (
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/bowline-ci/bowline/schema/deploy"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/labels"
	"github.com/bowline-ci/bowline/schema/orgs"
	"github.com/bowline-ci/bowline/schema/owners"
	"github.com/bowline-ci/bowline/schema/plugins"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// Errors is the list of problems a load found, sorted; Load returns it as
// its error (use errors.As).
type Errors = yamlpos.Errors

// Error is one problem.
type Error = yamlpos.Error

// Options say which files make up the configuration. Empty paths are
// absent.
type Options struct {
	// ConfigPath is config.yaml.
	ConfigPath string
	// JobConfigPath is a job config file or a directory of them.
	JobConfigPath string
	// PluginConfigPath is plugins.yaml.
	PluginConfigPath string
	// SupplementalProwConfigDirs hold *_prowconfig.yaml files merged into
	// config.yaml.
	SupplementalProwConfigDirs []string
	// SupplementalPluginConfigDirs hold *_pluginconfig.yaml files merged
	// into plugins.yaml.
	SupplementalPluginConfigDirs []string
	// OrgConfigPaths are peribolos files, or directories of org.yaml and
	// teams.yaml files.
	OrgConfigPaths []string
	// LabelsPath is label_sync's labels.yaml.
	LabelsPath string
	// OwnersDir is searched for OWNERS and OWNERS_ALIASES files.
	OwnersDir string
	// DeployDir holds bowline's own deployment file (deploy.FileName); it
	// may also name that file itself.
	DeployDir string
	// Trusted skips the semantic checks, for input that was checked before
	// (a published snapshot): files are still decoded strictly and
	// defaulted.
	Trusted bool
	// Strict turns every warning into an error: what Prow accepts but is
	// almost certainly a mistake, and fields bowline does not act on yet.
	Strict bool
}

// Set is a loaded configuration.
type Set struct {
	// Config is config.yaml, defaulted (never nil).
	Config *prowconfig.Config
	// Jobs are the jobs of config.yaml and the job config files, defaulted
	// and with presets applied (never nil).
	Jobs *jobs.Config
	// Plugins is plugins.yaml (never nil; empty when absent).
	Plugins *plugins.Config
	// Orgs is the merged org config; nil when no org config was given.
	Orgs *orgs.Config
	// Labels is labels.yaml; nil when absent.
	Labels *labels.Config
	// Owners holds the OWNERS files; nil when no directory was given.
	Owners *owners.Set
	// Deploy is bowline's own deployment file; nil when there is none.
	Deploy *deploy.Config
	// Files lists every file read, sorted, as paths of the file system.
	Files []string
	// Warnings are problems that do not make the configuration invalid,
	// sorted.
	Warnings []Error
}

// Summary counts what a Set holds.
type Summary struct {
	Presubmits      int `json:"presubmits"`
	Postsubmits     int `json:"postsubmits"`
	Periodics       int `json:"periodics"`
	Repositories    int `json:"repositories"`
	Plugins         int `json:"plugins"`
	ExternalPlugins int `json:"externalPlugins"`
	Orgs            int `json:"orgs,omitempty"`
	Teams           int `json:"teams,omitempty"`
	Labels          int `json:"labels,omitempty"`
	OwnersFiles     int `json:"ownersFiles,omitempty"`
}

// Summary counts jobs by type, the repositories with presubmits or
// postsubmits, the distinct plugins enabled, and the orgs, teams, labels
// and OWNERS files.
func (s *Set) Summary() Summary {
	var sum Summary
	repos := map[string]bool{}
	for repo, l := range s.Jobs.Presubmits {
		sum.Presubmits += len(l)
		repos[repo] = true
	}
	for repo, l := range s.Jobs.Postsubmits {
		sum.Postsubmits += len(l)
		repos[repo] = true
	}
	sum.Periodics = len(s.Jobs.Periodics)
	sum.Repositories = len(repos)
	sum.Plugins = len(s.Plugins.PluginNames())
	ext := map[string]bool{}
	for _, l := range s.Plugins.ExternalPlugins {
		for _, p := range l {
			ext[p.Name] = true
		}
	}
	sum.ExternalPlugins = len(ext)
	if s.Orgs != nil {
		sum.Orgs = len(s.Orgs.Orgs)
		for _, o := range s.Orgs.Orgs {
			sum.Teams += o.Count().Teams
		}
	}
	if s.Labels != nil {
		sum.Labels = s.Labels.Count()
	}
	if s.Owners != nil {
		sum.OwnersFiles = len(s.Owners.Files)
	}
	return sum
}

// Load reads the configuration from fsys. Paths in opts are fs.FS paths
// (slash-separated, no leading slash). When the configuration is invalid
// the Set is nil and the error is an *Errors listing every problem.
func Load(ctx context.Context, fsys fs.FS, opts Options) (*Set, error) {
	l := newLoader(ctx, fsys, opts, func(p string) string { return p })
	return l.load()
}

// LoadDir reads the configuration from the operating system's files. Paths
// in opts may be absolute, or relative to dir ("" for the working
// directory); messages name files by the paths given.
func LoadDir(ctx context.Context, dir string, opts Options) (*Set, error) {
	base, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root := filepath.VolumeName(base) + string(filepath.Separator)
	prefixes := map[string]string{} // fs path → path as given
	conv := func(p string) string {
		if p == "" {
			return ""
		}
		abs := p
		if !filepath.IsAbs(p) {
			abs = filepath.Join(base, p)
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil {
			return p
		}
		fp := filepath.ToSlash(rel)
		prefixes[fp] = filepath.ToSlash(p)
		return fp
	}
	convAll := func(ps []string) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = conv(p)
		}
		return out
	}
	fsOpts := opts
	fsOpts.ConfigPath = conv(opts.ConfigPath)
	fsOpts.JobConfigPath = conv(opts.JobConfigPath)
	fsOpts.PluginConfigPath = conv(opts.PluginConfigPath)
	fsOpts.LabelsPath = conv(opts.LabelsPath)
	fsOpts.OwnersDir = conv(opts.OwnersDir)
	fsOpts.DeployDir = conv(opts.DeployDir)
	fsOpts.SupplementalProwConfigDirs = convAll(opts.SupplementalProwConfigDirs)
	fsOpts.SupplementalPluginConfigDirs = convAll(opts.SupplementalPluginConfigDirs)
	fsOpts.OrgConfigPaths = convAll(opts.OrgConfigPaths)
	display := func(p string) string {
		best := ""
		for fp := range prefixes {
			if (p == fp || strings.HasPrefix(p, fp+"/")) && len(fp) > len(best) {
				best = fp
			}
		}
		if best == "" {
			return "/" + p
		}
		return path.Clean(prefixes[best] + strings.TrimPrefix(p, best))
	}
	l := newLoader(ctx, os.DirFS(root), fsOpts, display)
	return l.load()
}

func newLoader(ctx context.Context, fsys fs.FS, opts Options, display func(string) string) *loader {
	l := &loader{ctx: ctx, fsys: fsys, opts: opts, dec: yamlpos.NewDecoder(), display: display,
		gunzip: newGunzipBudget(), regunzip: newGunzipBudget()}
	if !opts.Trusted {
		l.dec.Watch(func(owner reflect.Type, field string) bool {
			_, ok := notSupportedField(owner, field)
			return ok
		}, l.uses.seen)
	}
	return l
}

type loader struct {
	ctx     context.Context
	fsys    fs.FS
	opts    Options
	dec     *yamlpos.Decoder
	display func(string) string

	errs  yamlpos.Errors
	files []string
	// uses records where fields bowline does not act on yet are set.
	uses fieldUses
	// byDisplay maps the names messages give files to their paths, built
	// when a problem's position must be resolved.
	byDisplay map[string]string
	// gunzip bounds what gzip-compressed files expand to when they are
	// decoded, regunzip when they are read again to place problems.
	gunzip, regunzip *gunzipBudget
}

// task decodes one file into out.
type task struct {
	path string
	out  any
	errs yamlpos.Errors
}

// configFile is config.yaml: Prow's settings and, optionally, jobs.
type configFile struct {
	Prow prowconfig.Config `json:",inline"`
	Jobs jobs.Config       `json:",inline"`
}

func (l *loader) load() (*Set, error) {
	o := l.opts
	var (
		cfgTask     *task
		jobTasks    []*task
		suppProw    []*task
		pluginTask  *task
		suppPlugins []*task
		orgTasks    []*task
		labelsTask  *task
		ownerTasks  []*task
		deployTask  *task
		all         []*task
	)
	add := func(p string, out any) *task {
		t := &task{path: p, out: out}
		all = append(all, t)
		return t
	}
	// The two big single files go first, so that no worker is left
	// parsing one of them after the many small job files are done.
	if o.PluginConfigPath != "" {
		pluginTask = add(o.PluginConfigPath, &plugins.Config{})
	}
	if o.ConfigPath != "" {
		cfgTask = add(o.ConfigPath, &configFile{})
	}
	if o.JobConfigPath != "" {
		for _, p := range l.jobFiles(o.JobConfigPath) {
			jobTasks = append(jobTasks, add(p, &jobs.Config{}))
		}
	}
	for _, dir := range o.SupplementalProwConfigDirs {
		for _, p := range l.suffixFiles(dir, SupplementalProwConfigSuffix) {
			suppProw = append(suppProw, add(p, &prowconfig.Config{}))
		}
	}
	for _, dir := range o.SupplementalPluginConfigDirs {
		for _, p := range l.suffixFiles(dir, SupplementalPluginConfigSuffix) {
			suppPlugins = append(suppPlugins, add(p, &plugins.Config{}))
		}
	}
	for _, root := range o.OrgConfigPaths {
		for _, p := range l.orgFiles(root) {
			var out any
			switch orgs.KindOf(p) {
			case orgs.KindOrg:
				out = &orgs.Org{}
			case orgs.KindTeams:
				out = &orgs.TeamsFile{}
			default:
				out = &orgs.Config{}
			}
			orgTasks = append(orgTasks, add(p, out))
		}
	}
	if o.LabelsPath != "" {
		labelsTask = add(o.LabelsPath, &labels.Config{})
	}
	if o.OwnersDir != "" {
		for _, p := range l.ownersFiles(o.OwnersDir) {
			if path.Base(p) == owners.AliasesFileName {
				ownerTasks = append(ownerTasks, add(p, &owners.Aliases{}))
			} else {
				ownerTasks = append(ownerTasks, add(p, &owners.File{}))
			}
		}
	}
	if o.DeployDir != "" {
		if p := l.deployFile(o.DeployDir); p != "" {
			deployTask = add(p, &deploy.Config{})
		}
	}
	if err := l.decodeAll(all); err != nil {
		return nil, err
	}
	for _, t := range all {
		l.errs.Append(&t.errs)
		l.files = append(l.files, t.path)
	}

	set := &Set{Config: &prowconfig.Config{}, Jobs: &jobs.Config{}, Plugins: &plugins.Config{}}
	if cfgTask != nil {
		cf := cfgTask.out.(*configFile)
		set.Config = &cf.Prow
		set.Jobs = &cf.Jobs
	}
	l.mergeJobs(set.Jobs, jobTasks)
	l.mergeSupplementalProw(set.Config, suppProw)
	if pluginTask != nil {
		set.Plugins = pluginTask.out.(*plugins.Config)
		set.Plugins.SetFile(l.display(pluginTask.path))
	}
	l.mergeSupplementalPlugins(set.Plugins, suppPlugins)
	if len(o.OrgConfigPaths) > 0 {
		set.Orgs = l.mergeOrgs(orgTasks)
	}
	if labelsTask != nil {
		set.Labels = labelsTask.out.(*labels.Config)
	}
	if o.OwnersDir != "" {
		set.Owners = l.ownersSet(o.OwnersDir, ownerTasks)
	}
	if deployTask != nil {
		set.Deploy = deployTask.out.(*deploy.Config)
	}

	set.Config.SetDefaults()
	set.Jobs.SetDefaults(set.Config.JobDefaults())
	set.Jobs.ApplyPresets(&l.errs)
	set.Plugins.SetDefaults()
	if set.Labels != nil {
		set.Labels.SetDefaults()
	}
	if !o.Trusted {
		l.validate(set, pluginTask)
		l.warnUnsupported(set)
	}
	slices.Sort(l.files)
	set.Files = slices.Compact(l.files)
	l.errs.Resolve(l.readDisplayed)
	if o.Strict {
		l.errs.Strict()
	}
	if err := l.errs.Err(); err != nil {
		return nil, err
	}
	l.errs.Sort()
	set.Warnings = l.errs.Warnings
	return set, nil
}

// decodeAll reads and decodes the files on GOMAXPROCS workers. Each worker
// holds one file's YAML tree at a time.
func (l *loader) decodeAll(all []*task) error {
	work := make(chan *task)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(1, len(all))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				l.decode(t)
			}
		}()
	}
	var err error
	for _, t := range all {
		if err = l.ctx.Err(); err != nil {
			break
		}
		work <- t
	}
	close(work)
	wg.Wait()
	return err
}

func (l *loader) decode(t *task) {
	name := l.display(t.path)
	data, err := l.readFile(t.path, l.gunzip)
	if err != nil {
		var msg string
		if pe, ok := err.(*fs.PathError); ok {
			msg = pe.Op + ": " + pe.Err.Error()
		} else {
			msg = err.Error()
		}
		t.errs.Add(name, 0, 0, "%s", msg)
		return
	}
	l.dec.Decode(name, data, t.out, &t.errs)
}

// readDisplayed reads a file by the name messages give it, to place
// problems found after decoding at their exact values.
func (l *loader) readDisplayed(name string) ([]byte, bool) {
	if l.byDisplay == nil {
		l.byDisplay = make(map[string]string, len(l.files))
		for _, p := range l.files {
			l.byDisplay[l.display(p)] = p
		}
	}
	p, ok := l.byDisplay[name]
	if !ok {
		return nil, false
	}
	data, err := l.readFile(p, l.regunzip)
	return data, err == nil
}

// readFile reads a file the loader decodes, expanding it within budget if
// it is gzip-compressed, as Prow does.
func (l *loader) readFile(p string, budget *gunzipBudget) ([]byte, error) {
	data, err := fs.ReadFile(l.fsys, p)
	if err != nil {
		return nil, err
	}
	return budget.maybeGunzip(data)
}
func (l *loader) validate(set *Set, pluginTask *task) {
	set.Config.Validate(&l.errs)
	set.Jobs.Validate(jobs.ValidateOptions{JobQueueCapacities: set.Config.Plank.JobQueueCapacities}, &l.errs)
	pluginsFile := ""
	if pluginTask != nil {
		pluginsFile = l.display(pluginTask.path)
	}
	set.Plugins.Validate(pluginsFile, &l.errs)
	if set.Orgs != nil {
		set.Orgs.Validate(&l.errs)
	}
	if set.Labels != nil {
		set.Labels.Validate(&l.errs)
	}
	if set.Owners != nil {
		for _, dir := range sortedKeys(set.Owners.Files) {
			set.Owners.Files[dir].Validate(&l.errs)
		}
	}
	if set.Deploy != nil {
		set.Deploy.Validate(&l.errs)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// BranchPolicy is the effective branch protection of a branch: config.yaml's
// policy inherited from org to repo to branch, with the contexts of the
// branch's required presubmits added. Nil when the branch is not protected.
func (s *Set) BranchPolicy(org, repo, branch string) *prowconfig.Policy {
	jc := prowconfig.JobContextsFor(s.Jobs.Presubmits[org+"/"+repo], branch)
	return s.Config.BranchProtection.GetPolicy(org, repo, branch, jc)
}
