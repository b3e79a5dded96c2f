package configplan

import (
	"context"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/bowline-ci/bowline/reconcilers/configrepo"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Load reads commit c of repo and judges it as the operator would apply it
// with spec: the configured paths, the same limits, loader, strictness and
// further checks (check; nil for none). cache holds blobs of the revision
// read before (nil for none); Load returns the cache for the next.
func Load(ctx context.Context, repo *git.Repository, c *object.Commit, spec *v1alpha1.ConfigRepositorySpec, limits configrepo.Limits,
	check func(*configset.Set) error, cache configrepo.BlobCache) (*configrepo.Verdict, configrepo.BlobCache, error) {
	files, next, err := configrepo.ReadRevision(repo, c, snapshot.LoadPaths(spec.Paths), cache, limits)
	if msg, ok := configrepo.TooLarge(err); ok {
		return configrepo.Invalid(msg), cache, nil
	}
	if err != nil {
		return nil, cache, err
	}
	v, err := configrepo.Validate(ctx, files, spec, check)
	return v, next, err
}
