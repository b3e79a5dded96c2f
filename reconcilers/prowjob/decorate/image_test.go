package decorate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerfileEntrypoint reads the path of the bowline binary from the
// Dockerfile: the ENTRYPOINT of the final stage and the destination of the
// COPY that puts the binary there must name the same file.
func dockerfileEntrypoint(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var entrypoint, copied string
	copyRe := regexp.MustCompile(`^COPY\s+--from=\S+\s+\S+/bowline\s+(\S+)$`)
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "FROM ") {
			entrypoint, copied = "", "" // only the final stage counts
		}
		if m := copyRe.FindStringSubmatch(line); m != nil {
			copied = m[1]
		}
		if rest, ok := strings.CutPrefix(line, "ENTRYPOINT "); ok {
			var exec []string
			if err := json.Unmarshal([]byte(rest), &exec); err != nil || len(exec) == 0 {
				t.Fatalf("Dockerfile: ENTRYPOINT %s is not an exec-form list: %v", rest, err)
			}
			entrypoint = exec[0]
		}
	}
	if entrypoint == "" || copied == "" {
		t.Fatalf("Dockerfile: final stage has ENTRYPOINT %q and copies the binary to %q", entrypoint, copied)
	}
	if entrypoint != copied {
		t.Fatalf("Dockerfile: the ENTRYPOINT %s is not where the binary is copied (%s)", entrypoint, copied)
	}
	return entrypoint
}

// TestPodRunsTheImagesBinary builds a decorated pod with the default binary
// path and checks that every pod utility runs the file the image's
// Dockerfile installs and declares as its entrypoint.
func TestPodRunsTheImagesBinary(t *testing.T) {
	want := dockerfileEntrypoint(t)
	if DefaultBinary != want {
		t.Errorf("DefaultBinary = %s, but the image installs bowline at %s", DefaultBinary, want)
	}
	o := defaults()
	o.Binary = ""
	pod, err := Pod(prowJob(), o)
	if err != nil {
		t.Fatal(err)
	}
	utilities := 0
	for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		if c.Name == TestContainerName {
			continue
		}
		utilities++
		if len(c.Command) == 0 || c.Command[0] != want {
			t.Errorf("container %s runs %v, want %s from the image", c.Name, c.Command, want)
		}
	}
	if utilities != 4 {
		t.Errorf("found %d pod utilities, want place-entrypoint, clonerefs, initupload and sidecar", utilities)
	}
}
