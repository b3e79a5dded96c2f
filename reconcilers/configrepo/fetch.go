package configrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing/fstest"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// remoteName is the remote of every cache repository.
const remoteName = "origin"

// refName returns the kind of ref spec.ref selects (branch, tag or commit;
// default: the branch main) and its name.
func refName(ref *v1alpha1.GitRef) (kind, name string) {
	switch {
	case ref == nil:
		return "branch", "main"
	case ref.Commit != "":
		return "commit", ref.Commit
	case ref.Tag != "":
		return "tag", ref.Tag
	case ref.Branch != "":
		return "branch", ref.Branch
	}
	return "branch", "main"
}

// openCache opens the cache repository in dir, creating it when absent or
// unreadable, and points its remote at rawURL.
func openCache(dir, rawURL string) (*git.Repository, error) {
	repo, err := git.PlainOpen(dir)
	if err != nil {
		// A missing or damaged cache costs one full fetch; start afresh.
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
			return nil, err
		}
		if repo, err = git.PlainInit(dir, true); err != nil {
			return nil, fmt.Errorf("create cache repository: %w", err)
		}
	}
	remote, err := repo.Remote(remoteName)
	if err == nil && len(remote.Config().URLs) == 1 && remote.Config().URLs[0] == rawURL {
		return repo, nil
	}
	if err == nil {
		if err := repo.DeleteRemote(remoteName); err != nil {
			return nil, err
		}
	}
	if _, err := repo.CreateRemote(&gitconfig.RemoteConfig{Name: remoteName, URLs: []string{rawURL}}); err != nil {
		return nil, fmt.Errorf("configure remote: %w", err)
	}
	return repo, nil
}

// fetchRevision brings the cache repository in dir up to date with only the
// objects it lacks and resolves spec.ref to a commit.
func fetchRevision(ctx context.Context, dir string, spec *v1alpha1.ConfigRepositorySpec, auth transport.AuthMethod) (*git.Repository, *object.Commit, string, error) {
	repo, err := openCache(dir, spec.URL)
	if err != nil {
		return nil, nil, "", err
	}
	kind, name := refName(spec.Ref)
	var specs []gitconfig.RefSpec
	switch kind {
	case "branch":
		specs = []gitconfig.RefSpec{gitconfig.RefSpec(fmt.Sprintf("+refs/heads/%s:refs/remotes/%s/%s", name, remoteName, name))}
	case "tag":
		specs = []gitconfig.RefSpec{gitconfig.RefSpec(fmt.Sprintf("+refs/tags/%s:refs/tags/%s", name, name))}
	case "commit":
		// A commit never changes: fetch only while it is missing.
		if c, err := repo.CommitObject(plumbing.NewHash(name)); err == nil {
			return repo, c, "sha1:" + name, nil
		}
		specs = []gitconfig.RefSpec{gitconfig.RefSpec(fmt.Sprintf("+refs/heads/*:refs/remotes/%s/*", remoteName))}
	}
	if err := fetchSpecs(ctx, repo, auth, specs); err != nil {
		return nil, nil, "", maskError(fmt.Errorf("fetch %s %s from %s: %w", kind, name, spec.URL, err), spec.URL)
	}
	var hash plumbing.Hash
	switch kind {
	case "branch":
		ref, err := repo.Reference(plumbing.NewRemoteReferenceName(remoteName, name), true)
		if err != nil {
			return nil, nil, "", fmt.Errorf("branch %s: %w", name, err)
		}
		hash = ref.Hash()
	case "tag":
		ref, err := repo.Reference(plumbing.NewTagReferenceName(name), true)
		if err != nil {
			return nil, nil, "", fmt.Errorf("tag %s: %w", name, err)
		}
		hash = ref.Hash()
		if tag, err := repo.TagObject(hash); err == nil {
			hash = tag.Target
		}
	case "commit":
		hash = plumbing.NewHash(name)
	}
	c, err := repo.CommitObject(hash)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%s %s: commit %s: %w", kind, name, hash, err)
	}
	id := name + "@sha1:" + c.Hash.String()
	if kind == "commit" {
		id = "sha1:" + c.Hash.String()
	}
	return repo, c, id, nil
}

