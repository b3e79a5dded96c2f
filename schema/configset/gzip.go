package configset

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"sync/atomic"
)

// Prow reads config.yaml and job config files that are gzip-compressed (it
// looks for gzip's magic bytes, whatever the file's name), so bowline does
// too. What they expand to is bounded: per file, and across the load, so
// that a small file cannot make the loader hold gigabytes.
const (
	maxGunzippedFile = 64 << 20
	maxGunzippedLoad = 256 << 20
)

var gzipMagic = []byte{0x1f, 0x8b}

// gunzipBudget is what is left of maxGunzippedLoad in one load.
type gunzipBudget struct{ left atomic.Int64 }

func newGunzipBudget() *gunzipBudget {
	b := &gunzipBudget{}
	b.left.Store(maxGunzippedLoad)
	return b
}

// maybeGunzip returns data as it is unless it starts with gzip's magic
// bytes, in which case it returns what data expands to, within the limits.
func (b *gunzipBudget) maybeGunzip(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, gzipMagic) {
		return data, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	limit := min(int64(maxGunzippedFile), b.left.Load())
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if int64(len(out)) > limit || b.left.Add(-int64(len(out))) < 0 {
		return nil, fmt.Errorf("gzip: the file expands to more than %d MiB (at most %d MiB per file and %d MiB in all)",
			limit>>20, maxGunzippedFile>>20, maxGunzippedLoad>>20)
	}
	return out, nil
}
