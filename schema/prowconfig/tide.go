package prowconfig

import (
	"time"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// Tide configures the merge pool.
type Tide struct {
	SyncPeriod         *jobs.Duration                 `json:"sync_period,omitempty"`
	StatusUpdatePeriod *jobs.Duration                 `json:"status_update_period,omitempty"`
	Queries            []TideQuery                    `json:"queries,omitempty"`
	MergeType          map[string]MergeMethods        `json:"merge_method,omitempty"`
	MergeTemplate      map[string]MergeCommitTemplate `json:"merge_commit_template,omitempty"`
	TargetURL          string                         `json:"target_url,omitempty"`
	TargetURLs         map[string]string              `json:"target_urls,omitempty"`
	PRStatusBaseURL    string                         `json:"pr_status_base_url,omitempty"`
	PRStatusBaseURLs   map[string]string              `json:"pr_status_base_urls,omitempty"`
	BlockerLabel       string                         `json:"blocker_label,omitempty"`
	SquashLabel        string                         `json:"squash_label,omitempty"`
	RebaseLabel        string                         `json:"rebase_label,omitempty"`
	MergeLabel         string                         `json:"merge_label,omitempty"`
	MaxGoroutines      int                            `json:"max_goroutines,omitempty"`
	// MaxQueryConcurrency caps the GitHub searches run at once; 0 is no
	// cap.
	MaxQueryConcurrency int `json:"max_query_concurrency,omitempty"`
	// GitHubMergeBlocksPolicyMap says, by "*", org or org/repo, what to do
	// with pull requests GitHub reports as blocked: ignore, permit (the
	// default) or block.
	GitHubMergeBlocksPolicyMap   map[string]string        `json:"github_merge_blocks_policy,omitempty"`
	BatchSizeLimitMap            map[string]int           `json:"batch_size_limit,omitempty"`
	Priority                     []TidePriority           `json:"priority,omitempty"`
	PrioritizeExistingBatchesMap map[string]bool          `json:"prioritize_existing_batches,omitempty"`
	DisplayAllQueriesInStatus    bool                     `json:"display_all_tide_queries_in_status,omitempty"`
	ContextOptions               TideContextPolicyOptions `json:"context_options,omitempty"`
	Gerrit                       *TideGerrit              `json:"gerrit,omitempty"`
	// Bowline holds bowline's own extensions of the merge pool.
	Bowline TideBowline `json:"bowline,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// TideBowline holds bowline's extensions of the merge pool, which Prow does
// not have (Prow's loader ignores the key; its --strict checkconfig refuses
// it). Unset fields take the defaults below.
type TideBowline struct {
	// SpeculativeDepth is how many batches are tested on top of the batch
	// under test, each as if the ones below it had merged, so that it can
	// merge right after them (Zuul's speculative execution). 0 turns it
	// off. Default 1, at most 10.
	SpeculativeDepth *int `json:"speculative_depth,omitempty"`
	// Bisect tests the two halves of a failed batch, then halves of the
	// failing half, to find the pull request that broke it, instead of
	// testing the same batch again. Default true.
	Bisect *bool `json:"bisect,omitempty"`
	// FullResyncPeriod is how often every open pull request is searched for
	// again; in between, a sync searches only for those updated since the
	// last one, and webhooks keep the rest current. Default 10m; at least
	// sync_period.
	FullResyncPeriod *jobs.Duration `json:"full_resync_period,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// Defaults of TideBowline's fields.
const (
	DefaultSpeculativeDepth = 1
	MaxSpeculativeDepth     = 10
	DefaultFullResyncPeriod = 10 * time.Minute
)

// TideQuery is one GitHub search whose results are merge candidates.
type TideQuery struct {
	Orgs                   []string `json:"orgs,omitempty"`
	Repos                  []string `json:"repos,omitempty"`
	ExcludedRepos          []string `json:"excludedRepos,omitempty"`
	Author                 string   `json:"author,omitempty"`
	Labels                 []string `json:"labels,omitempty"`
	MissingLabels          []string `json:"missingLabels,omitempty"`
	ExcludedBranches       []string `json:"excludedBranches,omitempty"`
	IncludedBranches       []string `json:"includedBranches,omitempty"`
	Milestone              string   `json:"milestone,omitempty"`
	ReviewApprovedRequired bool     `json:"reviewApprovedRequired,omitempty"`

	Pos yamlpos.Pos `json:"-"`
}

// MergeCommitTemplate overrides the merge commit's title and body (Go
// templates over the pull request).
type MergeCommitTemplate struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
}

// TidePriority is a set of labels whose pull requests merge first.
type TidePriority struct {
	Labels []string `json:"labels,omitempty"`
}

// TideContextPolicy says which status contexts must pass.
type TideContextPolicy struct {
	RequiredContexts          []string `json:"required-contexts,omitempty"`
	RequiredIfPresentContexts []string `json:"required-if-present-contexts,omitempty"`
	OptionalContexts          []string `json:"optional-contexts,omitempty"`
	// OptionalRegexContexts are regular expressions; a context any of
	// them matches is optional, even one that is also required.
	OptionalRegexContexts    []string `json:"optional-regex-contexts,omitempty"`
	SkipUnknownContexts      *bool    `json:"skip-unknown-contexts,omitempty"`
	FromBranchProtection     *bool    `json:"from-branch-protection,omitempty"`
	OverwritePendingContexts *bool    `json:"overwrite-pending-contexts,omitempty"`
}

// TideContextPolicyOptions holds context policies by org, repo and branch.
type TideContextPolicyOptions struct {
	TideContextPolicy `json:",inline"`
	Orgs              map[string]TideOrgContextPolicy `json:"orgs,omitempty"`
}

// TideOrgContextPolicy is an org's context policy.
type TideOrgContextPolicy struct {
	TideContextPolicy `json:",inline"`
	Repos             map[string]TideRepoContextPolicy `json:"repos,omitempty"`
}

// TideRepoContextPolicy is a repository's context policy.
type TideRepoContextPolicy struct {
	TideContextPolicy `json:",inline"`
	Branches          map[string]TideContextPolicy `json:"branches,omitempty"`
}

// TideGerrit configures merging on Gerrit.
type TideGerrit struct {
	Queries   []GerritOrgRepoQuery `json:"queries,omitempty"`
	RateLimit int                  `json:"ratelimit,omitempty"`
}

// GerritOrgRepoQuery selects Gerrit projects.
type GerritOrgRepoQuery struct {
	Org        string         `json:"org,omitempty"`
	Repos      []string       `json:"repos,omitempty"`
	OptOutHelp bool           `json:"opt_out_help,omitempty"`
	Filters    *GerritFilters `json:"filters,omitempty"`
}

// GerritFilters narrow a Gerrit query.
type GerritFilters struct {
	Branches         []string `json:"branches,omitempty"`
	ExcludedBranches []string `json:"excluded_branches,omitempty"`
	OptInByDefault   bool     `json:"opt_in_by_default,omitempty"`
}
