// Package inrepo loads the jobs a repository defines itself, Prow's in-repo
// config: the .prow directory (every YAML file under it, less what a
// .prowignore leaves out) or, when there is none, the .prow.yaml file at
// the repository's root, holding presets, presubmits and postsubmits
// without org/repo keys. config.yaml's in_repo_config enables it per
// repository, org or "*" and lists the build clusters its jobs may use.
//
// For a pull request the jobs are those of the pull request's head merged
// into the tip of its base branch, as Prow loads them; the merge is made
// file by file from the blobs GitHub lists, without a clone (a file changed
// both on the base branch and in the pull request is a conflict to rebase).
// The jobs take the applied configuration's presets and decoration
// defaults and are checked with its jobs. Callers load a pull request's
// in-repo config only once it is trusted: it decides what runs.
//
// Files are read through the GitHub API (a few requests per revision, with
// limits on files and sizes) and cached by commit and blob SHA; the jobs
// are cached by configuration revision, base and head. A pull request whose
// in-repo config does not load gets an error status, context
// StatusContext, saying why at file:line; one that changes its in-repo
// config and loads gets a success status there.
package inrepo

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-github/v89/github"
	"k8s.io/utils/lru"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/snapshot"
)

// StatusContext is the status a pull request gets when its in-repo config
// does not load, or loads after it changed.
const StatusContext = "bowline/in-repo-config"

// SnapshotSource gives the applied config revision; a *snapshot.Store is
// one.
type SnapshotSource interface {
	Current() *snapshot.Snapshot
}

// GitHubFor returns the GitHub view for an org (an installation's client,
// when bowline runs as a GitHub App).
type GitHubFor func(ctx context.Context, org string) (GitHub, error)

// Loader loads and caches repositories' in-repo config. It is safe for
// concurrent use.
type Loader struct {
	config SnapshotSource
	github GitHubFor
	// listings caches which config files a commit has (org/repo@sha);
	// blobs caches file contents by blob SHA; jobs caches results by
	// revision, repository, base and head.
	listings, blobs, jobs *lru.Cache
}

// Cache sizes: listings and results are small; blobs are at most
// maxFileBytes each but usually a few KiB.
const (
	cachedListings = 1024
	cachedBlobs    = 512
	cachedJobs     = 512
)

// New returns a Loader reading the applied configuration from config and
// repositories through gh.
func New(config SnapshotSource, gh GitHubFor) *Loader {
	return &Loader{config: config, github: gh,
		listings: lru.New(cachedListings), blobs: lru.New(cachedBlobs), jobs: lru.New(cachedJobs)}
}

// Enabled reports whether the applied configuration enables in-repo config
// for org/repo.
func (l *Loader) Enabled(org, repo string) bool {
	set, _ := l.current()
	return set != nil && set.Config.InRepoConfigEnabled(org, repo)
}

func (l *Loader) current() (*configset.Set, string) {
	if l.config == nil {
		return nil, ""
	}
	snap := l.config.Current()
	if snap == nil || snap.Config == nil || snap.Config.Config == nil || snap.Config.Jobs == nil {
		return nil, ""
	}
	return snap.Config, snap.Revision
}

// result is a cached outcome: jobs, or the error that configuration and
// those files give.
type result struct {
	jobs *Jobs
	err  error
}

// Presubmits returns the presubmits a trusted pull request defines itself
// (its head merged into baseSHA, the tip of its base branch), nil when
// in-repo config is not enabled for the repository. An in-repo config that
// does not load is an error saying why, and an error status on headSHA.
func (l *Loader) Presubmits(ctx context.Context, org, repo, baseSHA, headSHA string) ([]jobs.Presubmit, error) {
	j, err := l.load(ctx, org, repo, baseSHA, headSHA)
	if j == nil {
		return nil, err
	}
	return j.Presubmits, err
}

// Postsubmits returns the postsubmits a pushed commit defines itself, nil
// when in-repo config is not enabled for the repository.
func (l *Loader) Postsubmits(ctx context.Context, org, repo, sha string) ([]jobs.Postsubmit, error) {
	j, err := l.load(ctx, org, repo, sha, "")
	if j == nil {
		return nil, err
	}
	return j.Postsubmits, err
}

