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
	"syscall"
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

// UploadTree writes every file under dir, a directory inside root, to
// prefix/<path relative to dir>. dir is where a job writes its artifacts,
// so nothing in it is trusted: files are opened through root, which
// follows a symbolic link only while it stays inside root (a link to
// another artifact is uploaded as that artifact's content; a link out of
// root, to mounted credentials say, is not followed); links to
// directories, FIFOs, devices and sockets are left out. A missing dir
// uploads nothing. transform, when not nil, filters each file's content on
// its way up (censoring, for one). What could not be uploaded is reported
// together once the rest is up.
func (s *Store) UploadTree(ctx context.Context, prefix string, root *os.Root, dir string, transform func(io.Reader) io.Reader) error {
	dir = filepath.ToSlash(filepath.Clean(dir))
	if _, err := root.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var errs []error
	walkErr := fs.WalkDir(root.FS(), dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, fmt.Errorf("upload %s: %w", p, err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || (!d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0) {
			return nil
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if err := s.uploadFrom(ctx, path.Join(prefix, rel), root, p, transform); err != nil {
			errs = append(errs, err)
		}
		return nil
	})
	return errors.Join(append(errs, walkErr)...)
}

// uploadFrom uploads one regular file opened through root.
func (s *Store) uploadFrom(ctx context.Context, key string, root *os.Root, name string, transform func(io.Reader) io.Reader) error {
	// O_NONBLOCK: a FIFO planted in place of a file must not hang the
	// upload; it is refused below.
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("upload %s: not uploaded: %w", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("upload %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		// A link to a directory or a special file.
		return nil
	}
	var r io.Reader = f
	if transform != nil {
		r = transform(f)
	}
	return s.Upload(ctx, key, r)
}

// ReadFile reads a whole object. A missing object gives an error wrapping
// ErrNotFound.
func (s *Store) ReadFile(ctx context.Context, key string) ([]byte, error) {
	r, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return b, nil
}

// Open opens an object for reading; the caller closes it.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	r, err := s.bucket.NewReader(ctx, key, s.readerOptions())
	if err != nil {
		return nil, s.wrap(key, err)
	}
	return r, nil
}

// readerOptions make reads of a directory bucket refuse symbolic links:
// whoever can write into the directory (a job of the local agent, running
// as the operator's user) could otherwise plant a link that the web UI
// would serve, to any file the operator can read. A link is served as a
// missing object.
func (s *Store) readerOptions() *blob.ReaderOptions {
	if !s.local {
		return nil
	}
	return &blob.ReaderOptions{BeforeRead: s.refuseLinks}
}

// refuseLinks checks that the file the directory driver opened is the one
// reached from the bucket's directory without following any symbolic link:
// both are open, so a link swapped in between cannot fool the comparison.
func (s *Store) refuseLinks(as func(any) bool) error {
	var f *os.File
	if !as(&f) || f == nil {
		return errors.New("directory bucket: cannot check the opened file")
	}
	rel, err := filepath.Rel(s.where, f.Name())
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return errLink(f.Name())
	}
	direct, err := openNoFollow(s.where, rel)
	if err != nil {
		return err
	}
	defer direct.Close()
	opened, err := f.Stat()
	if err != nil {
		return err
	}
	reached, err := direct.Stat()
	if err != nil {
		return err
	}
	if !reached.Mode().IsRegular() || !os.SameFile(opened, reached) {
		return errLink(rel)
	}
	return nil
}

// Exists reports whether an object exists (in a directory bucket, a
// symbolic link does not count).
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	if s.local {
		r, err := s.Open(ctx, key)
		if errors.Is(err, ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		r.Close()
		return true, nil
	}
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
	if !s.local {
		attrs, err := s.bucket.Attributes(ctx, key)
		if err != nil {
			return nil, s.wrap(key, err)
		}
		if offset >= attrs.Size {
			return nil, nil
		}
	}
	r, err := s.bucket.NewRangeReader(ctx, key, offset, -1, s.readerOptions())
	if err != nil {
		return nil, s.wrap(key, err)
	}
	defer r.Close()
	if offset >= r.Size() {
		return nil, nil
	}
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
// key. In a directory bucket, symbolic links are left out, and so is
// everything under a prefix that goes through one.
func (s *Store) List(ctx context.Context, prefix string) ([]Object, error) {
	prefix = strings.TrimSuffix(prefix, "/") + "/"
	if s.local {
		ok, err := s.plainPrefix(prefix)
		if err != nil || !ok {
			return nil, err
		}
	}
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
		if o.IsDir || (s.local && (inProgress.MatchString(o.Key) || !regularFile(o))) {
			continue
		}
		out = append(out, Object{Key: o.Key, Name: strings.TrimPrefix(o.Key, prefix), Size: o.Size, Modified: o.ModTime})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// regularFile reports whether a listed object of a directory bucket is a
// regular file (the driver lists links too).
func regularFile(o *blob.ListObject) bool {
	var fi os.FileInfo
	return o.As(&fi) && fi != nil && fi.Mode().IsRegular()
}

// plainPrefix reports whether the directory of a prefix is reached from a
// directory bucket's root without a symbolic link: the driver's listing
// starts there and would follow one. A prefix whose directory does not
// exist yet lists nothing anyway.
func (s *Store) plainPrefix(prefix string) (bool, error) {
	dir := path.Dir(prefix + "x")
	if dir == "." {
		return true, nil
	}
	// Keys map to paths unchanged unless the driver escapes them; a prefix
	// it would escape is not one bowline writes.
	if strings.Contains(dir, "__0x") || strings.Contains(dir, "//") || strings.IndexFunc(dir, func(r rune) bool { return r < 32 }) >= 0 {
		return false, fmt.Errorf("list %s: not a prefix of this bucket", prefix)
	}
	f, err := openNoFollow(s.where, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("list %s: %w", prefix, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("list %s: %w", prefix, err)
	}
	return st.IsDir(), nil
}
