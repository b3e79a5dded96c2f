// Package trigger is the trigger plugin: it turns pull request, comment and
// push events into ProwJobs, as Prow's trigger does.
//
//   - Presubmits run when a pull request is opened, reopened, pushed to
//     (synchronize), marked ready for review, or has its base branch
//     changed, filtered by branches/skip_branches and by the files the pull
//     request changes (run_if_changed, skip_if_only_changed). Draft pull
//     requests run nothing automatically.
//   - Comments: /test <job>, /test all, /test ?, /retest, /retest-required,
//     /ok-to-test and /ok-to-test cancel, each matched at the start of a
//     line.
//   - Trust: members of the repository's org, its collaborators (unless
//     only_org_members) and trusted_apps are trusted. An untrusted author's
//     pull request gets the needs-ok-to-test label and a comment, and
//     nothing runs until a trusted user comments /ok-to-test or a person
//     labels it ok-to-test. Anyone may /test and /retest a trusted pull
//     request (trusted author, or labelled ok-to-test), as in Prow.
//   - Presubmits test the current tip of the base branch, read when the run
//     is created; run_before_merge jobs are the merge controller's to start
//     (RunBeforeMerge, PresubmitRun).
//   - Closing a pull request or converting it to a draft aborts its running
//     presubmits. A new run of a job supersedes the older runs of that job
//     on the same pull request: the jobs controller aborts them, as Prow's
//     plank does (reconcilers/prowjob), so that the webhook path writes one
//     object per job it starts.
//   - Postsubmits run on pushes, filtered by branch and by the files the
//     pushed commits change.
//
// ProwJobs carry the well-known labels and annotations of
// schema/v1alpha1, Prow's (prow.k8s.io/type, prow.k8s.io/refs.pull …). Their names
// derive from the webhook's delivery ID and the job, so a retried or
// redelivered event does not start a job twice.
package trigger

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/trust"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// Name is the plugin's name in plugins.yaml.
const Name = "trigger"

// Labels the plugin manages on pull requests.
const (
	NeedsOkToTestLabel = "needs-ok-to-test"
	OkToTestLabel      = "ok-to-test"
)

// Config is what the plugin reads from the applied config revision for one
// repository.
type Config struct {
	// Presubmits and Postsubmits are the repository's jobs, with Prow's
	// defaults applied.
	Presubmits  []jobs.Presubmit
	Postsubmits []jobs.Postsubmit
	// Trigger is the repository's entry of plugins.yaml's triggers, or the
	// zero value.
	Trigger plugins.Trigger
	// Namespace is where ProwJobs are created (prowjob_namespace).
	Namespace string
	// InRepo adds the repository's own jobs (in-repo config); nil when
	// not enabled.
	InRepo InRepo
}

// ConfigSource returns the applied configuration for a repository, or nil
// when no revision is applied yet.
type ConfigSource interface {
	TriggerConfig(org, repo string) *Config
}

// IssuesAPI is the part of GitHub's issues API the plugin uses; a
// *github.IssuesService satisfies it.
type IssuesAPI interface {
	CreateComment(ctx context.Context, owner, repo string, number int, comment *github.IssueComment) (*github.IssueComment, *github.Response, error)
	AddLabelsToIssue(ctx context.Context, owner, repo string, number int, labels []string) ([]*github.Label, *github.Response, error)
	RemoveLabelForIssue(ctx context.Context, owner, repo string, number int, label string) (*github.Response, error)
}

// PullRequestsAPI is the part of GitHub's pull requests API the plugin
// uses; a *github.PullRequestsService satisfies it.
type PullRequestsAPI interface {
	Get(ctx context.Context, owner, repo string, number int) (*github.PullRequest, *github.Response, error)
	ListFiles(ctx context.Context, owner, repo string, number int, opts *github.ListOptions) ([]*github.CommitFile, *github.Response, error)
}

// RepositoriesAPI is the part of GitHub's repositories API the plugin uses;
// a *github.RepositoriesService satisfies it.
type RepositoriesAPI interface {
	trust.CollaboratorsAPI
	GetCombinedStatus(ctx context.Context, owner, repo, ref string, opts *github.ListOptions) (*github.CombinedStatus, *github.Response, error)
}

// GitAPI is the part of GitHub's git database API the plugin uses; a
// *github.GitService satisfies it.
type GitAPI interface {
	GetRef(ctx context.Context, owner, repo, ref string) (*github.Reference, *github.Response, error)
}

// UsersAPI is the part of GitHub's users API the plugin uses; a
// *github.UsersService satisfies it.
type UsersAPI interface {
	Get(ctx context.Context, user string) (*github.User, *github.Response, error)
}

// GitHub is the plugin's view of GitHub for one org.
type GitHub struct {
	Issues        IssuesAPI
	PullRequests  PullRequestsAPI
	Repositories  RepositoriesAPI
	Organizations trust.MembersAPI
	// Git reads the tip of a pull request's base branch.
	Git GitAPI
	// Users, when set, finds bowline's own login if New was given none.
	Users UsersAPI
}

// FromClient is the GitHub view of a go-github client.
func FromClient(c *github.Client) *GitHub {
	return &GitHub{Issues: c.Issues, PullRequests: c.PullRequests, Repositories: c.Repositories, Organizations: c.Organizations, Git: c.Git, Users: c.Users}
}

// GitHubFor returns the GitHub view for an org (an installation's client,
// when bowline runs as a GitHub App).
type GitHubFor func(ctx context.Context, org string) (*GitHub, error)

// Kube is what the plugin needs from the API server. Lists find the runs
// of a pull request to abort when it is closed or becomes a draft; they
// should read the API server rather than a cache, which may not show the
// runs the previous event created yet. They are rare: pushes and comments
// only create.
type Kube interface {
	Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error
	List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error
	Status() client.SubResourceWriter
}

