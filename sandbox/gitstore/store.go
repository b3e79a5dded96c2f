package gitstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotFound: the repository, ref, commit, path or merge base does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a merge does not apply cleanly.
	ErrConflict = errors.New("merge conflict")
	// ErrNotFastForward: a non-forced ref update would lose commits, or the
	// branch moved since the caller read it.
	ErrNotFastForward = errors.New("not a fast-forward")
	// ErrExists: Create or Rename would overwrite an existing repository.
	ErrExists = errors.New("already exists")
	// ErrInvalid: a malformed owner, repository, ref, path or merge method.
	ErrInvalid = errors.New("invalid argument")
)

// Signature is the author or committer of a commit. A zero When means now;
// an empty Name is stored as "unknown" because git refuses empty names.
type Signature struct {
	Name, Email string
	When        time.Time
}

// RefUpdate is one ref changed by a push. Old is "" when the ref was
// created, New is "" when it was deleted.
type RefUpdate struct {
	Ref, Old, New string
}

// Commit is a commit object. Message has no trailing newline.
type Commit struct {
	SHA, Message, Tree string
	Parents            []string
	Author, Committer  Signature
}

// FileChange is one file in a comparison, shaped like an entry of GitHub's
// compare and pull-request files responses. Status is added, removed,
// modified, renamed or changed (the type changed, e.g. file to symlink).
// Patch holds the hunks without the diff headers, and is empty for binary
// files and changes without content (pure renames, mode changes). SHA is the
// blob after the change, or before it for removed files.
type FileChange struct {
	Filename, PreviousFilename, Status string
	Additions, Deletions               int
	Patch                              string
	SHA                                string
}

// Entry is a directory entry. Type is file, dir, symlink or submodule
// (GitHub's contents API types); Size is set for files and symlinks.
type Entry struct {
	Name, Path, Type, SHA string
	Size                  int64
}

// minGit is the oldest git with `merge-tree --write-tree`, which Merge,
// Mergeable and the rebase replay are built on.
var minGit = [2]int{2, 38}

// Store is a directory of bare repositories, <owner>/<name>.git. It is
// safe for concurrent use; see the package documentation for locking.
type Store struct {
	root    string
	tmp     string // staging area for new repositories, temporary indexes, deleted repositories
	gitPath string
	env     []string

	// ns guards the set of repositories: Create (its final step), Delete
	// and Rename hold it exclusively, every other operation shared.
	ns sync.RWMutex
	// locks serialises writes per repository, keyed owner/name.
	locksMu sync.Mutex
	locks   map[string]*sync.Mutex
}

