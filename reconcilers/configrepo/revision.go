package configrepo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// What follows is how the reconciler reads and judges a revision, for the
// components that judge one without applying it (the review of pull
// requests to a config repository, `bowline plan`): the same fetch, the same
// limits, the same loader options and the same further checks, so that
// what they say of a revision is what this reconciler would do with it.

// AuthFor builds the transport credentials for rawURL from a
// ConfigRepository's Secret (nil when it names none), as the reconciler
// does; an ssh URL's known_hosts are written to knownHostsFile.
func AuthFor(rawURL string, secret *corev1.Secret, knownHostsFile string) (transport.AuthMethod, error) {
	return authFor(rawURL, secret, knownHostsFile)
}

// FetchRefs brings the cache repository in dir (created when absent) up to
// date with refs of rawURL, full names such as refs/heads/main or
// refs/pull/7/head, each kept under its own name. Only the objects the cache
// lacks are transferred.
func FetchRefs(ctx context.Context, dir, rawURL string, auth transport.AuthMethod, refs ...string) (*git.Repository, error) {
	repo, err := openCache(dir, rawURL)
	if err != nil {
		return nil, err
	}
	specs := make([]gitconfig.RefSpec, 0, len(refs))
	for _, ref := range refs {
		spec := gitconfig.RefSpec("+" + ref + ":" + ref)
		if err := spec.Validate(); err != nil || !strings.HasPrefix(ref, "refs/") {
			return nil, fmt.Errorf("fetch %s: not a full ref name", ref)
		}
		specs = append(specs, spec)
	}
	if err := fetchSpecs(ctx, repo, auth, specs); err != nil {
		return nil, maskError(fmt.Errorf("fetch %s from %s: %w", strings.Join(refs, ", "), rawURL, err), rawURL)
	}
	return repo, nil
}

// ReadRevision reads the files under paths of commit c, as the reconciler
// reads a revision: regular files only, within limits (zero values take
// DefaultLimits), unchanged blobs taken from cache (nil for none). It
// returns the cache for the next revision. A revision over a limit is
// invalid, not unreadable: TooLarge tells that error apart.
func ReadRevision(repo *git.Repository, c *object.Commit, paths []string, cache BlobCache, limits Limits) (fs.FS, BlobCache, error) {
	return readTree(repo, c, paths, cache, limits)
}

// TooLarge reports whether err says a revision is over a Limit, and what.
func TooLarge(err error) (string, bool) {
	if e, ok := errors.AsType[errTooLarge](err); ok {
		return e.Error(), true
	}
	return "", false
}

// Verdict is what validation says of a revision.
type Verdict struct {
	// Set is the loaded configuration; nil when the revision is invalid.
	Set *configset.Set
	// Errors make the revision invalid: the loader's, each with its file,
	// line and column, then those of the further checks (positioned when
	// the check knows where).
	Errors []configset.Error
	// Warnings do not make it invalid.
	Warnings []configset.Error
}

// Valid reports whether the revision would be applied.
func (v *Verdict) Valid() bool { return v.Set != nil && len(v.Errors) == 0 }

// Lines lists the errors, one file:line:col: message each, as the
// ConfigRepository's status shows them.
func (v *Verdict) Lines() []string {
	out := make([]string, 0, len(v.Errors))
	for _, e := range v.Errors {
		out = append(out, e.String())
	}
	return out
}

// Invalid is the verdict on a revision that could not be read within the
// limits: msg is TooLarge's.
func Invalid(msg string) *Verdict {
	return &Verdict{Errors: []configset.Error{{Message: msg}}}
}

// Validate loads files as the reconciler validates a revision of spec:
// spec's paths (defaults for those it leaves empty), spec.strict, then
// check (the install's further checks, such as the build clusters; nil for
// none). An invalid revision is a Verdict with errors; the error is
// reserved for validation that could not finish (ctx ended).
func Validate(ctx context.Context, files fs.FS, spec *v1alpha1.ConfigRepositorySpec, check func(*configset.Set) error) (*Verdict, error) {
	opts := snapshot.Options(files, spec.Paths, false)
	opts.Strict = spec.Strict
	set, err := configset.Load(ctx, files, opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		v := &Verdict{Errors: problems(err)}
		if errs, ok := errors.AsType[*configset.Errors](err); ok {
			v.Warnings = errs.Warnings
		}
		return v, nil
	}
	v := &Verdict{Set: set, Warnings: set.Warnings}
	if check != nil {
		if err := check(set); err != nil {
			v.Set, v.Errors = nil, problems(err)
		}
	}
	return v, nil
}

// problems lists the problems an error holds: the positioned errors of a
// *configset.Errors, each error of a joined list, and otherwise one per
// line of its message.
func problems(err error) []configset.Error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []configset.Error
		for _, e := range joined.Unwrap() {
			out = append(out, problems(e)...)
		}
		return out
	}
	if errs, ok := errors.AsType[*configset.Errors](err); ok && errs.Len() > 0 {
		return errs.List
	}
	var out []configset.Error
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, configset.Error{Message: l})
		}
	}
	return out
}
