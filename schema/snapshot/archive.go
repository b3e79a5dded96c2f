package snapshot

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing/fstest"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// maxArchiveSize bounds what Unpack expands, so a corrupt or hostile
// archive cannot exhaust memory: ten times the largest known config
// repository.
const maxArchiveSize = 256 << 20

// Archive is the published form of a revision: the config files the loader
// read, as a gzip-compressed tar that is byte-for-byte the same for the same
// files, so its digest names the content.
type Archive struct {
	// Data is the compressed archive.
	Data []byte
	// Size is the length of the uncompressed tar.
	Size int64
	// Digest is sha256:<hex> of Data.
	Digest string
}

// manifestName is the archive entry that records how to load the files.
const manifestName = ".bowline-snapshot.json"

// manifest makes an archive self-describing: a process loading it needs
// neither the ConfigRepository's current spec (which may be newer than the
// published revision) nor the repository.
type manifest struct {
	// Paths are the ConfigRepository's paths, defaults applied, at the
	// time the revision was validated.
	Paths v1alpha1.ConfigPaths `json:"paths"`
}

// Pack archives files (slash-separated paths in fsys) deterministically,
// with a manifest recording paths: sorted, without times, owners or modes
// beyond 0644, compressed at a fixed level.
func Pack(fsys fs.FS, files []string, paths v1alpha1.ConfigPaths) (*Archive, error) {
	names := slices.Clone(files)
	slices.Sort(names)
	names = slices.Compact(names)
	m, err := json.Marshal(manifest{Paths: WithDefaults(paths)})
	if err != nil {
		return nil, err
	}
	// The tar streams straight into the compressor: no uncompressed copy
	// of the whole configuration is held. A zero gzip header (no name, no
	// time) keeps the output deterministic; BestSpeed because publishing
	// sits on the path from push to applied, and better compression would
	// save a chunk at most.
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	counted := &countingWriter{w: zw}
	tw := tar.NewWriter(counted)
	write := func(name string, b []byte) error {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(b)), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("pack %s: %w", name, err)
		}
		if _, err := tw.Write(b); err != nil {
			return fmt.Errorf("pack %s: %w", name, err)
		}
		return nil
	}
	if err := write(manifestName, m); err != nil {
		return nil, err
	}
	for _, name := range names {
		if !fs.ValidPath(name) || name == "." || name == manifestName {
			return nil, fmt.Errorf("pack: invalid path %q", name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		if err := write(name, b); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	size := counted.n
	return &Archive{Data: out.Bytes(), Size: size, Digest: Digest(out.Bytes())}, nil
}

// Digest returns sha256:<hex> of data.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Unpack verifies data against digest and returns its files as a read-only
// file system; directories are implied by the file paths. The manifest is
// a file too, read by archivePaths.
func Unpack(data []byte, digest string) (fs.FS, error) {
	if got := Digest(data); got != digest {
		return nil, fmt.Errorf("archive digest is %s, want %s", got, digest)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("unpack: %w", err)
	}
	tr := tar.NewReader(io.LimitReader(zr, maxArchiveSize))
	files := fstest.MapFS{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files, nil
		}
		if err != nil {
			return nil, fmt.Errorf("unpack: %w", err)
		}
		name := path.Clean(hdr.Name)
		if hdr.Typeflag != tar.TypeReg || !fs.ValidPath(name) || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("unpack: unexpected entry %q", hdr.Name)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("unpack %s: %w", name, err)
		}
		files[name] = &fstest.MapFile{Data: b, Mode: 0o444}
	}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// archivePaths returns the paths recorded in an unpacked archive's
// manifest, or def when it has none.
func archivePaths(fsys fs.FS, def v1alpha1.ConfigPaths) (v1alpha1.ConfigPaths, error) {
	b, err := fs.ReadFile(fsys, manifestName)
	if errors.Is(err, fs.ErrNotExist) {
		return def, nil
	}
	if err != nil {
		return def, err
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return def, fmt.Errorf("snapshot manifest: %w", err)
	}
	return m.Paths, nil
}
