package trigger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/google/uuid"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/jobspec"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// ManualRequest asks for one run of a job by name, outside any event: what
// Prow's mkpj is for.
type ManualRequest struct {
	// Job is the job's name.
	Job string
	// Repo is "org/repo", needed when presubmits or postsubmits of several
	// repositories share the job's name.
	Repo string
	// BaseRef and BaseSHA are the branch and commit a presubmit merges
	// into or a postsubmit tests; with GitHub they default to the pull
	// request's base branch (or the repository's default branch) and its
	// tip.
	BaseRef, BaseSHA string
	// Pull is the pull request a presubmit tests; PullSHA and PullAuthor
	// default, with GitHub, to its head and author.
	Pull       int
	PullSHA    string
	PullAuthor string
	// Namespace is where the run is created.
	Namespace string
	// TriggeredBy records who asked.
	TriggeredBy string
}

// ManualRun builds the run a ManualRequest asks for from the jobs of a
// configuration, as the trigger builds its own (PresubmitRun, the
// postsubmit and periodic specs of schema/jobspec): presubmits are looked
// up first, then postsubmits, then periodics. gh, when set, fills what the
// request leaves out; without it, refs must be complete.
func ManualRun(ctx context.Context, jc *jobs.Config, req ManualRequest, gh *GitHub) (*v1alpha1.ProwJob, error) {
	if jc == nil {
		return nil, errors.New("no job configuration")
	}
	if req.Namespace == "" {
		return nil, errors.New("no namespace for the run")
	}
	meta := Meta{Namespace: req.Namespace, TriggeredBy: req.TriggeredBy, Name: uuid.NewString()}
	if list, repo, err := candidates(jc.Presubmits, req); err != nil {
		return nil, err
	} else if len(list) > 0 {
		if req.Pull <= 0 {
			return nil, fmt.Errorf("%s is a presubmit of %s: name the pull request it tests (--pull)", req.Job, repo)
		}
		refs, err := pullRefs(ctx, repo, req, gh)
		if err != nil {
			return nil, err
		}
		ps, err := forBranch(list, refs.BaseRef, func(p *jobs.Presubmit) jobs.Brancher { return p.Brancher })
		if err != nil {
			return nil, err
		}
		return PresubmitRun(ps, refs, meta), nil
	}
	if list, repo, err := candidates(jc.Postsubmits, req); err != nil {
		return nil, err
	} else if len(list) > 0 {
		refs, err := branchRefs(ctx, repo, req, gh)
		if err != nil {
			return nil, err
		}
		ps, err := forBranch(list, refs.BaseRef, func(p *jobs.Postsubmit) jobs.Brancher { return p.Brancher })
		if err != nil {
			return nil, err
		}
		return newProwJob(jobspec.Postsubmit(ps, refs), &ps.JobBase, meta), nil
	}
	for i := range jc.Periodics {
		if p := &jc.Periodics[i]; p.Name == req.Job {
			pj := jobspec.NewRun(meta.Namespace, meta.Name, jobspec.Periodic(p), p.Labels, p.Annotations, time.Now())
			if req.TriggeredBy != "" {
				pj.Annotations[v1alpha1.TriggeredByAnnotation] = req.TriggeredBy
			}
			return pj, nil
		}
	}
	return nil, fmt.Errorf("no job named %q in the configuration", req.Job)
}

// named is a presubmit or postsubmit.
type named interface {
	jobs.Presubmit | jobs.Postsubmit
}

// candidates are the jobs of the request's name among per-repository jobs
// (one per branch it is defined for), of one repository: the only one, or
// the one the request names.
func candidates[J named](byRepo map[string][]J, req ManualRequest) ([]*J, string, error) {
	var found []*J
	var repos []string
	for repo, list := range byRepo {
		if req.Repo != "" && !strings.EqualFold(repo, req.Repo) {
			continue
		}
		for i := range list {
			if nameOf(&list[i]) == req.Job {
				found = append(found, &list[i])
				if !slices.Contains(repos, repo) {
					repos = append(repos, repo)
				}
			}
		}
	}
	if len(repos) > 1 {
		slices.Sort(repos)
		return nil, "", fmt.Errorf("%s is a job of %s: name one with --repo", req.Job, strings.Join(repos, ", "))
	}
	if len(found) == 0 {
		return nil, "", nil
	}
	return found, repos[0], nil
}

// forBranch picks, among a job's definitions, the one for a base branch.
func forBranch[J named](list []*J, branch string, brancher func(*J) jobs.Brancher) (*J, error) {
	var out []*J
	for _, j := range list {
		if brancher(j).ShouldRun(branch) {
			out = append(out, j)
		}
	}
	switch len(out) {
	case 0:
		return nil, fmt.Errorf("%s does not run on branch %s", nameOf(list[0]), branch)
	case 1:
		return out[0], nil
	}
	return nil, fmt.Errorf("%s is defined %d times for branch %s", nameOf(list[0]), len(out), branch)
}

