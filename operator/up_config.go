package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// configSource is where `bowline up` takes its configuration from: the
// ConfigRepository's URL, branch and credentials, and for a plain
// directory the mirror that turns it into a repository.
type configSource struct {
	URL    string
	Branch string
	Token  string
	// mirror is set when --config-repo is a plain directory.
	mirror *dirMirror
}

// scpLike matches git's scp-style addresses, user@host:path.
var scpLike = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:`)

// localPath returns the directory --config-repo names, when it names one
// on this machine rather than a remote repository.
func localPath(repo string) (string, bool) {
	if p, ok := strings.CutPrefix(repo, "file://"); ok {
		return p, true
	}
	if strings.Contains(repo, "://") || scpLike.MatchString(repo) {
		return "", false
	}
	return repo, true
}

// resolveConfigRepo checks --config-repo before anything starts, so that a
// mistake fails at once with what to do about it. A git repository is
// followed on its checked-out branch (or --config-branch); a plain
// directory is mirrored into a repository under the data directory and
// watched; a remote URL is taken as given.
func (o *UpOptions) resolveConfigRepo(ctx context.Context, dataDir string) (*configSource, error) {
	p, local := localPath(o.ConfigRepo)
	if !local {
		src := &configSource{URL: o.ConfigRepo, Branch: o.ConfigBranch}
		if src.Branch == "" {
			src.Branch = "main"
		}
		if strings.HasPrefix(o.ConfigRepo, "https://") && o.GitHubTokenFile != "" {
			tok, err := readTokenFile(o.GitHubTokenFile)
			if err != nil {
				return nil, err
			}
			src.Token = tok
		}
		if strings.HasPrefix(o.ConfigRepo, "https://") || strings.HasPrefix(o.ConfigRepo, "http://") {
			if err := src.checkRemote(ctx); err != nil {
				return nil, err
			}
		}
		return src, nil
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("--config-repo %s does not exist: pass the path of your config repository (a git repository, or a plain directory that bowline watches)", o.ConfigRepo)
	case err != nil:
		return nil, fmt.Errorf("--config-repo %s: %w", o.ConfigRepo, err)
	case !st.IsDir():
		return nil, fmt.Errorf("--config-repo %s is a file: pass the directory of your config repository", o.ConfigRepo)
	}
	repo, err := git.PlainOpen(abs)
	if err != nil {
		// Not the top of a git repository: watch it as a plain directory.
		m := &dirMirror{src: abs, gitDir: filepath.Join(dataDir, "config-dir.git"), exclude: dataDir}
		if o.ConfigBranch != "" && o.ConfigBranch != "main" {
			return nil, fmt.Errorf("--config-branch %s: %s is a plain directory, not a git repository, so it has no branches: leave --config-branch out", o.ConfigBranch, o.ConfigRepo)
		}
		return &configSource{URL: m.gitDir, Branch: "main", mirror: m}, nil
	}
	branch, err := checkedOutBranch(repo, o.ConfigBranch)
	if err != nil {
		return nil, fmt.Errorf("--config-repo %s: %w", o.ConfigRepo, err)
	}
	return &configSource{URL: abs, Branch: branch}, nil
}

// checkRemote lists the remote repository's branches (git ls-remote) and
// fails when it cannot, or when the branch is not among them.
func (src *configSource) checkRemote(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	remote := git.NewRemote(memory.NewStorage(), &gitconfig.RemoteConfig{Name: "origin", URLs: []string{src.URL}})
	var auth transport.AuthMethod
	if src.Token != "" {
		auth = &githttp.BasicAuth{Username: "x-access-token", Password: src.Token}
	}
	refs, err := remote.ListContext(ctx, &git.ListOptions{Auth: auth})
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), src.Token, "***")
		if src.Token == "" {
			msg = err.Error()
		}
		return fmt.Errorf("the config repository %s cannot be fetched: %s: check --config-repo and its credentials", src.URL, msg)
	}
	var names []string
	for _, r := range refs {
		if r.Name().IsBranch() {
			if r.Name().Short() == src.Branch {
				return nil
			}
			names = append(names, r.Name().Short())
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("the config repository %s has no branches yet: push your configuration to it", src.URL)
	}
	sort.Strings(names)
	return fmt.Errorf("the config repository %s has no branch %s (it has %s): pass --config-branch", src.URL, src.Branch, strings.Join(names, ", "))
}

// checkedOutBranch is want, or the branch HEAD names, after checking that
// it holds a commit.
func checkedOutBranch(repo *git.Repository, want string) (string, error) {
	branch := want
	if branch == "" {
		head, err := repo.Reference(plumbing.HEAD, false)
		if err != nil || !head.Target().IsBranch() {
			return "", errors.New("HEAD names no branch: check out the branch bowline should follow, or pass --config-branch")
		}
		branch = head.Target().Short()
	}
	if _, err := repo.Reference(plumbing.NewBranchReferenceName(branch), true); err != nil {
		var names []string
		if iter, err := repo.Branches(); err == nil {
			_ = iter.ForEach(func(r *plumbing.Reference) error {
				names = append(names, r.Name().Short())
				return nil
			})
		}
		if len(names) == 0 {
			return "", fmt.Errorf("the repository has no commits yet: commit your configuration (git add config && git commit) and start again")
		}
		sort.Strings(names)
		return "", fmt.Errorf("the repository has no branch %s (it has %s): pass --config-branch", branch, strings.Join(names, ", "))
	}
	return branch, nil
}

func readTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--github-token-file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("--github-token-file %s is empty: put a GitHub token in it (a personal access token with the scopes repo and read:org)", path)
	}
	return tok, nil
}

// dirMirror keeps a git repository whose branch main holds the files of a
// plain directory: every change to the directory becomes a commit, which
// the ConfigRepository then applies like any other. The directory itself
// is only read.
type dirMirror struct {
	// src is the watched directory, gitDir the bare repository.
	src, gitDir string
	// exclude is a directory left out when it lies inside src (the data
	// directory, when bowline runs from inside the config directory).
	exclude string
	// fingerprint of the files last committed.
	fingerprint string
}

// sync commits the directory's files when they changed since the last
// commit, and reports whether it made one.
func (m *dirMirror) sync(ctx context.Context) (bool, error) {
	fp, err := m.scan()
	if err != nil {
		return false, err
	}
	if fp == m.fingerprint {
		return false, nil
	}
	if _, err := os.Stat(filepath.Join(m.gitDir, "HEAD")); err != nil {
		if err := os.MkdirAll(m.gitDir, 0o700); err != nil {
			return false, err
		}
		if out, err := exec.CommandContext(ctx, "git", "init", "--quiet", "--bare", "--initial-branch=main", m.gitDir).CombinedOutput(); err != nil {
			return false, fmt.Errorf("git init: %v: %s", err, strings.TrimSpace(string(out)))
		}
	}
	add := []string{"add", "--all", "--", "."}
	if rel, ok := m.excluded(); ok {
		add = append(add, ":(exclude)"+rel)
	}
	if err := m.git(ctx, add...); err != nil {
		return false, err
	}
	changed := !m.succeeds(ctx, "diff", "--cached", "--quiet")
	if !changed && m.succeeds(ctx, "rev-parse", "--verify", "--quiet", "refs/heads/main") {
		m.fingerprint = fp
		return false, nil
	}
	msg := fmt.Sprintf("Files of %s at %s", m.src, time.Now().UTC().Format(time.RFC3339))
	if err := m.git(ctx, "-c", "commit.gpgsign=false", "commit", "--quiet", "--allow-empty", "-m", msg); err != nil {
		return false, err
	}
	m.fingerprint = fp
	return true, nil
}

// excluded returns the excluded directory relative to src, when inside it.
func (m *dirMirror) excluded() (string, bool) {
	if m.exclude == "" {
		return "", false
	}
	rel, err := filepath.Rel(m.src, m.exclude)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// scan fingerprints the directory: every file's path, size, mode and
// modification time.
func (m *dirMirror) scan() (string, error) {
	h := sha256.New()
	skip, _ := m.excluded()
	err := filepath.WalkDir(m.src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(m.src, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() && (d.Name() == ".git" || (skip != "" && rel == skip)) {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00%o\x00%d\n", rel, info.Size(), info.Mode(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read %s: %w", m.src, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (m *dirMirror) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"--git-dir", m.gitDir, "--work-tree", m.src}, args...)...)
	cmd.Dir = m.src
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=bowline", "GIT_AUTHOR_EMAIL=bowline@localhost",
		"GIT_COMMITTER_NAME=bowline", "GIT_COMMITTER_EMAIL=bowline@localhost", "GIT_TERMINAL_PROMPT=0")
	return cmd.CombinedOutput()
}

// git runs a git command that must succeed.
func (m *dirMirror) git(ctx context.Context, args ...string) error {
	if out, err := m.run(ctx, args...); err != nil {
		return fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}

// succeeds runs a git command that answers by its exit status.
func (m *dirMirror) succeeds(ctx context.Context, args ...string) bool {
	_, err := m.run(ctx, args...)
	return err == nil
}

// watch commits changes to the directory as they happen, checking every
// interval, and calls changed after each commit, until ctx ends.
func (m *dirMirror) watch(ctx context.Context, log logr.Logger, interval time.Duration, changed func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, err := m.sync(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Error(err, "Cannot commit the config directory's changes", "dir", m.src)
			}
			continue
		}
		if !ok {
			continue
		}
		log.Info("Committed the config directory's changes", "dir", m.src)
		if err := changed(ctx); err != nil && ctx.Err() == nil {
			log.Error(err, "Cannot request a reconcile of the config repository")
		}
	}
}

// requestReconcile asks the reconciler to fetch the ConfigRepository now,
// and returns the value that its status echoes once it has.
func requestReconcile(ctx context.Context, c client.Client, key client.ObjectKey) (string, error) {
	token := time.Now().UTC().Format(time.RFC3339Nano)
	repo := &v1alpha1.ConfigRepository{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace}}
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, v1alpha1.ReconcileRequestedAnnotation, token)
	if err := c.Patch(ctx, repo, client.RawPatch("application/merge-patch+json", patch)); err != nil {
		return "", err
	}
	return token, nil
}
