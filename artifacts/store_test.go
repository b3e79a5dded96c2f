package artifacts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bowline-ci/bowline/podutils"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bucket")
	s, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, dir := openTemp(t)
	run := "logs/unit/1"
	if err := s.WriteFile(ctx, Key(run, "started.json"), []byte(`{"timestamp":1}`)); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"junit.xml": "<x/>", "sub/a.txt": "a"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(src)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := s.UploadTree(ctx, Key(run, "artifacts"), root, ".", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.UploadTree(ctx, Key(run, "artifacts"), root, "missing", nil); err != nil {
		t.Fatalf("UploadTree of a missing directory: %v", err)
	}

	// The layout is visible as plain files in the directory.
	if b, err := os.ReadFile(filepath.Join(dir, "logs/unit/1/artifacts/sub/a.txt")); err != nil || string(b) != "a" {
		t.Fatalf("file on disk = %q, %v", b, err)
	}
	// A write in progress (the driver's temporary file) is not listed.
	if err := os.WriteFile(filepath.Join(dir, "logs/unit/1/build-log.txt.18b4c2a1f0e3d5c7.tmp"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	objs, err := s.List(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.Name)
	}
	if got, want := strings.Join(names, ","), "artifacts/junit.xml,artifacts/sub/a.txt,started.json"; got != want {
		t.Errorf("List() = %s, want %s", got, want)
	}
	b, err := s.ReadFile(ctx, Key(run, "started.json"))
	if err != nil || string(b) != `{"timestamp":1}` {
		t.Errorf("ReadFile() = %q, %v", b, err)
	}
	if _, err := s.ReadFile(ctx, Key(run, "nope")); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadFile(missing) error = %v, want ErrNotFound", err)
	}
	if b, err := s.ReadFrom(ctx, Key(run, "started.json"), 2); err != nil || string(b) != `timestamp":1}` {
		t.Errorf("ReadFrom(2) = %q, %v", b, err)
	}
	if b, err := s.ReadFrom(ctx, Key(run, "started.json"), 100); err != nil || len(b) != 0 {
		t.Errorf("ReadFrom(past end) = %q, %v", b, err)
	}
}

