package snapshot

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func testFiles() fstest.MapFS {
	return fstest.MapFS{
		"config/prow/config.yaml":  {Data: []byte("prowjob_namespace: default\n")},
		"config/jobs/a/a.yaml":     {Data: []byte("periodics: []\n")},
		"config/jobs/b/b.yaml":     {Data: []byte("presubmits: {}\n")},
		"config/jobs/b/OWNERS":     {Data: []byte("approvers: [someone]\n")},
		"unrelated/big-binary.bin": {Data: []byte{0, 1, 2}},
	}
}

func TestPackIsDeterministic(t *testing.T) {
	files := []string{"config/prow/config.yaml", "config/jobs/b/b.yaml", "config/jobs/a/a.yaml"}
	a, err := Pack(testFiles(), files, v1alpha1.ConfigPaths{})
	if err != nil {
		t.Fatal(err)
	}
	reordered := []string{"config/jobs/a/a.yaml", "config/jobs/b/b.yaml", "config/prow/config.yaml", "config/jobs/a/a.yaml"}
	b, err := Pack(testFiles(), reordered, v1alpha1.ConfigPaths{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest != b.Digest || string(a.Data) != string(b.Data) {
		t.Errorf("the same files packed twice give %s and %s", a.Digest, b.Digest)
	}
	if !strings.HasPrefix(a.Digest, "sha256:") || len(a.Digest) != len("sha256:")+64 {
		t.Errorf("digest %q is not sha256:<hex>", a.Digest)
	}
	changed := testFiles()
	changed["config/jobs/a/a.yaml"] = &fstest.MapFile{Data: []byte("periodics: [] # changed\n")}
	c, err := Pack(changed, files, v1alpha1.ConfigPaths{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Digest == a.Digest {
		t.Error("different content, same digest")
	}
}

func TestUnpack(t *testing.T) {
	files := []string{"config/prow/config.yaml", "config/jobs/a/a.yaml", "config/jobs/b/b.yaml"}
	a, err := Pack(testFiles(), files, v1alpha1.ConfigPaths{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unpack(a.Data, a.Digest)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	if err := fs.WalkDir(got, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{manifestName, "config/jobs/a/a.yaml", "config/jobs/b/b.yaml", "config/prow/config.yaml"}, names); diff != "" {
		t.Errorf("unpacked files (-want +got):\n%s", diff)
	}
	b, err := fs.ReadFile(got, "config/prow/config.yaml")
	if err != nil || string(b) != "prowjob_namespace: default\n" {
		t.Errorf("config.yaml = %q, %v", b, err)
	}
	var size int64
	for _, f := range files {
		size += int64(len(testFiles()[f].Data))
	}
	if a.Size < size {
		t.Errorf("Size = %d, less than the %d bytes of content", a.Size, size)
	}
}

func TestUnpackRejects(t *testing.T) {
	a, err := Pack(testFiles(), []string{"config/prow/config.yaml"}, v1alpha1.ConfigPaths{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, digest string
		data         []byte
		want         string
	}{
		{"wrong digest", Digest([]byte("other")), a.Data, "digest"},
		{"truncated", Digest(a.Data[:10]), a.Data[:10], "unpack"},
		{"not gzip", Digest([]byte("plain text")), []byte("plain text"), "unpack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Unpack(tt.data, tt.digest); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Unpack = %v, want an error about %s", err, tt.want)
			}
		})
	}
}

func TestPackRejectsBadPaths(t *testing.T) {
	for _, p := range []string{"../etc/passwd", "/abs", ".", "missing.yaml"} {
		if _, err := Pack(testFiles(), []string{p}, v1alpha1.ConfigPaths{}); err == nil {
			t.Errorf("Pack(%q) succeeded", p)
		}
	}
}

func TestChunkName(t *testing.T) {
	d := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		repo string
		i    int
		want string
	}{
		{"config", 0, "config-snapshot-abababababababab-0"},
		{"prow.config", 12, "prow.config-snapshot-abababababababab-12"},
	}
	for _, tt := range tests {
		if got := ChunkName(tt.repo, d, tt.i); got != tt.want {
			t.Errorf("ChunkName(%q, %d) = %q, want %q", tt.repo, tt.i, got, tt.want)
		}
	}
	long := strings.Repeat("a", 220) + "." + strings.Repeat("b", 32)
	got := ChunkName(long, d, 999)
	if len(got) > 253 || strings.Contains(got, ".-") || strings.Contains(got, "--") {
		t.Errorf("ChunkName of a long name = %q (%d bytes): not a valid object name", got, len(got))
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		n, size int
		want    []int
	}{
		{0, 4, []int{0}},
		{3, 4, []int{3}},
		{4, 4, []int{4}},
		{9, 4, []int{4, 4, 1}},
	}
	for _, tt := range tests {
		var got []int
		for _, c := range split(make([]byte, tt.n), tt.size) {
			got = append(got, len(c))
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("split(%d, %d) (-want +got):\n%s", tt.n, tt.size, diff)
		}
	}
}

// TestManifest: an archive says how to load it, whatever the spec says now.
func TestManifest(t *testing.T) {
	files := fstest.MapFS{"ci/jobs/a.yaml": {Data: []byte("periodics: []\n")}}
	a, err := Pack(files, []string{"ci/jobs/a.yaml"}, v1alpha1.ConfigPaths{Jobs: "ci/jobs"})
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := Unpack(a.Data, a.Digest)
	if err != nil {
		t.Fatal(err)
	}
	got, err := archivePaths(fsys, v1alpha1.ConfigPaths{Jobs: "elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	want := WithDefaults(v1alpha1.ConfigPaths{Jobs: "ci/jobs"})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("archivePaths (-want +got):\n%s", diff)
	}
	if _, err := Pack(files, []string{manifestName}, v1alpha1.ConfigPaths{}); err == nil {
		t.Error("Pack accepted a file named like the manifest")
	}
	// An archive without a manifest falls back to the given paths.
	old := fstest.MapFS{"x.yaml": {Data: []byte("{}")}}
	got, err = archivePaths(old, v1alpha1.ConfigPaths{Jobs: "elsewhere"})
	if err != nil || got.Jobs != "elsewhere" {
		t.Errorf("archivePaths without a manifest = %+v, %v", got, err)
	}
}