// fetchSpecs fetches specs from the cache repository's remote: only the
// objects it lacks, no tags, refs moved by force. Nothing to fetch is not an
// error.
func fetchSpecs(ctx context.Context, repo *git.Repository, auth transport.AuthMethod, specs []gitconfig.RefSpec) error {
	err := repo.FetchContext(ctx, &git.FetchOptions{RemoteName: remoteName, RefSpecs: specs, Auth: auth, Tags: git.NoTags, Force: true})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return err
}

// Limits bound what one revision may hold, so that a repository cannot
// exhaust the operator's memory or its snapshot storage. A revision over a
// limit is invalid.
type Limits struct {
	// MaxFiles is the most files read under the configured paths.
	MaxFiles int
	// MaxFileBytes is the largest file read.
	MaxFileBytes int64
	// MaxBytes is the most bytes read in all.
	MaxBytes int64
}

// DefaultLimits hold Kubernetes' own configuration (about 800 files and
// 9 MB) many times over.
var DefaultLimits = Limits{MaxFiles: 10000, MaxFileBytes: 4 << 20, MaxBytes: 64 << 20}

func (l Limits) withDefaults() Limits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultLimits.MaxFiles
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultLimits.MaxFileBytes
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	return l
}

// errTooLarge says a revision is over a Limit.
type errTooLarge struct{ msg string }

func (e errTooLarge) Error() string { return e.msg }

// BlobCache holds the file contents of the revision read last, by blob
// hash, so that reading the next revision reads only the blobs that
// changed.
type BlobCache map[plumbing.Hash][]byte

// readTree copies the files under paths in c's tree into memory, taking
// unchanged blobs from cache, and returns them with the cache for the next
// revision. Paths that do not exist are skipped; symlinks and submodules are
// left out, so the loader sees only what the commit itself contains.
func readTree(repo *git.Repository, c *object.Commit, paths []string, cache BlobCache, limits Limits) (fs.FS, BlobCache, error) {
	limits = limits.withDefaults()
	tree, err := c.Tree()
	if err != nil {
		return nil, nil, err
	}
	files, next := fstest.MapFS{}, BlobCache{}
	var total int64
	add := func(name string, e object.TreeEntry) error {
		if e.Mode != filemode.Regular && e.Mode != filemode.Executable {
			return nil
		}
		if len(files) >= limits.MaxFiles {
			return errTooLarge{fmt.Sprintf("the configured paths hold more than %d files: bowline reads at most %d; keep other files out of them (spec.paths)", limits.MaxFiles, limits.MaxFiles)}
		}
		data, ok := cache[e.Hash]
		if !ok {
			blob, err := repo.BlobObject(e.Hash)
			if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			if blob.Size > limits.MaxFileBytes {
				return errTooLarge{fmt.Sprintf("%s: %d bytes is larger than the %d bytes bowline reads in one configuration file", name, blob.Size, limits.MaxFileBytes)}
			}
			rd, err := blob.Reader()
			if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			data, err = io.ReadAll(rd)
			rd.Close()
			if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
		}
		if total += int64(len(data)); total > limits.MaxBytes {
			return errTooLarge{fmt.Sprintf("the configured paths hold more than %d bytes: bowline reads at most %d; keep other files out of them (spec.paths)", limits.MaxBytes, limits.MaxBytes)}
		}
		next[e.Hash] = data
		files[name] = &fstest.MapFile{Data: data, Mode: 0o444}
		return nil
	}
	for _, p := range paths {
		p = strings.Trim(path.Clean("/"+p), "/")
		if p == "" {
			continue
		}
		entry, err := tree.FindEntry(p)
		if err != nil {
			continue // absent: that kind of configuration is not used
		}
		if entry.Mode != filemode.Dir {
			if err := add(p, *entry); err != nil {
				return nil, nil, err
			}
			continue
		}
		sub, err := tree.Tree(p)
		if err != nil {
			return nil, nil, err
		}
		w := object.NewTreeWalker(sub, true, nil)
		for {
			name, e, err := w.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				w.Close()
				return nil, nil, err
			}
			if err := add(path.Join(p, name), e); err != nil {
				w.Close()
				return nil, nil, err
			}
		}
		w.Close()
	}
	return files, next, nil
}