// Open opens (creating it if needed) a store rooted at dir. Repositories
// already in dir are served as they are, so a store survives restarts.
// Locks live in the Store, so one process should have one Store per
// directory at a time. The git CLI (at least 2.38) must be on PATH.
func Open(dir string) (*Store, error) {
	gitPath, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("find git: %w", err)
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{
		root:    root,
		tmp:     filepath.Join(root, ".tmp"),
		gitPath: gitPath,
		locks:   map[string]*sync.Mutex{},
	}
	home := filepath.Join(root, ".home")
	// Leftovers of an interrupted Create or Delete are garbage.
	if err := os.RemoveAll(s.tmp); err != nil {
		return nil, fmt.Errorf("clean %s: %w", s.tmp, err)
	}
	for _, d := range []string{s.tmp, home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	s.env = gitEnv(home)
	if err := s.checkVersion(); err != nil {
		return nil, err
	}
	return s, nil
}

var gitVersionRE = regexp.MustCompile(`git version (\d+)\.(\d+)`)

func (s *Store) checkVersion() error {
	out, err := s.run(context.Background(), gitRun{args: []string{"version"}})
	if err != nil {
		return err
	}
	m := gitVersionRE.FindStringSubmatch(string(out))
	if m == nil {
		return fmt.Errorf("unrecognised git version %q", strings.TrimSpace(string(out)))
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major < minGit[0] || major == minGit[0] && minor < minGit[1] {
		return fmt.Errorf("git %d.%d is too old, need %d.%d or newer", major, minor, minGit[0], minGit[1])
	}
	return nil
}

// Names: owners are GitHub logins or org names (letters, digits, '-', '_',
// '.'; not starting with '.', which keeps the store's own .tmp and .home
// apart); repositories may start with '.' (".github") but are not "." or
// "..", and do not end in ".git" because the store adds it.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)

func validOwner(owner string) bool {
	return nameRE.MatchString(owner) && !strings.HasPrefix(owner, ".")
}

func validName(name string) bool {
	return nameRE.MatchString(name) && name != "." && name != ".." && !strings.HasSuffix(name, ".git")
}

func (s *Store) path(owner, name string) string {
	return filepath.Join(s.root, owner, name+".git")
}

func (s *Store) exists(owner, name string) bool {
	if !validOwner(owner) || !validName(name) {
		return false
	}
	fi, err := os.Stat(s.path(owner, name))
	return err == nil && fi.IsDir()
}

// repoLock returns the write mutex of owner/name.
func (s *Store) repoLock(owner, name string) *sync.Mutex {
	s.locksMu.Lock()
	defer s.locksMu.Unlock()
	k := owner + "/" + name
	mu, ok := s.locks[k]
	if !ok {
		mu = &sync.Mutex{}
		s.locks[k] = mu
	}
	return mu
}

// repo is an open repository; its methods do no locking of their own.
type repo struct {
	s    *Store
	name string // owner/name, for error messages
	dir  string
}

// read opens owner/name for reading: the repository cannot be deleted or
// renamed until release is called.
func (s *Store) read(owner, name string) (r *repo, release func(), err error) {
	s.ns.RLock()
	if !s.exists(owner, name) {
		s.ns.RUnlock()
		return nil, nil, fmt.Errorf("repository %s/%s: %w", owner, name, ErrNotFound)
	}
	return &repo{s: s, name: owner + "/" + name, dir: s.path(owner, name)}, s.ns.RUnlock, nil
}

// write opens owner/name for writing: like read, and no other write to the
// repository (API or push) runs until release is called.
func (s *Store) write(owner, name string) (r *repo, release func(), err error) {
	r, unlock, err := s.read(owner, name)
	if err != nil {
		return nil, nil, err
	}
	mu := s.repoLock(owner, name)
	mu.Lock()
	return r, func() { mu.Unlock(); unlock() }, nil
}

func (r *repo) git(ctx context.Context, args ...string) ([]byte, error) {
	return r.s.run(ctx, gitRun{dir: r.dir, args: args})
}

func (r *repo) gitLine(ctx context.Context, args ...string) (string, error) {
	return r.s.runLine(ctx, gitRun{dir: r.dir, args: args})
}

// Exists reports whether owner/name is a repository in the store.
func (s *Store) Exists(owner, name string) bool {
	s.ns.RLock()
	defer s.ns.RUnlock()
	return s.exists(owner, name)
}

// Repos lists the repositories in the store as "owner/name", sorted.
func (s *Store) Repos() ([]string, error) {
	s.ns.RLock()
	defer s.ns.RUnlock()
	owners, err := os.ReadDir(s.root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, o := range owners {
		if !o.IsDir() || !validOwner(o.Name()) {
			continue
		}
		repos, err := os.ReadDir(filepath.Join(s.root, o.Name()))
		if err != nil {
			return nil, err
		}
		for _, r := range repos {
			name, ok := strings.CutSuffix(r.Name(), ".git")
			if ok && r.IsDir() && validName(name) {
				out = append(out, o.Name()+"/"+name)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// Create makes the bare repository owner/name with HEAD on defaultBranch
// ("main" when empty). With files == nil the repository is empty (no
// commits, like a GitHub repository created without auto_init); otherwise
// one commit holding files (an empty map gives an empty tree) is made on
// defaultBranch and its SHA returned. The repository appears atomically:
// it is built in a staging directory and renamed into place.
// ErrExists when owner/name exists, ErrInvalid for malformed names.
func (s *Store) Create(ctx context.Context, owner, name, defaultBranch string, files map[string][]byte, msg string, author Signature) (sha string, err error) {
	if !validOwner(owner) || !validName(name) {
		return "", fmt.Errorf("repository %q/%q: %w", owner, name, ErrInvalid)
	}
	if defaultBranch == "" {
		defaultBranch = "main"
	}
	if !validRefName("refs/heads/" + defaultBranch) {
		return "", fmt.Errorf("branch %q: %w", defaultBranch, ErrInvalid)
	}
	if s.Exists(owner, name) {
		return "", fmt.Errorf("repository %s/%s: %w", owner, name, ErrExists)
	}
	staging, err := os.MkdirTemp(s.tmp, "create-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(staging)
	dir := filepath.Join(staging, "repo.git")
	if _, err := s.run(ctx, gitRun{args: []string{"init", "--quiet", "--bare", "--initial-branch=" + defaultBranch, dir}}); err != nil {
		return "", err
	}
	r := &repo{s: s, name: owner + "/" + name, dir: dir}
	if files != nil {
		sha, err = r.commitFiles(ctx, defaultBranch, "", files, msg, author)
		if err != nil {
			return "", err
		}
	}
	s.ns.Lock()
	defer s.ns.Unlock()
	if s.exists(owner, name) {
		return "", fmt.Errorf("repository %s/%s: %w", owner, name, ErrExists)
	}
	if err := os.MkdirAll(filepath.Join(s.root, owner), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(dir, s.path(owner, name)); err != nil {
		return "", fmt.Errorf("create %s/%s: %w", owner, name, err)
	}
	return sha, nil
}

// Delete removes owner/name. It waits for operations in progress (a
// clone, a push) to finish.
func (s *Store) Delete(ctx context.Context, owner, name string) error {
	s.ns.Lock()
	if !s.exists(owner, name) {
		s.ns.Unlock()
		return fmt.Errorf("repository %s/%s: %w", owner, name, ErrNotFound)
	}
	trash, err := os.MkdirTemp(s.tmp, "delete-")
	if err == nil {
		err = os.Rename(s.path(owner, name), filepath.Join(trash, "repo.git"))
	}
	s.locksMu.Lock()
	delete(s.locks, owner+"/"+name)
	s.locksMu.Unlock()
	s.ns.Unlock()
	if err != nil {
		return fmt.Errorf("delete %s/%s: %w", owner, name, err)
	}
	// The repository is gone from the store's view; removing the files
	// needs no lock.
	return os.RemoveAll(trash)
}

// Rename renames owner/oldName to owner/newName, waiting for operations
// in progress to finish. ErrExists when newName is taken.
func (s *Store) Rename(ctx context.Context, owner, oldName, newName string) error {
	if !validName(newName) {
		return fmt.Errorf("repository name %q: %w", newName, ErrInvalid)
	}
	s.ns.Lock()
	defer s.ns.Unlock()
	if !s.exists(owner, oldName) {
		return fmt.Errorf("repository %s/%s: %w", owner, oldName, ErrNotFound)
	}
	if s.exists(owner, newName) {
		return fmt.Errorf("repository %s/%s: %w", owner, newName, ErrExists)
	}
	if err := os.Rename(s.path(owner, oldName), s.path(owner, newName)); err != nil {
		return fmt.Errorf("rename %s/%s: %w", owner, oldName, err)
	}
	s.locksMu.Lock()
	delete(s.locks, owner+"/"+oldName)
	s.locksMu.Unlock()
	return nil
}

// DefaultBranch returns the branch HEAD points to (it may have no commits yet).
func (s *Store) DefaultBranch(ctx context.Context, owner, name string) (string, error) {
	r, release, err := s.read(owner, name)
	if err != nil {
		return "", err
	}
	defer release()
	ref, err := r.gitLine(ctx, "symbolic-ref", "HEAD")
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(ref, "refs/heads/"), nil
}

// SetDefaultBranch points HEAD at branch, which must exist unless the
// repository has no commits.
func (s *Store) SetDefaultBranch(ctx context.Context, owner, name, branch string) error {
	ref := "refs/heads/" + branch
	if !validRefName(ref) {
		return fmt.Errorf("branch %q: %w", branch, ErrInvalid)
	}
	r, release, err := s.write(owner, name)
	if err != nil {
		return err
	}
	defer release()
	refs, err := r.listRefs(ctx, "refs/heads/")
	if err != nil {
		return err
	}
	if _, ok := refs[ref]; !ok && len(refs) > 0 {
		return fmt.Errorf("branch %s: %w", branch, ErrNotFound)
	}
	_, err = r.git(ctx, "symbolic-ref", "HEAD", ref)
	return err
}
