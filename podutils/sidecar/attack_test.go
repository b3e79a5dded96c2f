package sidecar

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bowline-ci/bowline/podutils/entrypoint"
)

// credentials is what only the sidecar can read in a pod: the bucket
// credentials, mounted outside the shared logs directory.
const credentials = `{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n","client_email":"uploader@example.iam"}`

func plantCredentials(t *testing.T) (dir, file string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "secrets", "gcs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(dir, "service-account.json")
	if err := os.WriteFile(file, []byte(credentials), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, file
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(link)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// uploaded is every object of the run, concatenated.
func (f *fixture) uploaded(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	objs, err := f.store.List(ctx, "logs/build/9")
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, o := range objs {
		b, err := f.store.ReadFile(ctx, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		all.WriteString(o.Name + ":\n" + string(b) + "\n")
	}
	return all.String()
}

func leaked(s string) bool {
	return strings.Contains(s, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC") || strings.Contains(s, "uploader@example.iam")
}

// TestPlantedLinksDoNotReachTheSidecarsCredentials plays a test container
// that plants symbolic links to the sidecar's credentials wherever the
// sidecar reads: none of the credentials may be uploaded.
func TestPlantedLinksDoNotReachTheSidecarsCredentials(t *testing.T) {
	tests := []struct {
		name  string
		plant func(t *testing.T, f *fixture, credDir, credFile string)
	}{
		{name: "the process log", plant: func(t *testing.T, f *fixture, _, credFile string) {
			symlink(t, credFile, f.opts.Entries[0].ProcessLog)
		}},
		{name: "the process log, relative link", plant: func(t *testing.T, f *fixture, _, credFile string) {
			rel, _ := filepath.Rel(filepath.Dir(f.opts.Entries[0].ProcessLog), credFile)
			symlink(t, rel, f.opts.Entries[0].ProcessLog)
		}},
		{name: "an artifact", plant: func(t *testing.T, f *fixture, _, credFile string) {
			symlink(t, credFile, filepath.Join(f.opts.ArtifactDir, "junit.xml"))
		}},
		{name: "a directory of artifacts", plant: func(t *testing.T, f *fixture, credDir, _ string) {
			symlink(t, credDir, filepath.Join(f.opts.ArtifactDir, "gcs"))
		}},
		{name: "the artifact directory itself", plant: func(t *testing.T, f *fixture, credDir, _ string) {
			if err := os.RemoveAll(f.opts.ArtifactDir); err != nil {
				t.Fatal(err)
			}
			symlink(t, credDir, f.opts.ArtifactDir)
		}},
		{name: "the metadata file", plant: func(t *testing.T, f *fixture, _, credFile string) {
			symlink(t, credFile, f.opts.Entries[0].MetadataFile)
		}},
		{name: "the container's log directory", plant: func(t *testing.T, f *fixture, credDir, _ string) {
			// The marker elsewhere, so that the sidecar sees the end.
			f.opts.Entries[0].MarkerFile = filepath.Join(f.logs, "marker-file.txt")
			dir := filepath.Dir(f.opts.Entries[0].ProcessLog)
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(credDir, "process-log.txt"), []byte(credentials), 0o600); err != nil {
				t.Fatal(err)
			}
			symlink(t, credDir, dir)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, "test")
			credDir, credFile := plantCredentials(t)
			e := f.opts.Entries[0]
			write(t, e.ProcessLog, "running\n")
			tt.plant(t, f, credDir, credFile)
			e = f.opts.Entries[0]
			if err := os.MkdirAll(filepath.Dir(e.MarkerFile), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := entrypoint.WriteMarker(e.MarkerFile, 0); err != nil {
				t.Fatal(err)
			}
			_, err := Finish(context.Background(), f.store, f.opts, f.spec)
			if leaked(f.uploaded(t)) {
				t.Fatalf("the credentials were uploaded:\n%s", f.uploaded(t))
			}
			if err != nil && leaked(err.Error()) {
				t.Errorf("the error shows the credentials: %v", err)
			}
		})
	}
}

// TestLinksInsideTheLogsDirectoryAreFollowed: a link from one artifact to
// another file of the logs directory is uploaded with that file's content,
// as before.
func TestLinksInsideTheLogsDirectoryAreFollowed(t *testing.T) {
	f := newFixture(t, "test")
	e := f.opts.Entries[0]
	write(t, filepath.Join(f.opts.ArtifactDir, "real.txt"), "real\n")
	symlink(t, "real.txt", filepath.Join(f.opts.ArtifactDir, "alias.txt"))
	write(t, e.ProcessLog, "log\n")
	if err := entrypoint.WriteMarker(e.MarkerFile, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := Finish(context.Background(), f.store, f.opts, f.spec); err != nil {
		t.Fatal(err)
	}
	if b, err := f.store.ReadFile(context.Background(), "logs/build/9/artifacts/alias.txt"); err != nil || string(b) != "real\n" {
		t.Errorf("alias.txt = %q, %v", b, err)
	}
}

// TestMarkerLinkDoesNotRevealANumber: a marker linked to a file of
// digits would turn it into the run's exit code.
func TestMarkerLinkDoesNotRevealANumber(t *testing.T) {
	f := newFixture(t, "test")
	pin := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pin, []byte("4242\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	symlink(t, pin, f.opts.Entries[0].MarkerFile)
	res, _ := Finish(context.Background(), f.store, f.opts, f.spec)
	if res.ExitCode == 4242 || strings.Contains(f.uploaded(t), "4242") {
		t.Errorf("the linked file's content became the outcome: %+v", res)
	}
}

// TestLogsDirectorySwappedForALink: once the sidecar has started, moving
// the logs directory away and linking its path elsewhere changes nothing:
// the sidecar keeps reading the directory it opened.
func TestLogsDirectorySwappedForALink(t *testing.T) {
	f := newFixture(t, "test")
	credDir, _ := plantCredentials(t)
	if err := os.WriteFile(filepath.Join(credDir, "process-log.txt"), []byte(credentials), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(credDir, "test"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(credDir, "test", "process-log.txt"), []byte(credentials), 0o600); err != nil {
		t.Fatal(err)
	}
	e := f.opts.Entries[0]
	write(t, e.ProcessLog, "the real log\n")
	sc, err := New(f.store, f.opts, f.spec)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if err := os.Rename(f.logs, f.logs+".old"); err != nil {
		t.Fatal(err)
	}
	symlink(t, credDir, f.logs)
	if err := entrypoint.WriteMarker(filepath.Join(f.logs+".old", "test", "marker-file.txt"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	all := f.uploaded(t)
	if leaked(all) || !strings.Contains(all, "the real log") {
		t.Errorf("uploaded:\n%s", all)
	}
}

// TestFIFOInPlaceOfALogDoesNotHangTheSidecar: a FIFO that nothing writes
// would block a plain open forever.
func TestFIFOInPlaceOfALogDoesNotHangTheSidecar(t *testing.T) {
	f := newFixture(t, "test")
	e := f.opts.Entries[0]
	if err := syscall.Mkfifo(e.ProcessLog, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(f.opts.ArtifactDir, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := entrypoint.WriteMarker(e.MarkerFile, 0); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Finish(context.Background(), f.store, f.opts, f.spec)
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the sidecar is stuck on a FIFO")
	}
	if ok, _ := f.store.Exists(context.Background(), "logs/build/9/finished.json"); !ok {
		t.Error("finished.json not uploaded")
	}
}
