package gitstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// sigEnv sets the author and committer of the commit-tree it is given to.
func sigEnv(author, committer Signature) []string {
	ident := func(who string, s Signature) []string {
		if s.Name == "" {
			s.Name = "unknown"
		}
		if s.When.IsZero() {
			s.When = time.Now()
		}
		// "@" makes git read seconds since the epoch, however small.
		return []string{
			"GIT_" + who + "_NAME=" + s.Name,
			"GIT_" + who + "_EMAIL=" + s.Email,
			"GIT_" + who + "_DATE=@" + strconv.FormatInt(s.When.Unix(), 10) + " " + s.When.Format("-0700"),
		}
	}
	return append(ident("AUTHOR", author), ident("COMMITTER", committer)...)
}

// commitTree writes a commit object and returns its SHA.
func (r *repo) commitTree(ctx context.Context, tree string, parents []string, msg string, author, committer Signature) (string, error) {
	args := []string{"commit-tree", tree}
	for _, p := range parents {
		args = append(args, "-p", p)
	}
	args = append(args, "-F", "-")
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	return r.s.runLine(ctx, gitRun{dir: r.dir, args: args, env: sigEnv(author, committer), stdin: strings.NewReader(msg)})
}

// CommitFiles makes one commit on branch that writes files (a nil value
// deletes the path; deleting a missing path is a no-op) on top of parent,
// with author as author and committer, and returns its SHA. parent "" means
// the branch's current head. A missing branch is created at the new commit
// (a root commit when parent is "" too, which is how an empty repository
// gets its first commit). When the branch exists, the new commit must
// fast-forward it: a parent that is not the head (or a descendant of it)
// gives ErrNotFastForward, which is how a stale contents-API update is
// refused.
func (s *Store) CommitFiles(ctx context.Context, owner, repo, branch string, parent string, files map[string][]byte, msg string, author Signature) (sha string, err error) {
	r, release, err := s.write(owner, repo)
	if err != nil {
		return "", err
	}
	defer release()
	return r.commitFiles(ctx, branch, parent, files, msg, author)
}

func (r *repo) commitFiles(ctx context.Context, branch, parent string, files map[string][]byte, msg string, author Signature) (string, error) {
	ref := "refs/heads/" + strings.TrimPrefix(branch, "refs/heads/")
	if !validRefName(ref) {
		return "", fmt.Errorf("branch %q: %w", branch, ErrInvalid)
	}
	head, err := r.refValue(ctx, ref)
	if err != nil {
		return "", err
	}
	if parent == "" {
		parent = head
	} else if parent, err = r.resolve(ctx, parent); err != nil {
		return "", err
	}
	if head != "" && parent != head {
		ff, err := r.isAncestor(ctx, head, parent)
		if err != nil {
			return "", err
		}
		if !ff {
			return "", fmt.Errorf("%s: %s is at %s, not an ancestor of %s: %w", r.name, ref, head, parent, ErrNotFastForward)
		}
	}
	tree, err := r.writeTree(ctx, parent, files)
	if err != nil {
		return "", err
	}
	var parents []string
	if parent != "" {
		parents = []string{parent}
	}
	sha, err := r.commitTree(ctx, tree, parents, msg, author, author)
	if err != nil {
		return "", err
	}
	if err := r.updateRef(ctx, ref, sha, head); err != nil {
		return "", err
	}
	return sha, nil
}

