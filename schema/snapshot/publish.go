package snapshot

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Labels and annotations on snapshot ConfigMaps.
const (
	// LabelConfigRepository holds the UID of the ConfigRepository a snapshot
	// ConfigMap belongs to (a UID always fits a label value; a name may not).
	LabelConfigRepository = "bowline.dev/config-repository-uid"
	// LabelDigest holds the first 32 hex digits of the snapshot's digest.
	LabelDigest = "bowline.dev/snapshot-digest"
	// AnnotationDigest holds the full digest of the snapshot.
	AnnotationDigest = "bowline.dev/snapshot-digest"
	// AnnotationChunk holds "<index>/<count>" of a chunk.
	AnnotationChunk = "bowline.dev/snapshot-chunk"

	// dataKey is the binaryData key of a chunk.
	dataKey = "snapshot.tar.gz"
	// fieldOwner is the server-side apply field manager.
	fieldOwner = "bowline-configrepo"
	// DefaultChunkSize keeps each ConfigMap well below the API server's
	// 1 MiB limit on ConfigMap data, with room for metadata.
	DefaultChunkSize = 900 << 10
	// maxNameLen leaves room for the digest and index in a ConfigMap name.
	maxNameLen = 253 - len("-snapshot-0123456789abcdef-999")
)

// Publisher stores archives in ConfigMaps beside their ConfigRepository and
// reads them back.
type Publisher struct {
	// Client writes and deletes snapshot ConfigMaps.
	Client client.Client
	// Reader reads chunks; an uncached reader keeps the chunks out of the
	// informer cache.
	Reader client.Reader
	// ChunkSize is the most bytes per ConfigMap; zero means DefaultChunkSize.
	ChunkSize int
}

// ChunkName is the deterministic name of chunk i of the snapshot digest of
// the ConfigRepository named repo.
func ChunkName(repo, digest string, i int) string {
	if len(repo) > maxNameLen {
		repo = strings.TrimRight(repo[:maxNameLen], ".-")
	}
	return fmt.Sprintf("%s-snapshot-%s-%d", repo, digestHex(digest)[:16], i)
}

func digestHex(digest string) string {
	h := strings.TrimPrefix(digest, "sha256:")
	for len(h) < 32 {
		h += "0"
	}
	return h
}

func (p *Publisher) chunkSize() int {
	if p.ChunkSize > 0 {
		return p.ChunkSize
	}
	return DefaultChunkSize
}

// Publish writes a as ConfigMaps owned by repo, with server-side apply, and
// returns the reference to put in the ConfigRepository's status. Publishing
// the same archive again changes nothing.
func (p *Publisher) Publish(ctx context.Context, repo *v1alpha1.ConfigRepository, revision string, a *Archive, now metav1.Time) (*v1alpha1.SnapshotReference, error) {
	chunks := split(a.Data, p.chunkSize())
	owner := metav1ac.OwnerReference().
		WithAPIVersion(v1alpha1.GroupVersion.String()).
		WithKind("ConfigRepository").
		WithName(repo.Name).
		WithUID(repo.UID).
		WithBlockOwnerDeletion(true).
		WithController(true)
	for i, chunk := range chunks {
		cm := corev1ac.ConfigMap(ChunkName(repo.Name, a.Digest, i), repo.Namespace).
			WithLabels(map[string]string{
				"app.kubernetes.io/managed-by": "bowline",
				LabelConfigRepository:          string(repo.UID),
				LabelDigest:                    digestHex(a.Digest)[:32],
			}).
			WithAnnotations(map[string]string{
				AnnotationDigest: a.Digest,
				AnnotationChunk:  strconv.Itoa(i) + "/" + strconv.Itoa(len(chunks)),
			}).
			WithOwnerReferences(owner).
			WithImmutable(true).
			WithBinaryData(map[string][]byte{dataKey: chunk})
		if err := p.Client.Apply(ctx, cm, client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			return nil, fmt.Errorf("apply snapshot chunk %d/%d: %w", i, len(chunks), err)
		}
	}
	return &v1alpha1.SnapshotReference{
		Revision:    revision,
		Digest:      a.Digest,
		Size:        a.Size,
		Chunks:      int32(len(chunks)),
		PublishedAt: &now,
	}, nil
}

func split(data []byte, size int) [][]byte {
	var out [][]byte
	for len(data) > size {
		out = append(out, data[:size])
		data = data[size:]
	}
	return append(out, data)
}

// Exists reports whether every chunk of ref is present, reading only their
// metadata.
func (p *Publisher) Exists(ctx context.Context, repo *v1alpha1.ConfigRepository, ref *v1alpha1.SnapshotReference) (bool, error) {
	for i := range int(ref.Chunks) {
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))
		key := types.NamespacedName{Namespace: repo.Namespace, Name: ChunkName(repo.Name, ref.Digest, i)}
		if err := p.Reader.Get(ctx, key, m); err != nil {
			if apierrors.IsNotFound(err) {
				return false, nil
			}
			return false, err
		}
	}
	return true, nil
}

// Fetch reads the archive ref points to and verifies its digest.
func (p *Publisher) Fetch(ctx context.Context, repo *v1alpha1.ConfigRepository, ref *v1alpha1.SnapshotReference) ([]byte, error) {
	if ref.Chunks < 1 {
		return nil, fmt.Errorf("snapshot %s has no chunks", ref.Digest)
	}
	var buf bytes.Buffer
	for i := range int(ref.Chunks) {
		cm := &corev1.ConfigMap{}
		key := types.NamespacedName{Namespace: repo.Namespace, Name: ChunkName(repo.Name, ref.Digest, i)}
		if err := p.Reader.Get(ctx, key, cm); err != nil {
			return nil, fmt.Errorf("read snapshot chunk %d/%d: %w", i, ref.Chunks, err)
		}
		if cm.Annotations[AnnotationDigest] != ref.Digest {
			return nil, fmt.Errorf("snapshot chunk %s belongs to another snapshot", key.Name)
		}
		buf.Write(cm.BinaryData[dataKey])
	}
	if got := Digest(buf.Bytes()); got != ref.Digest {
		return nil, fmt.Errorf("snapshot digest is %s, want %s", got, ref.Digest)
	}
	return buf.Bytes(), nil
}

// Prune deletes the ConfigRepository's snapshot ConfigMaps except those of
// the digests in keep; with no digests to keep it deletes them all.
func (p *Publisher) Prune(ctx context.Context, repo *v1alpha1.ConfigRepository, keep ...string) error {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMapList"))
	if err := p.Reader.List(ctx, list, client.InNamespace(repo.Namespace), client.MatchingLabels{LabelConfigRepository: string(repo.UID)}); err != nil {
		return fmt.Errorf("list snapshots: %w", err)
	}
	for i := range list.Items {
		m := &list.Items[i]
		if contains(keep, m.GetAnnotations()[AnnotationDigest]) {
			continue
		}
		if err := p.Client.Delete(ctx, m); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("delete snapshot chunk %s: %w", m.GetName(), err)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x != "" && x == s {
			return true
		}
	}
	return false
}
