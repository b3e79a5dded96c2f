package artifacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/gcsblob" // gs:// buckets
	_ "gocloud.dev/blob/s3blob"  // s3:// buckets
	"gocloud.dev/gcerrors"
)

// ErrNotFound is returned (wrapped) when an object does not exist.
var ErrNotFound = errors.New("not found")

// Store reads and writes the objects of one bucket.
type Store struct {
	bucket *blob.Bucket
	where  string
	// local is set for directory buckets, whose listings must leave out
	// the temporary files of writes in progress.
	local bool
}

// inProgress matches the temporary files the directory driver writes next
// to an object before renaming them into place.
var inProgress = regexp.MustCompile(`\.[0-9a-f]+\.tmp$`)

// Open opens a bucket. location is a gs://, s3:// or file:// URL, a path
// (anything with a slash: a local directory, created when missing), or a
// bare bucket name, which means Google Cloud Storage as in Prow. Cloud
// credentials come from the drivers' usual sources
// (GOOGLE_APPLICATION_CREDENTIALS, AWS_* variables and files); S3-compatible
// stores take endpoint, region and use_path_style as URL query parameters.
func Open(ctx context.Context, location string) (*Store, error) {
	if location == "" {
		return nil, errors.New("open bucket: no location given")
	}
	var dir string
	switch {
	case strings.HasPrefix(location, "file://"):
		u, err := url.Parse(location)
		if err != nil {
			return nil, fmt.Errorf("open bucket: %w", err)
		}
		dir = u.Path
	case !strings.Contains(location, "://") && strings.Contains(location, "/"):
		dir = location
	case !strings.Contains(location, "://"):
		location = "gs://" + location
	}
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("open bucket directory %s: %w", dir, err)
		}
		b, err := fileblob.OpenBucket(abs, &fileblob.Options{CreateDir: true, NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
		if err != nil {
			return nil, fmt.Errorf("open bucket directory %s: %w", abs, err)
		}
		return &Store{bucket: b, where: abs, local: true}, nil
	}
	b, err := blob.OpenBucket(ctx, location)
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", redact(location), err)
	}
	return &Store{bucket: b, where: redact(location)}, nil
}

// redact drops credentials from a URL so that it can appear in errors.
func redact(location string) string {
	u, err := url.Parse(location)
	if err != nil {
		return "(unparsable bucket URL)"
	}
	return u.Redacted()
}

// String names the bucket, without credentials.
func (s *Store) String() string { return s.where }

// Close releases the bucket.
func (s *Store) Close() error { return s.bucket.Close() }

// contentType guesses an object's media type from its name; logs are text.
func contentType(key string) string {
	switch path.Ext(key) {
	case ".txt", ".log":
		return "text/plain; charset=utf-8"
	case ".json":
		return "application/json"
	}
	if t := mime.TypeByExtension(path.Ext(key)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// WriteFile writes a whole object, replacing it.
func (s *Store) WriteFile(ctx context.Context, key string, data []byte) error {
	if err := s.bucket.WriteAll(ctx, key, data, &blob.WriterOptions{ContentType: contentType(key)}); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// Upload writes an object from a reader, replacing it.
func (s *Store) Upload(ctx context.Context, key string, r io.Reader) error {
	if err := s.bucket.Upload(ctx, key, r, &blob.WriterOptions{ContentType: contentType(key)}); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// UploadFile writes a local file to key.
func (s *Store) UploadFile(ctx context.Context, key, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("upload %s: %w", file, err)
	}
	defer f.Close()
	return s.Upload(ctx, key, f)
}

// UploadDir writes every regular file under dir to prefix/<relative path>.
// A missing directory uploads nothing. transform, when not nil, filters each
// file's content on its way up (censoring, for one).
func (s *Store) UploadDir(ctx context.Context, prefix, dir string, transform func(io.Reader) io.Reader) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("upload %s: %w", p, err)
		}
		defer f.Close()
		var r io.Reader = f
		if transform != nil {
			r = transform(f)
		}
		return s.Upload(ctx, path.Join(prefix, filepath.ToSlash(rel)), r)
	})
}

// ReadFile reads a whole object. A missing object gives an error wrapping
// ErrNotFound.
func (s *Store) ReadFile(ctx context.Context, key string) ([]byte, error) {
	b, err := s.bucket.ReadAll(ctx, key)
	if err != nil {
		return nil, s.wrap(key, err)
	}
	return b, nil
}

// Open opens an object for reading; the caller closes it.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, s.wrap(key, err)
	}
	return r, nil
}

// Exists reports whether an object exists.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	ok, err := s.bucket.Exists(ctx, key)
	if err != nil {
		return false, fmt.Errorf("check %s: %w", key, err)
	}
	return ok, nil
}

// ReadFrom returns an object's bytes from offset to its current end. An
// offset at or past the end gives no bytes (the object may have been
// rewritten shorter; the caller decides).
func (s *Store) ReadFrom(ctx context.Context, key string, offset int64) ([]byte, error) {
	attrs, err := s.bucket.Attributes(ctx, key)
	if err != nil {
		return nil, s.wrap(key, err)
	}
	if offset >= attrs.Size {
		return nil, nil
	}
	r, err := s.bucket.NewRangeReader(ctx, key, offset, -1, nil)
	if err != nil {
		return nil, s.wrap(key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return b, nil
}

func (s *Store) wrap(key string, err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return fmt.Errorf("read %s: %w", key, err)
}

// Object is one stored file.
type Object struct {
	// Key is the object's full key.
	Key string `json:"key"`
	// Name is the key relative to the listed prefix.
	Name string `json:"name"`
	// Size in bytes.
	Size int64 `json:"size"`
	// Modified is when it was last written.
	Modified time.Time `json:"modified"`
}

// List returns every object under prefix (a run directory, say), sorted by
// key.
func (s *Store) List(ctx context.Context, prefix string) ([]Object, error) {
	prefix = strings.TrimSuffix(prefix, "/") + "/"
	var out []Object
	it := s.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		if o.IsDir || (s.local && inProgress.MatchString(o.Key)) {
			continue
		}
		out = append(out, Object{Key: o.Key, Name: strings.TrimPrefix(o.Key, prefix), Size: o.Size, Modified: o.ModTime})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
