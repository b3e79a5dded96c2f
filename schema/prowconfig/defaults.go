package prowconfig

import (
	"slices"
	"strings"
	"time"

	"github.com/bowline-ci/bowline/schema/jobs"
)

// Prow's defaults for config.yaml.
const (
	DefaultNamespace             = "default"
	DefaultPodPendingTimeout     = 10 * time.Minute
	DefaultPodRunningTimeout     = 48 * time.Hour
	DefaultPodUnscheduledTimeout = 5 * time.Minute
	DefaultMaxRevivals           = 3
	DefaultSinkerResyncPeriod    = time.Hour
	DefaultMaxProwJobAge         = 7 * 24 * time.Hour
	DefaultMaxPodAge             = 24 * time.Hour
	DefaultTideSyncPeriod        = time.Minute
	DefaultDeckTideUpdatePeriod  = 10 * time.Second
	DefaultHorologiumTick        = time.Minute
	DefaultJobTimeout            = 24 * time.Hour
	DefaultPushGatewayInterval   = time.Minute
	DefaultLogLevel              = "info"
)

func dur(d time.Duration) *jobs.Duration { return &jobs.Duration{Duration: d} }

func defaultDur(p **jobs.Duration, d time.Duration) {
	if *p == nil {
		*p = dur(d)
	}
}

// SetDefaults fills in Prow's defaults for every unset setting.
func (c *Config) SetDefaults() {
	if c.ProwJobNamespace == "" {
		c.ProwJobNamespace = DefaultNamespace
	}
	if c.PodNamespace == "" {
		c.PodNamespace = DefaultNamespace
	}
	if c.LogLevel == "" {
		c.LogLevel = DefaultLogLevel
	}
	defaultDur(&c.Plank.PodPendingTimeout, DefaultPodPendingTimeout)
	defaultDur(&c.Plank.PodRunningTimeout, DefaultPodRunningTimeout)
	defaultDur(&c.Plank.PodUnscheduledTimeout, DefaultPodUnscheduledTimeout)
	if c.Plank.MaxRevivals == nil {
		n := DefaultMaxRevivals
		c.Plank.MaxRevivals = &n
	}
	defaultDur(&c.Sinker.ResyncPeriod, DefaultSinkerResyncPeriod)
	defaultDur(&c.Sinker.MaxProwJobAge, DefaultMaxProwJobAge)
	defaultDur(&c.Sinker.MaxPodAge, DefaultMaxPodAge)
	if c.Sinker.TerminatedPodTTL == nil {
		c.Sinker.TerminatedPodTTL = dur(c.Sinker.MaxPodAge.Duration)
	}
	defaultDur(&c.Tide.SyncPeriod, DefaultTideSyncPeriod)
	if c.Tide.StatusUpdatePeriod == nil {
		c.Tide.StatusUpdatePeriod = dur(c.Tide.SyncPeriod.Duration)
	}
	defaultDur(&c.Deck.TideUpdatePeriod, DefaultDeckTideUpdatePeriod)
	defaultDur(&c.Horologium.TickInterval, DefaultHorologiumTick)
	defaultDur(&c.DefaultJobTimeout, DefaultJobTimeout)
	defaultDur(&c.PushGateway.Interval, DefaultPushGatewayInterval)
	if len(c.GitHubReporter.JobTypesToReport) == 0 {
		c.GitHubReporter.JobTypesToReport = []string{jobs.TypePresubmit, jobs.TypePostsubmit}
	}
	for k, s := range c.SlackReporterConfigs {
		if s.JobTypesToReport == nil {
			s.JobTypesToReport = []string{jobs.TypePresubmit, jobs.TypePostsubmit, jobs.TypeBatch, jobs.TypePeriodic}
			c.SlackReporterConfigs[k] = s
		}
	}
	if c.GitHubOptions.LinkURLFromConfig == "" {
		c.GitHubOptions.LinkURLFromConfig = "https://github.com"
	}
	if c.StatusErrorLink == "" {
		c.StatusErrorLink = "https://github.com/kubernetes/test-infra/issues"
	}
	// In-repo jobs may use the default cluster unless "*" is set, even to
	// an empty list (which allows none), as in Prow.
	if c.InRepoConfig.AllowedClusters == nil {
		c.InRepoConfig.AllowedClusters = map[string][]string{}
	}
	if c.InRepoConfig.AllowedClusters["*"] == nil {
		c.InRepoConfig.AllowedClusters["*"] = []string{jobs.DefaultCluster}
	}
	// The map form of the decoration defaults is the entry form with "*"
	// first, then orgs, then repos, so narrower keys win.
	if len(c.Plank.DefaultDecorationConfigs) > 0 && len(c.Plank.DefaultDecorationConfigEntries) == 0 {
		c.Plank.DefaultDecorationConfigEntries = entriesFromMap(c.Plank.DefaultDecorationConfigs)
	}
}