func nameOf[J named](j *J) string {
	switch v := any(j).(type) {
	case *jobs.Presubmit:
		return v.Name
	case *jobs.Postsubmit:
		return v.Name
	}
	return ""
}

// RepositoryGetter reads a repository; a *github.RepositoriesService is
// one. ManualRun uses it, when GitHub.Repositories has it, for a
// repository's default branch.
type RepositoryGetter interface {
	Get(ctx context.Context, owner, repo string) (*github.Repository, *github.Response, error)
}

// pullRefs are the refs of a presubmit run: the pull request merged into
// the tip of its base branch.
func pullRefs(ctx context.Context, repo string, req ManualRequest, gh *GitHub) (v1alpha1.Refs, error) {
	org, name, _ := strings.Cut(repo, "/")
	refs := v1alpha1.Refs{Org: org, Repo: name, BaseRef: req.BaseRef, BaseSHA: req.BaseSHA,
		Pulls: []v1alpha1.Pull{{Number: int32(req.Pull), SHA: req.PullSHA, Author: req.PullAuthor}}}
	if gh != nil {
		pr, _, err := gh.PullRequests.Get(ctx, org, name, req.Pull)
		if err != nil {
			return refs, fmt.Errorf("get pull request %s#%d: %w", repo, req.Pull, err)
		}
		if refs.BaseRef == "" {
			refs.BaseRef = pr.GetBase().GetRef()
		}
		p := &refs.Pulls[0]
		if p.SHA == "" {
			p.SHA = pr.GetHead().GetSHA()
		}
		if p.Author == "" {
			p.Author = pr.GetUser().GetLogin()
		}
		p.Title, p.HeadRef, p.Link = truncate(pr.GetTitle(), 1024), pr.GetHead().GetRef(), pr.GetHTMLURL()
		refs.RepoLink = pr.GetBase().GetRepo().GetHTMLURL()
	}
	if err := fillBaseSHA(ctx, &refs, gh); err != nil {
		return refs, err
	}
	if refs.BaseRef == "" || refs.BaseSHA == "" || refs.Pulls[0].SHA == "" {
		return refs, fmt.Errorf("the run of %s needs --base-ref, --base-sha and --pull-sha, or GitHub credentials to look them up", req.Job)
	}
	return refs, nil
}

// branchRefs are the refs of a postsubmit run: a branch at a commit.
func branchRefs(ctx context.Context, repo string, req ManualRequest, gh *GitHub) (v1alpha1.Refs, error) {
	org, name, _ := strings.Cut(repo, "/")
	refs := v1alpha1.Refs{Org: org, Repo: name, BaseRef: req.BaseRef, BaseSHA: req.BaseSHA}
	if getter, ok := repositories(gh); ok && refs.BaseRef == "" {
		r, _, err := getter.Get(ctx, org, name)
		if err != nil {
			return refs, fmt.Errorf("get repository %s: %w", repo, err)
		}
		refs.BaseRef = r.GetDefaultBranch()
		refs.RepoLink = r.GetHTMLURL()
	}
	if err := fillBaseSHA(ctx, &refs, gh); err != nil {
		return refs, err
	}
	if refs.BaseRef == "" || refs.BaseSHA == "" {
		return refs, fmt.Errorf("the run of %s needs --base-ref and --base-sha, or GitHub credentials to look them up", req.Job)
	}
	return refs, nil
}

// fillBaseSHA reads the tip of the base branch when no commit was given.
func fillBaseSHA(ctx context.Context, refs *v1alpha1.Refs, gh *GitHub) error {
	if refs.BaseSHA != "" || refs.BaseRef == "" || gh == nil || gh.Git == nil {
		return nil
	}
	ref, _, err := gh.Git.GetRef(ctx, refs.Org, refs.Repo, "heads/"+refs.BaseRef)
	if err != nil {
		return fmt.Errorf("read the tip of %s/%s branch %s: %w", refs.Org, refs.Repo, refs.BaseRef, err)
	}
	refs.BaseSHA = ref.GetObject().GetSHA()
	if refs.RepoLink != "" {
		refs.BaseLink = refs.RepoLink + "/commit/" + refs.BaseSHA
	}
	return nil
}

func repositories(gh *GitHub) (RepositoryGetter, bool) {
	if gh == nil {
		return nil, false
	}
	g, ok := gh.Repositories.(RepositoryGetter)
	return g, ok
}