func TestOpenLocations(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.WriteFile(ctx, "x.txt", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.txt")); err != nil {
		t.Errorf("file:// bucket did not write into %s: %v", dir, err)
	}
	if _, err := Open(ctx, ""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	if _, err := Open(ctx, "nosuch://bucket"); err == nil {
		t.Error("Open(nosuch://) succeeded")
	}

	// The S3 driver is registered: opening needs no network, and the
	// store's name never shows credentials.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	s3, err := Open(ctx, "s3://ci-logs?region=eu-west-1&endpoint=http://minio.example:9000&use_path_style=true")
	if err != nil {
		t.Fatalf("Open(s3://) = %v", err)
	}
	defer s3.Close()
	if !strings.HasPrefix(s3.String(), "s3://ci-logs") {
		t.Errorf("String() = %s", s3.String())
	}
	if got := redact("s3://user:pw@bucket"); strings.Contains(got, "pw") {
		t.Errorf("redact() = %s", got)
	}
}

// chunkWriter hands each write to a channel, so the test sees the tail's
// progress as it happens.
type chunkWriter chan string

func (c chunkWriter) Write(p []byte) (int, error) {
	c <- string(p)
	return len(p), nil
}

func TestTailFollowsARunningLog(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	run := "logs/unit/2"
	chunks := make(chunkWriter, 10)
	type result struct {
		off int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		off, err := s.Tail(ctx, run, 0, chunks, 5*time.Millisecond)
		done <- result{off, err}
	}()

	// Before the first upload the tail waits; then it sees each rewrite's
	// new bytes only.
	if err := s.WriteFile(ctx, Key(run, podutils.BuildLogFile), []byte("line 1\n")); err != nil {
		t.Fatal(err)
	}
	if got := <-chunks; got != "line 1\n" {
		t.Fatalf("first chunk = %q", got)
	}
	if err := s.WriteFile(ctx, Key(run, podutils.BuildLogFile), []byte("line 1\nline 2\n")); err != nil {
		t.Fatal(err)
	}
	if got := <-chunks; got != "line 2\n" {
		t.Fatalf("second chunk = %q", got)
	}
	// The final log and finished.json: the tail copies the rest and ends.
	if err := s.WriteFile(ctx, Key(run, podutils.BuildLogFile), []byte("line 1\nline 2\nline 3\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteFile(ctx, Key(run, podutils.FinishedFile), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	var rest strings.Builder
	var res result
	for res.err == nil && res.off == 0 {
		select {
		case c := <-chunks:
			rest.WriteString(c)
		case res = <-done:
		}
	}
	for len(chunks) > 0 {
		rest.WriteString(<-chunks)
	}
	if res.err != nil {
		t.Fatal(res.err)
	}
	if rest.String() != "line 3\n" || res.off != int64(len("line 1\nline 2\nline 3\n")) {
		t.Errorf("tail ended at %d after %q", res.off, rest.String())
	}
}

func TestTailStopsWithContext(t *testing.T) {
	s, _ := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Tail(ctx, "logs/unit/3", 0, chunkWriter(make(chan string, 1)), 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Tail() error = %v, want context.Canceled", err)
	}
}

// TestLinksInADirectoryBucketAreNotFollowed plants symbolic links in a
// directory bucket (a local job runs as the operator's user and can write
// there) and checks that reads, listings and Tail never follow them to the
// files they point at.
func TestLinksInADirectoryBucketAreNotFollowed(t *testing.T) {
	ctx := context.Background()
	s, dir := openTemp(t)
	secret := filepath.Join(t.TempDir(), "webhook-secret")
	if err := os.WriteFile(secret, []byte("s3cr3t-hmac"), 0o600); err != nil {
		t.Fatal(err)
	}
	secretDir := filepath.Dir(secret)
	run := "logs/unit/1"
	if err := s.WriteFile(ctx, Key(run, "started.json"), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	link := func(target, name string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	link(secret, Key(run, "build-log.txt"))
	link(secret, Key(run, "artifacts/secret.txt"))
	link(secretDir, Key(run, "artifacts/dir"))
	link("../started.json", Key(run, "artifacts/inside.json"))
	link(secretDir, "logs/linked")
	if err := os.WriteFile(filepath.Join(secretDir, "finished.json"), []byte("s3cr3t-hmac"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, key := range []string{Key(run, "build-log.txt"), Key(run, "artifacts/secret.txt"), Key(run, "artifacts/dir/webhook-secret"),
		Key(run, "artifacts/inside.json"), "logs/linked/webhook-secret", "logs/linked/finished.json"} {
		if b, err := s.ReadFile(ctx, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("ReadFile(%s) = %q, %v; want ErrNotFound", key, b, err)
		}
		if r, err := s.Open(ctx, key); !errors.Is(err, ErrNotFound) {
			if err == nil {
				r.Close()
			}
			t.Errorf("Open(%s) = %v; want ErrNotFound", key, err)
		}
		if b, err := s.ReadFrom(ctx, key, 0); !errors.Is(err, ErrNotFound) {
			t.Errorf("ReadFrom(%s) = %q, %v; want ErrNotFound", key, b, err)
		}
		if ok, err := s.Exists(ctx, key); ok || err != nil {
			t.Errorf("Exists(%s) = %v, %v", key, ok, err)
		}
	}
	objs, err := s.List(ctx, run)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].Name != "started.json" {
		t.Errorf("List(%s) = %+v: want started.json alone", run, objs)
	}
	if objs, err := s.List(ctx, "logs/linked"); err != nil || len(objs) != 0 {
		t.Errorf("List through a linked directory = %+v, %v", objs, err)
	}
	// A finished run whose log is a link: Tail copies nothing of it.
	var out strings.Builder
	tailCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := s.WriteFile(ctx, Key(run, "finished.json"), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Tail(tailCtx, run, 0, &out, time.Millisecond); err != nil || strings.Contains(out.String(), "s3cr3t") {
		t.Errorf("Tail() = %q, %v", out.String(), err)
	}
}