func (l *Loader) load(ctx context.Context, org, repo, base, head string) (*Jobs, error) {
	set, rev := l.current()
	if set == nil || !set.Config.InRepoConfigEnabled(org, repo) {
		return nil, nil
	}
	key := rev + "\x00" + org + "/" + repo + "\x00" + base + "\x00" + head
	if v, ok := l.jobs.Get(key); ok {
		r := v.(result)
		return r.jobs, r.err
	}
	gh, err := l.github(ctx, org)
	if err != nil {
		return nil, fmt.Errorf("GitHub client for %s: %w", org, err)
	}
	files, changed, err := l.files(ctx, gh, org, repo, base, head)
	var invalid *invalidError
	if err != nil && !errors.As(err, &invalid) {
		// GitHub failed: not cached, the next event tries again.
		return nil, err
	}
	var j *Jobs
	if err == nil {
		j, err = Load(set, org, repo, files, func(p string) string { return p })
	}
	l.jobs.Add(key, result{j, err})
	if head != "" && (err != nil || changed) {
		l.report(ctx, gh, org, repo, head, err)
	}
	return j, err
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// invalidError is a problem with the repository's files rather than with
// reading them: cached like a configuration error.
type invalidError struct{ err error }

func (e *invalidError) Error() string { return e.err.Error() }
func (e *invalidError) Unwrap() error { return e.err }

// files reads the in-repo config files of base, or of head merged into
// base, and whether head changes them.
func (l *Loader) files(ctx context.Context, gh GitHub, org, repo, base, head string) (map[string][]byte, bool, error) {
	baseList, err := l.list(ctx, gh, org, repo, base)
	if err != nil {
		return nil, false, err
	}
	chosen := map[string]string(baseList)
	changed := false
	if head != "" && head != base {
		headList, err := l.list(ctx, gh, org, repo, head)
		if err != nil {
			return nil, false, err
		}
		mb, err := gh.MergeBase(ctx, org, repo, base, head)
		if err != nil {
			return nil, false, fmt.Errorf("merge base of %s and %s in %s/%s: %w", short(base), short(head), org, repo, err)
		}
		mbList, err := l.list(ctx, gh, org, repo, mb)
		if err != nil {
			return nil, false, err
		}
		changed = !sameListing(mbList, headList)
		if chosen, err = merged(mbList, baseList, headList); err != nil {
			return nil, changed, &invalidError{err}
		}
	}
	out := make(map[string][]byte, len(chosen))
	for p, sha := range chosen {
		data, err := l.blob(ctx, gh, org, repo, sha)
		if err != nil {
			return nil, changed, err
		}
		if len(data) > maxFileBytes {
			return nil, changed, &invalidError{fmt.Errorf("%s is larger than %d bytes", p, maxFileBytes)}
		}
		out[p] = data
	}
	return out, changed, nil
}

func sameListing(a, b listing) bool {
	if len(a) != len(b) {
		return false
	}
	for p, sha := range a {
		if b[p] != sha {
			return false
		}
	}
	return true
}

func (l *Loader) list(ctx context.Context, gh GitHub, org, repo, sha string) (listing, error) {
	key := org + "/" + repo + "@" + sha
	if v, ok := l.listings.Get(key); ok {
		return v.(listing), nil
	}
	out, err := list(ctx, gh, org, repo, sha)
	if err != nil {
		return nil, err
	}
	l.listings.Add(key, out)
	return out, nil
}

func (l *Loader) blob(ctx context.Context, gh GitHub, org, repo, sha string) ([]byte, error) {
	if v, ok := l.blobs.Get(sha); ok {
		return v.([]byte), nil
	}
	data, _, err := gh.ReadBlob(ctx, org, repo, sha)
	if err != nil {
		return nil, fmt.Errorf("read blob %s of %s/%s: %w", short(sha), org, repo, err)
	}
	l.blobs.Add(sha, data)
	return data, nil
}

// report sets the in-repo config status of a pull request's head: error
// with the first problem, or success.
func (l *Loader) report(ctx context.Context, gh GitHub, org, repo, head string, loadErr error) {
	st := github.RepoStatus{Context: github.Ptr(StatusContext), State: github.Ptr("success"),
		Description: github.Ptr("In-repo config (.prow.yaml, .prow/) loaded.")}
	if loadErr != nil {
		msg := loadErr.Error()
		var errs *configset.Errors
		if errors.As(loadErr, &errs) && errs.Len() > 0 {
			msg = errs.List[0].String()
		}
		st.State = github.Ptr("error")
		st.Description = github.Ptr(truncate("In-repo config does not load: "+msg, 140))
	}
	// The status only informs; the jobs' own statuses are what matter.
	_, _, _ = gh.CreateStatus(ctx, org, repo, head, st)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
