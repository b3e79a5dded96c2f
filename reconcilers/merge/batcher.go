package merge

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// GitBatcher checks with git which pull requests merge cleanly together,
// as Tide does before it starts a batch: it fetches the base branch and the
// pull requests' heads into a bare repository cached per repository, and
// merges them one after the other in memory (git merge-tree), keeping those
// that do not conflict. It needs git 2.38 or newer; the image has it.
type GitBatcher struct {
	// Dir holds the cached repositories.
	Dir string
	// Remote returns where to fetch a repository from and the token to
	// fetch with (empty for none).
	Remote func(ctx context.Context, org, repo string) (url, token string, err error)

	locks sync.Map // org/repo -> *sync.Mutex
}

// Pick implements Batcher.
func (b *GitBatcher) Pick(ctx context.Context, org, repo, branch, base string, onto, cands []*PR, limit int) ([]*PR, error) {
	mu, _ := b.locks.LoadOrStore(org+"/"+repo, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	g, err := b.open(ctx, org, repo)
	if err != nil {
		return nil, err
	}
	if err := g.fetch(ctx, branch, base, append(append([]*PR{}, onto...), cands...)); err != nil {
		return nil, err
	}
	cur := base
	for _, pr := range onto {
		next, clean, err := g.merge(ctx, cur, pr)
		if err != nil {
			return nil, err
		}
		if !clean {
			// What it would stack on does not merge: nothing to pick.
			return nil, nil
		}
		cur = next
	}
	var out []*PR
	for _, pr := range cands {
		if limit > 0 && len(out) >= limit {
			break
		}
		next, clean, err := g.merge(ctx, cur, pr)
		if err != nil {
			return nil, err
		}
		if clean {
			out = append(out, pr)
			cur = next
		}
	}
	return out, nil
}

// gitRepo is one cached bare repository and how to fetch into it.
type gitRepo struct {
	dir, url, token string
}

func (b *GitBatcher) open(ctx context.Context, org, repo string) (*gitRepo, error) {
	url, token, err := b.Remote(ctx, org, repo)
	if err != nil {
		return nil, err
	}
	if url == "" {
		return nil, fmt.Errorf("no clone URL known for %s/%s", org, repo)
	}
	g := &gitRepo{dir: filepath.Join(b.Dir, org, repo+".git"), url: url, token: token}
	if _, err := os.Stat(filepath.Join(g.dir, "HEAD")); err == nil {
		return g, nil
	}
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := g.run(ctx, "init", "--bare", "--quiet"); err != nil {
		return nil, err
	}
	return g, nil
}

// fetch brings the branch and the pull requests' heads into the cache.
func (g *gitRepo) fetch(ctx context.Context, branch, base string, prs []*PR) error {
	args := []string{"fetch", "--no-tags", "--quiet", "--no-write-fetch-head", g.url, "+refs/heads/" + branch + ":refs/bowline/base"}
	for _, pr := range prs {
		n := strconv.Itoa(pr.Number)
		args = append(args, "+refs/pull/"+n+"/head:refs/bowline/pull/"+n)
	}
	if _, err := g.run(ctx, args...); err != nil {
		return err
	}
	for _, sha := range append([]string{base}, headsOf(prs)...) {
		if _, err := g.run(ctx, "cat-file", "-e", sha+"^{commit}"); err != nil {
			return fmt.Errorf("commit %s not found after fetching", sha)
		}
	}
	return nil
}

func headsOf(prs []*PR) []string {
	out := make([]string, len(prs))
	for i, pr := range prs {
		out[i] = pr.HeadSHA
	}
	return out
}

// merge merges a pull request's head onto cur in memory; it returns the
// merge commit, or clean=false on a conflict.
func (g *gitRepo) merge(ctx context.Context, cur string, pr *PR) (string, bool, error) {
	out, err := g.run(ctx, "merge-tree", "--write-tree", "--no-messages", cur, pr.HeadSHA)
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	tree := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	commit, err := g.run(ctx, "commit-tree", tree, "-p", cur, "-p", pr.HeadSHA, "-m", "Merge #"+strconv.Itoa(pr.Number))
	if err != nil {
		return "", false, err
	}
	return strings.TrimSpace(commit), true, nil
}

// run runs git in the repository with no user or system configuration.
// The token travels in the environment, never in the arguments.
func (g *gitRepo) run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = g.dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + g.dir, "XDG_CONFIG_HOME=" + g.dir,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_TERMINAL_PROMPT=0", "LC_ALL=C",
		"GIT_AUTHOR_NAME=bowline", "GIT_AUTHOR_EMAIL=bowline@localhost",
		"GIT_COMMITTER_NAME=bowline", "GIT_COMMITTER_EMAIL=bowline@localhost",
	}
	if g.token != "" {
		auth := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + g.token))
		cmd.Env = append(cmd.Env, "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraHeader",
			"GIT_CONFIG_VALUE_0=Authorization: Basic "+auth)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if args[0] == "merge-tree" && ee.ExitCode() == 1 {
				return stdout.String(), err
			}
			msg := strings.TrimSpace(stderr.String())
			if g.token != "" {
				msg = strings.ReplaceAll(msg, g.token, "[redacted]")
			}
			return "", fmt.Errorf("git %s: exit %d: %s: %w", args[0], ee.ExitCode(), truncate(msg, 512), err)
		}
		return "", fmt.Errorf("git %s: %w", args[0], err)
	}
	return stdout.String(), nil
}
