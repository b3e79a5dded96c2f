package prowconfig

import (
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// Deck configures the web UI.
type Deck struct {
	Spyglass                  Spyglass                        `json:"spyglass,omitempty"`
	TideUpdatePeriod          *jobs.Duration                  `json:"tide_update_period,omitempty"`
	HiddenRepos               []string                        `json:"hidden_repos,omitempty"`
	ExternalAgentLogs         []ExternalAgentLog              `json:"external_agent_logs,omitempty"`
	Branding                  *Branding                       `json:"branding,omitempty"`
	GoogleAnalytics           string                          `json:"google_analytics,omitempty"`
	RerunAuthConfigs          map[string]jobs.RerunAuthConfig `json:"rerun_auth_configs,omitempty"`
	DefaultRerunAuthConfigs   []DefaultRerunAuthConfigEntry   `json:"default_rerun_auth_configs,omitempty"`
	SkipStoragePathValidation *bool                           `json:"skip_storage_path_validation,omitempty"`
	AdditionalAllowedBuckets  []string                        `json:"additional_allowed_buckets,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// Spyglass configures the job artifact viewers.
type Spyglass struct {
	Viewers                    map[string][]string `json:"viewers,omitempty"`
	Lenses                     []LensFileConfig    `json:"lenses,omitempty"`
	SizeLimit                  int64               `json:"size_limit,omitempty"`
	GCSBrowserPrefix           string              `json:"gcs_browser_prefix,omitempty"`
	GCSBrowserPrefixes         map[string]string   `json:"gcs_browser_prefixes,omitempty"`
	GCSBrowserPrefixesByBucket map[string]string   `json:"gcs_browser_prefixes_by_bucket,omitempty"`
	TestGridConfig             string              `json:"testgrid_config,omitempty"`
	TestGridRoot               string              `json:"testgrid_root,omitempty"`
	HidePRHistLink             bool                `json:"hide_pr_history_link,omitempty"`
	PRHistLinkTemplate         string              `json:"pr_history_link_template,omitempty"`
	BucketAliases              map[string]string   `json:"bucket_aliases,omitempty"`
	Announcement               string              `json:"announcement,omitempty"`
}

// LensFileConfig selects a viewer for artifacts matching file patterns.
type LensFileConfig struct {
	RequiredFiles []string          `json:"required_files"`
	OptionalFiles []string          `json:"optional_files,omitempty"`
	Lens          LensConfig        `json:"lens"`
	RemoteConfig  *LensRemoteConfig `json:"remote_config,omitempty"`
}

// LensConfig names a viewer; Config is the viewer's own free-form settings.
type LensConfig struct {
	Name   string `json:"name"`
	Config any    `json:"config,omitempty"`
}

// LensRemoteConfig says where a remote viewer lives.
type LensRemoteConfig struct {
	Endpoint   string `json:"endpoint,omitempty"`
	ParsedURL  string `json:"-"`
	StaticRoot string `json:"static_root,omitempty"`
	Title      string `json:"title,omitempty"`
	Priority   *uint  `json:"priority,omitempty"`
	HideTitle  *bool  `json:"hide_title,omitempty"`
}

// ExternalAgentLog links logs of jobs run by an external agent.
type ExternalAgentLog struct {
	Agent             string `json:"agent,omitempty"`
	SelectorString    string `json:"selector,omitempty"`
	URLTemplateString string `json:"url_template,omitempty"`
}

// Branding customises the web UI's look.
type Branding struct {
	Logo            string `json:"logo,omitempty"`
	Favicon         string `json:"favicon,omitempty"`
	BackgroundColor string `json:"background_color,omitempty"`
	HeaderColor     string `json:"header_color,omitempty"`
}

// DefaultRerunAuthConfigEntry says who may rerun jobs of matching repos and
// clusters.
type DefaultRerunAuthConfigEntry struct {
	OrgRepo         string                `json:"repo,omitempty"`
	Cluster         string                `json:"cluster,omitempty"`
	RerunAuthConfig *jobs.RerunAuthConfig `json:"rerun_auth_configs,omitempty"`
}