// countFiles counts the regular files under dir in c's tree; zero when dir
// is absent.
func countFiles(c *object.Commit, dir string) (int, error) {
	dir = strings.Trim(path.Clean("/"+dir), "/")
	if dir == "" {
		return 0, nil
	}
	tree, err := c.Tree()
	if err != nil {
		return 0, err
	}
	entry, err := tree.FindEntry(dir)
	if err != nil {
		return 0, nil
	}
	if entry.Mode != filemode.Dir {
		return 1, nil
	}
	sub, err := tree.Tree(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	err = sub.Files().ForEach(func(*object.File) error { n++; return nil })
	return n, err
}

// authFor builds the transport credentials for rawURL from secret (nil when
// spec.secretRef is unset).
func authFor(rawURL string, secret *corev1.Secret, knownHostsFile string) (transport.AuthMethod, error) {
	if secret == nil {
		return nil, nil
	}
	d := secret.Data
	if isSSH(rawURL) {
		if len(d["identity"]) == 0 || len(d["known_hosts"]) == 0 {
			return nil, errors.New(`secret needs the keys "identity" and "known_hosts" for ssh`)
		}
		user := "git"
		if ep, err := transport.NewEndpoint(rawURL); err == nil && ep.User != "" {
			user = ep.User
		}
		keys, err := gitssh.NewPublicKeys(user, d["identity"], string(d["password"]))
		if err != nil {
			return nil, errors.New(`secret key "identity" is not a usable private key`)
		}
		if err := os.MkdirAll(filepath.Dir(knownHostsFile), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(knownHostsFile, d["known_hosts"], 0o600); err != nil {
			return nil, err
		}
		cb, err := gitssh.NewKnownHostsCallback(knownHostsFile)
		if err != nil {
			return nil, errors.New(`secret key "known_hosts" is not in known_hosts format`)
		}
		keys.HostKeyCallback = cb
		return keys, nil
	}
	if insecureForCredentials(rawURL) && (len(d["token"]) > 0 || len(d["password"]) > 0) {
		return nil, errors.New("refusing to send its credentials over plain http://: use an https:// URL (http:// carries credentials only to this machine's loopback address)")
	}
	switch {
	case len(d["token"]) > 0:
		// Forges take a token as the password of any user name over https.
		return &githttp.BasicAuth{Username: "x-access-token", Password: strings.TrimSpace(string(d["token"]))}, nil
	case len(d["username"]) > 0 && len(d["password"]) > 0:
		return &githttp.BasicAuth{Username: string(d["username"]), Password: string(d["password"])}, nil
	}
	return nil, errors.New(`secret needs the key "token", or "username" and "password", for https`)
}

// insecureForCredentials reports whether rawURL is plain http:// to a host
// other than this machine's loopback, where a credential would cross the
// network in the clear.
func insecureForCredentials(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || !strings.EqualFold(u.Scheme, "http") {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

var scpURL = regexp.MustCompile(`^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:`)

func isSSH(rawURL string) bool {
	return strings.HasPrefix(rawURL, "ssh://") || scpURL.MatchString(rawURL)
}

// MaskURL hides the credentials a URL may carry, for logs, errors and
// conditions.
func MaskURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	u.User = url.User("***")
	return u.String()
}

// maskedError keeps the chain of an error (errors.Is still works) but
// prints it with the credentials of a URL hidden.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

func maskError(err error, rawURL string) error {
	masked := MaskURL(rawURL)
	if masked == rawURL {
		return err
	}
	return &maskedError{msg: strings.ReplaceAll(err.Error(), rawURL, masked), err: err}
}