func entriesFromMap(m map[string]*jobs.DecorationConfig) []DecorationConfigEntry {
	var out []DecorationConfigEntry
	if def, ok := m["*"]; ok {
		out = append(out, DecorationConfigEntry{OrgRepo: "*", Cluster: "*", Config: def})
	}
	for _, wantRepo := range []bool{false, true} {
		for _, k := range sortedKeys(m) {
			if k == "*" || strings.Contains(k, "/") != wantRepo {
				continue
			}
			out = append(out, DecorationConfigEntry{OrgRepo: k, Cluster: "*", Config: m[k]})
		}
	}
	return out
}

// matches reports whether an entry's repo and cluster filters select a job
// of repo ("org/repo", or "" for periodics without refs) on cluster.
func entryMatches(orgRepo, cluster, repo, jobCluster string) bool {
	repoOK := orgRepo == "" || orgRepo == "*" || orgRepo == repo ||
		(repo != "" && strings.HasPrefix(repo, orgRepo+"/") && !strings.Contains(orgRepo, "/"))
	clusterOK := cluster == "" || cluster == "*" || cluster == jobCluster
	return repoOK && clusterOK
}

// DecorationFor merges every default decoration entry that applies to a
// job of repo on cluster, later entries winning. Nil when none applies.
func (c *Config) DecorationFor(repo, cluster string) *jobs.DecorationConfig {
	var out *jobs.DecorationConfig
	for _, e := range c.Plank.DefaultDecorationConfigEntries {
		if e.Config == nil || !entryMatches(e.OrgRepo, e.Cluster, repo, cluster) {
			continue
		}
		out = e.Config.ApplyDefault(out)
	}
	return out
}

// ProwJobDefaultFor merges every prowjob_default_entries entry that applies,
// later entries winning.
func (c *Config) ProwJobDefaultFor(repo, cluster string) *jobs.ProwJobDefault {
	var out *jobs.ProwJobDefault
	for _, e := range c.ProwJobDefaultEntries {
		if e.Config == nil || !entryMatches(e.OrgRepo, e.Cluster, repo, cluster) {
			continue
		}
		merged := *e.Config
		if out != nil {
			if merged.TenantID == "" {
				merged.TenantID = out.TenantID
			}
			if merged.ResultStoreConfig == nil {
				merged.ResultStoreConfig = out.ResultStoreConfig
			}
		}
		out = &merged
	}
	return out
}

// JobDefaults are the settings jobs take their defaults from.
func (c *Config) JobDefaults() jobs.Defaults {
	return jobs.Defaults{
		PodNamespace:   c.PodNamespace,
		Decoration:     c.DecorationFor,
		ProwJobDefault: c.ProwJobDefaultFor,
	}
}

// InRepoConfigEnabled reports whether jobs may be defined in a repository:
// the narrowest of "org/repo", "org" and "*" decides.
func (c *Config) InRepoConfigEnabled(org, repo string) bool {
	for _, k := range []string{org + "/" + repo, org, "*"} {
		if v, ok := c.InRepoConfig.Enabled[k]; ok && v != nil {
			return *v
		}
	}
	return false
}

// InRepoConfigAllowsCluster reports whether in-repo jobs of org/repo may
// run on a build cluster: in_repo_config.allowed_clusters lists it for the
// repository, its org or "*" (the lists add up).
func (c *Config) InRepoConfigAllowsCluster(cluster, org, repo string) bool {
	for _, k := range []string{org + "/" + repo, org, "*"} {
		if slices.Contains(c.InRepoConfig.AllowedClusters[k], cluster) {
			return true
		}
	}
	return false
}

// BatchSizeLimit is the merge pool's batch size for a repo: 0 unlimited, -1
// no batches.
func (t *Tide) BatchSizeLimit(org, repo string) int {
	for _, k := range []string{org + "/" + repo, org, "*"} {
		if v, ok := t.BatchSizeLimitMap[k]; ok {
			return v
		}
	}
	return 0
}

// MergeMethod is the merge method of a repo, whatever the branch: merge
// unless configured.
func (t *Tide) MergeMethod(org, repo string) string {
	return t.MergeMethodFor(org, repo, "")
}
