package snapshot

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Default locations of each kind of configuration, the layout of Prow's own
// config repositories.
const (
	DefaultConfigPath  = "config/prow/config.yaml"
	DefaultJobsPath    = "config/jobs"
	DefaultPluginsPath = "config/prow/plugins.yaml"
	DefaultOrgsPath    = "config/orgs"
	DefaultLabelsPath  = "config/labels.yaml"
	DefaultDeployPath  = "config/bowline"
)

// WithDefaults fills the empty fields of p with the default paths.
func WithDefaults(p v1alpha1.ConfigPaths) v1alpha1.ConfigPaths {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&p.Config, DefaultConfigPath)
	def(&p.Jobs, DefaultJobsPath)
	def(&p.Plugins, DefaultPluginsPath)
	def(&p.Orgs, DefaultOrgsPath)
	def(&p.Labels, DefaultLabelsPath)
	def(&p.Deploy, DefaultDeployPath)
	return p
}

// LoadPaths lists the paths of p (defaults applied) that the loader reads,
// files and directories alike.
func LoadPaths(p v1alpha1.ConfigPaths) []string {
	p = WithDefaults(p)
	return []string{p.Config, p.Jobs, p.Plugins, p.Orgs, p.Labels, p.Deploy}
}

// Options maps a ConfigRepository's paths to loader options: defaults for
// empty paths, and a path missing from fsys leaves that kind of
// configuration out.
func Options(fsys fs.FS, p v1alpha1.ConfigPaths, trusted bool) configset.Options {
	p = WithDefaults(p)
	present := func(name string) string {
		if _, err := fs.Stat(fsys, name); err != nil {
			return ""
		}
		return name
	}
	o := configset.Options{
		ConfigPath:       present(p.Config),
		JobConfigPath:    present(p.Jobs),
		PluginConfigPath: present(p.Plugins),
		LabelsPath:       present(p.Labels),
		DeployDir:        present(p.Deploy),
		Trusted:          trusted,
	}
	if orgs := present(p.Orgs); orgs != "" {
		o.OrgConfigPaths = []string{orgs}
	}
	return o
}

// Load parses the configuration in fsys. trusted skips semantic validation:
// use it only for content that was validated before it was published.
func Load(ctx context.Context, fsys fs.FS, p v1alpha1.ConfigPaths, trusted bool) (*configset.Set, error) {
	return configset.Load(ctx, fsys, Options(fsys, p, trusted))
}

// Restore reads the snapshot repo's status points to, verifies it and loads
// it in trusted mode. It returns nil when nothing is published.
func Restore(ctx context.Context, p *Publisher, repo *v1alpha1.ConfigRepository, now time.Time) (*Snapshot, error) {
	ref := repo.Status.Snapshot
	if ref == nil || ref.Digest == "" {
		return nil, nil
	}
	data, err := p.Fetch(ctx, repo, ref)
	if err != nil {
		return nil, err
	}
	fsys, err := Unpack(data, ref.Digest)
	if err != nil {
		return nil, err
	}
	paths, err := archivePaths(fsys, repo.Spec.Paths)
	if err != nil {
		return nil, err
	}
	set, err := Load(ctx, fsys, paths, true)
	if err != nil {
		return nil, fmt.Errorf("load snapshot %s: %w", ref.Digest, err)
	}
	return &Snapshot{Revision: ref.Revision, Digest: ref.Digest, Config: set, LoadedAt: now}, nil
}
