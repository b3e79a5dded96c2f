package org

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// The baseline is the index of the plan last applied to an org (what the
// configuration said about every object it describes, as digests). Drift is
// a difference the configuration did not ask for since then, so the
// baseline must outlive the process: it is kept in a ConfigMap owned by the
// GitHubOrganization, compressed (Kubernetes' org takes about 100 KiB), and
// cached in memory.

const (
	baselineKey      = "index.json.gz"
	digestAnnotation = "bowline.dev/baseline-digest"
	// FieldOwner is the field manager of what the orgs role writes.
	FieldOwner = "bowline-orgs"
)

// baselineName is the ConfigMap of an org's baseline.
func baselineName(o *v1alpha1.GitHubOrganization) string { return o.Name + "-baseline" }

type baselines struct {
	client client.Client
	reader client.Reader
	mu     sync.Mutex
	cache  map[types.UID]cachedBaseline
}

type cachedBaseline struct {
	digest string
	index  map[string]string
}

func indexDigest(index map[string]string) string {
	keys := make([]string, 0, len(index))
	for k := range index {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\n", k, index[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// load returns the org's baseline, nil when no plan was applied yet.
func (b *baselines) load(ctx context.Context, o *v1alpha1.GitHubOrganization) (map[string]string, error) {
	b.mu.Lock()
	c, ok := b.cache[o.UID]
	b.mu.Unlock()
	if ok {
		return c.index, nil
	}
	cm := &corev1.ConfigMap{}
	err := b.reader.Get(ctx, types.NamespacedName{Namespace: o.Namespace, Name: baselineName(o)}, cm)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the baseline of %s: %w", o.Name, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(cm.BinaryData[baselineKey]))
	if err != nil {
		return nil, fmt.Errorf("read the baseline of %s: %w", o.Name, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("read the baseline of %s: %w", o.Name, err)
	}
	index := map[string]string{}
	if err := json.Unmarshal(raw, &index); err != nil {
		return nil, fmt.Errorf("read the baseline of %s: %w", o.Name, err)
	}
	b.remember(o.UID, cachedBaseline{digest: indexDigest(index), index: index})
	return index, nil
}

// save records index as the org's baseline, unless it is already.
func (b *baselines) save(ctx context.Context, o *v1alpha1.GitHubOrganization, index map[string]string) error {
	digest := indexDigest(index)
	b.mu.Lock()
	c, ok := b.cache[o.UID]
	b.mu.Unlock()
	if ok && c.digest == digest {
		return nil
	}
	raw, err := json.Marshal(index)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(raw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	owner := metav1ac.OwnerReference().WithAPIVersion(v1alpha1.GroupVersion.String()).WithKind("GitHubOrganization").
		WithName(o.Name).WithUID(o.UID).WithBlockOwnerDeletion(true).WithController(true)
	cm := corev1ac.ConfigMap(baselineName(o), o.Namespace).
		WithLabels(map[string]string{"app.kubernetes.io/managed-by": "bowline", "bowline.dev/github-organization": o.Name}).
		WithAnnotations(map[string]string{digestAnnotation: digest}).
		WithOwnerReferences(owner).
		WithBinaryData(map[string][]byte{baselineKey: buf.Bytes()})
	if err := b.client.Apply(ctx, cm, client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("save the baseline of %s: %w", o.Name, err)
	}
	b.remember(o.UID, cachedBaseline{digest: digest, index: index})
	return nil
}

func (b *baselines) remember(uid types.UID, c cachedBaseline) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cache == nil {
		b.cache = map[types.UID]cachedBaseline{}
	}
	b.cache[uid] = c
}
