// Package gitstore keeps the sandbox forge's git repositories: real bare
// repositories on disk, served over git's smart HTTP protocol, plus the
// repository operations a GitHub-like API needs (refs, commits, compare,
// contents, commits through the API, merges).
//
// # Layout
//
// A Store is a directory holding <owner>/<name>.git bare repositories and
// two directories of its own, .tmp (staging, cleared by Open) and .home (an
// empty HOME for git). Nothing else is kept: the repositories are the
// state, so a Store opened on the same directory after a restart serves
// the same repositories.
//
// # Why the git CLI
//
// Every operation runs the git command-line tool (2.38 or newer) rather
// than a Go implementation of git:
//   - The HTTP protocol is git's own `git http-backend` behind
//     net/http/cgi. It is the reference implementation, so the git CLI and
//     go-git (and anything else) clone, fetch and push exactly as they do
//     against a real server, including protocol v2, shallow and partial
//     clones and atomic pushes, with nothing of the protocol reimplemented
//     here.
//   - Merges use `git merge-tree --write-tree`, the same ort merge
//     `git merge` uses (renames, criss-cross histories), without a work
//     tree. go-git has no three-way merge.
//   - Diffs, rename detection and logs are git's, so compare and
//     pull-request files match what a user sees locally.
//
// Each call starts a few short git processes (a few milliseconds each),
// which is plenty for a test and demo forge. Processes get a minimal
// environment: only PATH is inherited, and system, global and XDG
// configuration are off, so a developer's git configuration never changes
// the results. Commits made through the API are written with plumbing
// (hash-object, a temporary index, write-tree, commit-tree, update-ref
// with the expected old value) and never touch a work tree.
//
// # Concurrency
//
// A Store is safe for concurrent use. Reads run concurrently with
// everything except Delete and Rename. Writes to one repository (SetRef,
// DeleteRef, CommitFiles, Merge, SetDefaultBranch and pushes, for the
// whole receive-pack) are serialised by a per-repository mutex, so an API
// write never races with a push; different repositories are independent.
// Delete and Rename wait for every operation in progress. Ref updates use
// compare-and-swap, so a repository changed behind the store's back fails
// a write instead of losing a commit.
//
// # Errors
//
// Errors wrap the sentinels ErrNotFound, ErrConflict, ErrNotFastForward,
// ErrExists and ErrInvalid where they apply; anything else is a failure of
// git or the file system.
package gitstore
