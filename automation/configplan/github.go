package configplan

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/reconcilers/org"
	"github.com/bowline-ci/bowline/reconcilers/org/plan"
)

// Bounds on the listings one read makes: GitHub stops listing a pull
// request's files at 3,000.
const (
	maxOpenPages  = 10
	maxFilePages  = 30
	maxRepoPages  = 20
	maxSearchPage = 10
)

// GitHub reads open pull requests and repositories through go-github, one
// client per org (in bowline, scm/github's ETag-cached client: an unchanged
// listing costs a 304 that does not count against the rate limit).
type GitHub struct {
	ForOrg func(ctx context.Context, org string) (*github.Client, error)
}

// Open implements PullRequests: one listing of the repository's open pull
// requests, a page of 100 at a time.
func (g GitHub) Open(ctx context.Context, org, repo string) ([]PullRequest, error) {
	gh, err := g.ForOrg(ctx, org)
	if err != nil {
		return nil, err
	}
	var out []PullRequest
	opts := &github.PullRequestListOptions{State: "open", ListOptions: github.ListOptions{PerPage: 100}}
	for range maxOpenPages {
		page, resp, err := gh.PullRequests.List(ctx, org, repo, opts)
		if err != nil {
			return nil, err
		}
		for _, pr := range page {
			p := PullRequest{Number: pr.GetNumber(), Title: pr.GetTitle(), Author: pr.GetUser().GetLogin(), BaseRef: pr.GetBase().GetRef(),
				HeadSHA: pr.GetHead().GetSHA(), Draft: pr.GetDraft(), URL: pr.GetHTMLURL(), Milestone: pr.GetMilestone().GetTitle()}
			for _, l := range pr.Labels {
				p.Labels = append(p.Labels, l.GetName())
			}
			out = append(out, p)
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// Files implements PullRequests: the files a pull request changes, both
// paths of a rename, as the trigger reads them.
func (g GitHub) Files(ctx context.Context, org, repo string, number int) ([]string, error) {
	gh, err := g.ForOrg(ctx, org)
	if err != nil {
		return nil, err
	}
	files := []string{}
	opts := &github.ListOptions{PerPage: 100}
	for range maxFilePages {
		page, resp, err := gh.PullRequests.ListFiles(ctx, org, repo, number, opts)
		if err != nil {
			return nil, err
		}
		for _, f := range page {
			files = append(files, f.GetFilename())
			if prev := f.GetPreviousFilename(); prev != "" {
				files = append(files, prev)
			}
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return files, nil
}

// Approved implements PullRequests with GitHub's review:approved search
// qualifier, GitHub's own review decision, as the merge controller uses it.
func (g GitHub) Approved(ctx context.Context, org, repo string) (map[int]bool, error) {
	gh, err := g.ForOrg(ctx, org)
	if err != nil {
		return nil, err
	}
	out := map[int]bool{}
	q := fmt.Sprintf("is:pr is:open review:approved repo:%q", org+"/"+repo)
	opts := &github.SearchOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for range maxSearchPage {
		res, resp, err := gh.Search.Issues(ctx, q, opts)
		if err != nil {
			return nil, err
		}
		for _, is := range res.Issues {
			out[is.GetNumber()] = true
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// Repos implements PullRequests: the org's repositories that are not
// archived.
func (g GitHub) Repos(ctx context.Context, owner string) ([]string, error) {
	gh, err := g.ForOrg(ctx, owner)
	if err != nil {
		return nil, err
	}
	var out []string
	opts := &github.RepositoryListByOrgOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for range maxRepoPages {
		page, resp, err := gh.Repositories.ListByOrg(ctx, owner, opts)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			if !r.GetArchived() {
				out = append(out, r.GetName())
			}
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// OrgStates plan orgs against states read before (`bowline orgs dump`
// writes them), with a GitHubOrganization's default options and limits;
// an org without a state is planned against the configuration alone.
type OrgStates map[string]*plan.State

// Settings implements Orgs.
func (OrgStates) Settings(context.Context, string) (OrgSettings, error) {
	return OrgSettings{Limits: org.DefaultLimits()}, nil
}

// Observe implements Orgs.
func (s OrgStates) Observe(_ context.Context, d *plan.Desired) (*plan.State, error) {
	return s[strings.ToLower(d.Org)], nil
}

// ObservedOrgs read orgs from GitHub with the orgs role's own reader
// (org.Observe, through the ETag-cached client), with the options and
// limits Settings gives (nil: a GitHubOrganization's defaults).
type ObservedOrgs struct {
	ForOrg      func(ctx context.Context, org string) (*github.Client, error)
	SettingsFor func(ctx context.Context, org string) (OrgSettings, error)
}

// Settings implements Orgs.
func (o ObservedOrgs) Settings(ctx context.Context, name string) (OrgSettings, error) {
	if o.SettingsFor == nil {
		return OrgSettings{Limits: org.DefaultLimits()}, nil
	}
	return o.SettingsFor(ctx, name)
}

// Observe implements Orgs.
func (o ObservedOrgs) Observe(ctx context.Context, d *plan.Desired) (*plan.State, error) {
	gh, err := o.ForOrg(ctx, d.Org)
	if err != nil {
		return nil, err
	}
	return org.Observe(ctx, gh, d)
}
