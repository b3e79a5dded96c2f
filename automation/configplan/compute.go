package configplan

import (
	"context"
	"fmt"
	"time"

	"github.com/bowline-ci/bowline/reconcilers/configrepo"
	"github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/schema/configset"
)

// maxListed bounds the pull requests a plan lists by number in one place;
// it counts them all.
const maxListed = 10

// Input is what a plan is computed from.
type Input struct {
	// Base is the revision compared with, which must be valid (the applied
	// one, or the merge base of a pull request).
	Base Side
	// Head is the revision planned, as Validate judged it.
	Head Side
	// Changed are the files that differ between the revisions
	// (Compare), when Base and Head are the commits compared; nil
	// when not known. With them, jobs whose files did not change are not
	// compared, unless something every job depends on changed.
	Changed map[string]bool
	// ConfigPath is the ConfigRepository's config.yaml, for Changed: its
	// defaults apply to every job.
	ConfigPath string
	// Deploy are the changes of files under DeployPath, from Compare.
	Deploy []DeployChange
	// DeployPath is the ConfigRepository's deploy path.
	DeployPath string
	// DeployApplied says whether bowline applies its own deployment from
	// the config repository.
	DeployApplied bool
	// Plugins are the names of the plugins bowline implements; nil skips
	// the check that newly enabled plugins do something.
	Plugins []string
	// PullRequests reads open pull requests; nil leaves them uncounted.
	PullRequests PullRequests
	// Orgs reads orgs and their GitHubOrganizations; nil plans every org
	// with the defaults, against the configuration alone.
	Orgs Orgs
	// Links link files to where people read them; nil fields give no
	// links.
	Links Links
	// Now is the clock of label deleteAfter dates; zero means time.Now.
	Now time.Time
}

// Side is one revision.
type Side struct {
	Revision Revision
	// Verdict is what validation said of it; Verdict.Set is the loaded
	// configuration when valid.
	Verdict *configrepo.Verdict
}

// Set is the side's configuration, nil when invalid.
func (s Side) Set() *configset.Set {
	if s.Verdict == nil || !s.Verdict.Valid() {
		return nil
	}
	return s.Verdict.Set
}

// Links build the addresses of files in each revision.
type Links struct {
	// Head and Base link to a line of a file of that revision (0 for the
	// whole file).
	Head, Base func(file string, line int) string
}

func link(fn func(string, int) string, file string, line int) string {
	if fn == nil || file == "" {
		return ""
	}
	return fn(file, line)
}

// PullRequests read what a plan needs of open pull requests, from GitHub
// (automation/configreview reads them through the cached client).
type PullRequests interface {
	// Open lists the open pull requests of org/repo.
	Open(ctx context.Context, org, repo string) ([]PullRequest, error)
	// Files lists the files a pull request changes.
	Files(ctx context.Context, org, repo string, number int) ([]string, error)
	// Approved says which open pull requests of org/repo GitHub counts as
	// approved by review.
	Approved(ctx context.Context, org, repo string) (map[int]bool, error)
	// Repos lists the repositories of an org.
	Repos(ctx context.Context, org string) ([]string, error)
}

// PullRequest is what a plan reads of an open pull request.
type PullRequest struct {
	Number    int
	Title     string
	Author    string
	BaseRef   string
	HeadSHA   string
	Labels    []string
	Milestone string
	Draft     bool
	URL       string
}

// Orgs say how the orgs role treats an org and what GitHub holds of it.
type Orgs interface {
	// Settings are the org's GitHubOrganization's options and limits.
	Settings(ctx context.Context, org string) (OrgSettings, error)
	// Observe reads what GitHub holds of the parts d manages; nil (and no
	// error) when it cannot be read here.
	Observe(ctx context.Context, d *plan.Desired) (*plan.State, error)
}

// OrgSettings are what a GitHubOrganization tells the planner.
type OrgSettings struct {
	Options plan.Options
	Limits  plan.Limits
	// Managed says whether a GitHubOrganization follows the org, Applies
	// whether it is confirmed (spec.confirm); nil when not known.
	Managed, Applies *bool
}

// Compute plans the change from in.Base to in.Head. It fails only when ctx
// ends; what it cannot find out (GitHub unreachable, say) is in the plan's
// Notes.
func Compute(ctx context.Context, in Input) (*Plan, error) {
	if in.Now.IsZero() {
		in.Now = time.Now()
	}
	p := &Plan{Base: in.Base.Revision, Head: in.Head.Revision, Errors: []Problem{}, Warnings: []Problem{}, Jobs: []JobChange{},
		Plugins: PluginChanges{Enabled: []PluginEnablement{}, Settings: []FieldChange{}}, Tide: TideChanges{Queries: []QueryChange{}},
		Settings: []FieldChange{}, Orgs: []OrgPlan{}, Deploy: DeployChanges{Path: in.DeployPath, Files: in.Deploy, Applied: in.DeployApplied}}
	if p.Deploy.Files == nil {
		p.Deploy.Files = []DeployChange{}
	}
	base := in.Base.Set()
	if base == nil {
		return nil, fmt.Errorf("the base revision %s is not valid", in.Base.Revision.Name)
	}
	p.Summary.Base = base.Summary()
	if v := in.Head.Verdict; v != nil {
		for _, e := range v.Errors {
			p.Errors = append(p.Errors, problem(e, in.Links.Head))
		}
		known := map[string]bool{}
		if bv := in.Base.Verdict; bv != nil {
			for _, w := range bv.Warnings {
				known[w.File+"\x00"+w.Code+"\x00"+w.Message] = true
			}
		}
		for _, w := range v.Warnings {
			pr := problem(w, in.Links.Head)
			pr.Existing = known[w.File+"\x00"+w.Code+"\x00"+w.Message]
			p.Warnings = append(p.Warnings, pr)
		}
	}
	head := in.Head.Set()
	if head == nil {
		return p, nil
	}
	p.Valid = true
	sum := head.Summary()
	p.Summary.Head = &sum
	c := &computation{in: in, plan: p, base: base, head: head, prs: newPRCache(in.PullRequests)}
	c.jobs(ctx)
	c.plugins()
	c.tide(ctx)
	c.settings()
	if !sameContent(base.Deploy, head.Deploy) {
		p.Deploy.Settings = diffFields(base.Deploy, head.Deploy)
		p.Deploy.Roles = deployRoles(base.Deploy, head.Deploy)
	}
	if err := c.orgs(ctx); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.Notes = append(p.Notes, c.prs.notes()...)
	return p, nil
}

// computation is one Compute.
type computation struct {
	in         Input
	plan       *Plan
	base, head *configset.Set
	prs        *prCache
}

func (c *computation) note(format string, args ...any) {
	c.plan.Notes = append(c.plan.Notes, fmt.Sprintf(format, args...))
}

func problem(e configset.Error, links func(string, int) string) Problem {
	return Problem{File: e.File, Line: e.Line, Column: e.Column, Message: e.Message, Code: e.Code, URL: link(links, e.File, e.Line)}
}