// Plugin is the trigger plugin.
type Plugin struct {
	config ConfigSource
	github GitHubFor
	kube   Kube
	// botLogin is bowline's own GitHub login; its comments and the
	// ok-to-test labels it adds itself are ignored. When New is given none,
	// it is looked up once (GitHub.Users).
	botLogin atomic.Pointer[string]
	// triggers caches compiled triggers by pattern; it grows with the
	// distinct triggers the config has held.
	triggers sync.Map
	// trustCache caches membership and collaborator answers; organization
	// and member webhooks clear them.
	trustCache *trust.Cache
}

// New returns the trigger plugin. botLogin is bowline's own login, whose
// comments never trigger anything; it may be empty.
func New(cfg ConfigSource, gh GitHubFor, kube Kube, botLogin string) *Plugin {
	p := &Plugin{config: cfg, github: gh, kube: kube, trustCache: trust.New()}
	if botLogin != "" {
		p.botLogin.Store(&botLogin)
	}
	return p
}

// Trust is the plugin's cache of GitHub's answers to who is a member or a
// collaborator, which the organization and member webhooks it handles
// clear. Every other plugin of the process should share it.
func (p *Plugin) Trust() *trust.Cache { return p.trustCache }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string {
	return []string{"pull_request", "push", plugin.GenericComment, "organization", "member"}
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	if p.trustCache.ForgetEvent(ev.Payload) {
		return nil
	}
	cfg := p.config.TriggerConfig(ev.Org, ev.Repo)
	if cfg == nil {
		return nil
	}
	gh, err := p.github(ctx, ev.Org)
	if err != nil {
		return fmt.Errorf("GitHub client for %s: %w", ev.Org, err)
	}
	h := &handler{Plugin: p, cfg: cfg, gh: gh, log: log, ev: ev, org: ev.Org, repo: ev.Repo}
	switch payload := ev.Payload.(type) {
	case *github.PullRequestEvent:
		return h.pullRequest(ctx, payload)
	case *github.PushEvent:
		return h.push(ctx, payload)
	}
	if ev.Type == plugin.GenericComment && ev.Comment != nil {
		return h.comment(ctx, ev.Comment)
	}
	return nil
}

// isBot reports whether login is bowline's own. Without a configured login,
// it asks GitHub whose token this is, once; a GitHub App's installation
// token cannot say, so an App should be given its bot login
// (--github-bot-login, "<app-slug>[bot]").
func (h *handler) isBot(ctx context.Context, login string) bool {
	if b := h.botLogin.Load(); b != nil {
		return strings.EqualFold(*b, login)
	}
	if h.gh.Users == nil {
		return false
	}
	u, _, err := h.gh.Users.Get(ctx, "")
	if err != nil || u.GetLogin() == "" {
		h.log.V(1).Info("Cannot look up bowline's own GitHub login", "error", fmt.Sprint(err))
		return false
	}
	bot := u.GetLogin()
	h.botLogin.CompareAndSwap(nil, &bot)
	return strings.EqualFold(bot, login)
}

// handler handles one event.
type handler struct {
	*Plugin
	cfg       *Config
	gh        *GitHub
	log       logr.Logger
	ev        *plugin.Event
	org, repo string
	// files caches the pull request's changed files.
	files []string
	// base caches the tip of the pull request's base branch.
	base string
}

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Starts presubmit jobs on pull requests (when opened, pushed to, reopened or marked ready for review, and on request) and postsubmit jobs on pushes. " +
			"Pull requests by authors who are not trusted (org members, collaborators, trusted apps) get the needs-ok-to-test label and run nothing until a trusted user comments /ok-to-test. " +
			"A new run of a job aborts the older runs of the same job on the pull request; closing a pull request or converting it to a draft aborts its runs.",
		Config: strings.TrimLeft(`
triggers:
- repos:
  - my-org            # or my-org/my-repo
  only_org_members: false   # true: collaborators who are not org members are not trusted
  trusted_apps:
  - dependabot              # GitHub Apps whose pull requests are trusted
  join_org_url: https://github.com/my-org/community   # linked from the needs-ok-to-test comment
  ignore_ok_to_test: false  # true: /ok-to-test is ignored, only trusted authors' pull requests are tested
`, "\n"),
		Commands: []plugin.Command{
			{Usage: "/test [<job> ...|all|?]", Featured: true,
				Description: "Runs the named jobs; all runs every job that applies to the pull request's branch and changed files; ? lists the jobs.",
				WhoCanUse:   "Trusted users, and anyone on a pull request labelled ok-to-test.",
				Examples:    []string{"/test unit", "/test unit lint", "/test all", "/test ?"}},
			{Usage: "/retest", Featured: true,
				Description: "Runs again the jobs that failed, and starts the jobs that should have run but have not.",
				WhoCanUse:   "Trusted users, and anyone on a pull request labelled ok-to-test.",
				Examples:    []string{"/retest"}},
			{Usage: "/retest-required",
				Description: "Runs again the required (not optional) jobs that failed.",
				WhoCanUse:   "Trusted users, and anyone on a pull request labelled ok-to-test.",
				Examples:    []string{"/retest-required"}},
			{Usage: "/ok-to-test [cancel]", Featured: true,
				Description: "Marks a pull request by an untrusted author as safe to test and runs its jobs; cancel withdraws that.",
				WhoCanUse:   "Members of the repository's org (and collaborators, unless only_org_members).",
				Examples:    []string{"/ok-to-test", "/ok-to-test cancel"}},
		},
	}
}
