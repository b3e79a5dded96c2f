package api

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// BlobArtifacts reads runs' files through the artifacts package, from the
// bucket each run's decoration config names, or DefaultBucket.
type BlobArtifacts struct {
	// DefaultBucket is used for runs that name no bucket.
	DefaultBucket string

	mu     sync.Mutex
	stores map[string]*artifacts.Store
}

// Open opens one file of a run.
func (b *BlobArtifacts) Open(ctx context.Context, pj *v1alpha1.ProwJob, name string) (io.ReadCloser, error) {
	s, dir, err := b.run(ctx, pj)
	if err != nil {
		return nil, err
	}
	return s.Open(ctx, artifacts.Key(dir, name))
}

// List lists a run's files.
func (b *BlobArtifacts) List(ctx context.Context, pj *v1alpha1.ProwJob) ([]artifacts.Object, error) {
	s, dir, err := b.run(ctx, pj)
	if err != nil {
		return nil, err
	}
	return s.List(ctx, dir)
}

// Close closes the opened buckets.
func (b *BlobArtifacts) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var first error
	for k, s := range b.stores {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
		delete(b.stores, k)
	}
	return first
}

// run finds a run's bucket and directory.
func (b *BlobArtifacts) run(ctx context.Context, pj *v1alpha1.ProwJob) (*artifacts.Store, string, error) {
	cfg := artifacts.ConfigFor(pj, b.DefaultBucket)
	if err := cfg.Validate(); err != nil {
		return nil, "", err
	}
	dir, err := cfg.RunPathFor(pj)
	if err != nil {
		return nil, "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.stores[cfg.Bucket]; ok {
		return s, dir, nil
	}
	s, err := artifacts.Open(ctx, cfg.Bucket)
	if err != nil {
		return nil, "", fmt.Errorf("open the run's bucket: %w", err)
	}
	if b.stores == nil {
		b.stores = map[string]*artifacts.Store{}
	}
	b.stores[cfg.Bucket] = s
	return s, dir, nil
}