// writeTree writes the tree of commit parent ("" = empty) with files
// applied, through a temporary index so that no work tree is needed.
func (r *repo) writeTree(ctx context.Context, parent string, files map[string][]byte) (string, error) {
	tmp, err := os.MkdirTemp(r.s.tmp, "tree-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	env := []string{"GIT_INDEX_FILE=" + filepath.Join(tmp, "index")}
	readTree := []string{"read-tree", "--empty"}
	if parent != "" {
		readTree = []string{"read-tree", parent}
	}
	if _, err := r.s.run(ctx, gitRun{dir: r.dir, env: env, args: readTree}); err != nil {
		return "", err
	}

	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	clean := make([]string, len(paths))
	// Blobs are hashed in one process from temporary files.
	var toHash []string
	for i, p := range paths {
		if clean[i], err = cleanPath(p); err != nil || clean[i] == "" {
			return "", fmt.Errorf("path %q: %w", p, ErrInvalid)
		}
		if files[p] == nil {
			continue
		}
		f := filepath.Join(tmp, "blob-"+strconv.Itoa(i))
		if err := os.WriteFile(f, files[p], 0o600); err != nil {
			return "", err
		}
		toHash = append(toHash, f)
	}
	var blobs []string
	if len(toHash) > 0 {
		out, err := r.s.run(ctx, gitRun{dir: r.dir, args: []string{"hash-object", "-w", "--no-filters", "--stdin-paths"},
			stdin: strings.NewReader(strings.Join(toHash, "\n") + "\n")})
		if err != nil {
			return "", err
		}
		blobs = strings.Fields(string(out))
		if len(blobs) != len(toHash) {
			return "", fmt.Errorf("hash-object returned %d blobs for %d files", len(blobs), len(toHash))
		}
	}
	modes := map[string]string{}
	if parent != "" && len(toHash) > 0 {
		if modes, err = r.indexModes(ctx, env, clean); err != nil {
			return "", err
		}
	}
	var info strings.Builder
	for i, p := range paths {
		if files[p] == nil {
			// Mode 0 removes the path from the index.
			fmt.Fprintf(&info, "0 %s\t%s\x00", zeroSHA, clean[i])
			continue
		}
		// A changed file keeps its mode (executable, symlink), as on
		// GitHub; anything else becomes a regular file.
		mode := modes[clean[i]]
		if mode != "100755" && mode != "120000" {
			mode = "100644"
		}
		fmt.Fprintf(&info, "%s %s\t%s\x00", mode, blobs[0], clean[i])
		blobs = blobs[1:]
	}
	if _, err := r.s.run(ctx, gitRun{dir: r.dir, env: env, args: []string{"update-index", "-z", "--index-info"},
		stdin: strings.NewReader(info.String())}); err != nil {
		return "", err
	}
	tree, err := r.s.runLine(ctx, gitRun{dir: r.dir, env: env, args: []string{"write-tree"}})
	if err != nil {
		return "", fmt.Errorf("%s: write tree: %w", r.name, err)
	}
	return tree, nil
}

// indexModes returns the modes of those of paths that are in the index.
func (r *repo) indexModes(ctx context.Context, env []string, paths []string) (map[string]string, error) {
	// Literal pathspecs: a file may be called "*.go".
	env = append([]string{"GIT_LITERAL_PATHSPECS=1"}, env...)
	out, err := r.s.run(ctx, gitRun{dir: r.dir, env: env, args: append([]string{"ls-files", "--stage", "-z", "--"}, paths...)})
	if err != nil {
		return nil, err
	}
	modes := map[string]string{}
	for _, rec := range strings.Split(string(out), "\x00") {
		// <mode> SP <object> SP <stage> TAB <path>
		meta, p, ok := strings.Cut(rec, "\t")
		if mode, _, _ := strings.Cut(meta, " "); ok {
			modes[p] = mode
		}
	}
	return modes, nil
}

// Merge methods, as GitHub's merge_method.
const (
	MethodMerge  = "merge"
	MethodSquash = "squash"
	MethodRebase = "rebase"
)

// Merge merges headSHA into baseBranch and moves the branch to the result,
// which it returns:
//   - merge: a merge commit with parents (base head, headSHA);
//   - squash: one commit with the base head as only parent and the
//     combined changes of the merge;
//   - rebase: the commits of Log(base, head) replayed one by one on the base
//     head (merge commits skipped, commits that become empty dropped), each
//     keeping its author and message.
//
// The message of a merge or squash commit is title, then a blank line and
// message when message is not empty; rebase ignores both. committer is the
// committer of every new commit and the author of merge and squash commits.
// ErrConflict when the changes do not apply cleanly (or the histories are
// unrelated); the branch is then unchanged.
func (s *Store) Merge(ctx context.Context, owner, repo, baseBranch, headSHA, method, title, message string, committer Signature) (sha string, err error) {
	if method != MethodMerge && method != MethodSquash && method != MethodRebase {
		return "", fmt.Errorf("merge method %q: %w", method, ErrInvalid)
	}
	r, release, err := s.write(owner, repo)
	if err != nil {
		return "", err
	}
	defer release()
	ref := "refs/heads/" + strings.TrimPrefix(baseBranch, "refs/heads/")
	if !validRefName(ref) {
		return "", fmt.Errorf("branch %q: %w", baseBranch, ErrInvalid)
	}
	base, err := r.refValue(ctx, ref)
	if err != nil {
		return "", err
	}
	if base == "" {
		return "", fmt.Errorf("%s: branch %s: %w", r.name, baseBranch, ErrNotFound)
	}
	head, err := r.resolve(ctx, headSHA)
	if err != nil {
		return "", err
	}
	if committer.When.IsZero() {
		committer.When = time.Now()
	}
	msg := title
	if message != "" {
		msg += "\n\n" + message
	}
	switch method {
	case MethodRebase:
		sha, err = r.rebase(ctx, base, head, committer)
	default:
		var tree string
		if tree, err = r.mergeTree(ctx, base, head); err != nil {
			return "", err
		}
		parents := []string{base, head}
		if method == MethodSquash {
			parents = parents[:1]
		}
		sha, err = r.commitTree(ctx, tree, parents, msg, committer, committer)
	}
	if err != nil {
		return "", err
	}
	if err := r.updateRef(ctx, ref, sha, base); err != nil {
		return "", err
	}
	return sha, nil
}

// Mergeable reports whether headSHA merges cleanly into baseBranch. It
// changes no ref (the trial merge may leave unreferenced objects, which
// git's garbage collection removes).
func (s *Store) Mergeable(ctx context.Context, owner, repo, baseBranch, headSHA string) (bool, error) {
	r, release, err := s.read(owner, repo)
	if err != nil {
		return false, err
	}
	defer release()
	base, err := r.resolve(ctx, fullRef(baseBranch))
	if err != nil {
		return false, err
	}
	head, err := r.resolve(ctx, headSHA)
	if err != nil {
		return false, err
	}
	_, err = r.mergeTree(ctx, base, head)
	switch {
	case err == nil:
		return true, nil
	case isConflict(err):
		return false, nil
	default:
		return false, err
	}
}

// mergeTree merges commits a and b as `git merge` would (ort strategy,
// merge bases found by git) without a work tree, and returns the tree.
func (r *repo) mergeTree(ctx context.Context, a, b string) (string, error) {
	if _, err := r.gitLine(ctx, "merge-base", a, b); exitCode(err) == 1 {
		return "", fmt.Errorf("%s: %s and %s share no history: %w", r.name, a, b, ErrConflict)
	} else if err != nil {
		return "", err
	}
	out, err := r.git(ctx, "merge-tree", "--write-tree", "--no-messages", a, b)
	if exitCode(err) == 1 {
		return "", fmt.Errorf("%s: merge %s into %s: %w", r.name, b, a, ErrConflict)
	}
	if err != nil {
		return "", err
	}
	tree, _, _ := strings.Cut(string(out), "\n")
	return tree, nil
}

func isConflict(err error) bool { return errors.Is(err, ErrConflict) }

// syntheticSig signs the throw-away commits of cherryPick; a fixed date
// makes them identical across runs.
var syntheticSig = Signature{Name: "gitstore", Email: "gitstore@localhost", When: time.Unix(0, 0).UTC()}

// cherryPick applies the change from parent to c onto onto and returns the
// resulting tree. git 2.38's merge-tree cannot be told the merge base, so
// the three trees are wrapped in throw-away commits whose only common
// ancestor holds parent's tree: merging them is exactly a cherry-pick,
// rename detection included.
func (r *repo) cherryPick(ctx context.Context, onto, parentTree, cTree string) (string, error) {
	x, err := r.commitTree(ctx, parentTree, nil, "base", syntheticSig, syntheticSig)
	if err != nil {
		return "", err
	}
	y, err := r.commitTree(ctx, onto, []string{x}, "ours", syntheticSig, syntheticSig)
	if err != nil {
		return "", err
	}
	z, err := r.commitTree(ctx, cTree, []string{x}, "theirs", syntheticSig, syntheticSig)
	if err != nil {
		return "", err
	}
	return r.mergeTree(ctx, y, z)
}

// rebase replays the commits of head that base lacks onto base and
// returns the new tip.
func (r *repo) rebase(ctx context.Context, base, head string, committer Signature) (string, error) {
	commits, err := r.log(ctx, base, head, 0, "--no-merges")
	if err != nil {
		return "", err
	}
	if _, err := r.gitLine(ctx, "merge-base", base, head); exitCode(err) == 1 {
		return "", fmt.Errorf("%s: %s and %s share no history: %w", r.name, base, head, ErrConflict)
	}
	tip := base
	tipTree, err := r.gitLine(ctx, "rev-parse", base+"^{tree}")
	if err != nil {
		return "", err
	}
	for _, c := range commits {
		var parentTree string
		if len(c.Parents) > 0 {
			parentTree, err = r.gitLine(ctx, "rev-parse", c.Parents[0]+"^{tree}")
		} else {
			// A root commit: its change is from the empty tree, which
			// must be stored for a commit to point to it.
			parentTree, err = r.s.runLine(ctx, gitRun{dir: r.dir, args: []string{"mktree"}, stdin: strings.NewReader("")})
		}
		if err != nil {
			return "", err
		}
		tree, err := r.cherryPick(ctx, tipTree, parentTree, c.Tree)
		if err != nil {
			return "", err
		}
		if tree == tipTree {
			continue // already applied upstream
		}
		if tip, err = r.commitTree(ctx, tree, []string{tip}, c.Message, c.Author, committer); err != nil {
			return "", err
		}
		tipTree = tree
	}
	return tip, nil
}
