package trigger

import (
	"github.com/bowline-ci/bowline/schema/snapshot"
)

// SnapshotSource gives the applied config revision; a *snapshot.Store is
// one.
type SnapshotSource interface {
	Current() *snapshot.Snapshot
}

// FromSnapshot reads the trigger's configuration from the applied
// revision at every event: the repository's presubmits and postsubmits,
// its triggers entry of plugins.yaml, and prowjob_namespace, unless
// namespace overrides it.
func FromSnapshot(src SnapshotSource, namespace string) ConfigSource {
	return snapshotConfig{src: src, namespace: namespace}
}

type snapshotConfig struct {
	src       SnapshotSource
	namespace string
}

func (s snapshotConfig) TriggerConfig(org, repo string) *Config {
	snap := s.src.Current()
	if snap == nil || snap.Config == nil || snap.Config.Jobs == nil {
		return nil
	}
	set := snap.Config
	key := org + "/" + repo
	cfg := &Config{
		Presubmits:  set.Jobs.Presubmits[key],
		Postsubmits: set.Jobs.Postsubmits[key],
		Namespace:   s.namespace,
	}
	if cfg.Namespace == "" && set.Config != nil {
		cfg.Namespace = set.Config.ProwJobNamespace
	}
	if set.Plugins != nil {
		if t := set.Plugins.TriggerFor(org, repo); t != nil {
			cfg.Trigger = *t
		}
	}
	return cfg
}
