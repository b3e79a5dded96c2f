package configset

import (
	"bytes"
	"compress/gzip"
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func gzipped(t *testing.T, chunk string, times int) *fstest.MapFile {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	for range times {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &fstest.MapFile{Data: b.Bytes()}
}

// TestGzippedFiles: config.yaml and job config files may be
// gzip-compressed, as Prow reads them; problems in them are placed at their
// line in the expanded text.
func TestGzippedFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"config.yaml": gzipped(t, "plank:\n  max_revivals: 2\n", 1),
		"jobs/a.yaml": gzipped(t, "periodics:\n- name: p\n  interval: 1h"+periodicSpec+"\n", 1),
		"jobs/b.yaml": gzipped(t, "periodics:\n- name: q\n  cron: 'nope'"+periodicSpec+"\n", 1),
	}
	_, err := Load(context.Background(), fsys, Options{ConfigPath: "config.yaml", JobConfigPath: "jobs"})
	want := []string{`jobs/b.yaml:3:9: periodic "q": invalid cron "nope": expected 5 to 6 fields, found 1: [nope]`}
	if diff := cmp.Diff(want, messages(err)); diff != "" {
		t.Fatalf("errors (-want +got):\n%s", diff)
	}
	delete(fsys, "jobs/b.yaml")
	set, err := Load(context.Background(), fsys, Options{ConfigPath: "config.yaml", JobConfigPath: "jobs"})
	if err != nil {
		t.Fatal(err)
	}
	if set.Config.Plank.MaxRevivals == nil || *set.Config.Plank.MaxRevivals != 2 || len(set.Jobs.Periodics) != 1 {
		t.Errorf("gzipped files did not load: max_revivals %v, %d periodics", set.Config.Plank.MaxRevivals, len(set.Jobs.Periodics))
	}
}

// TestGzipBomb: a small file that expands past the limit is refused without
// being expanded in full.
func TestGzipBomb(t *testing.T) {
	line := "# " + strings.Repeat("x", 1<<20-3) + "\n"
	fsys := fstest.MapFS{"jobs/a.yaml": gzipped(t, line, maxGunzippedFile>>20+1)}
	if n := len(fsys["jobs/a.yaml"].Data); n > 1<<20 {
		t.Fatalf("the bomb is %d bytes", n)
	}
	_, err := Load(context.Background(), fsys, Options{JobConfigPath: "jobs"})
	want := []string{"jobs/a.yaml: gzip: the file expands to more than 64 MiB (at most 64 MiB per file and 256 MiB in all)"}
	if diff := cmp.Diff(want, messages(err)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
