// Package kubernetes lays Kubernetes' own configuration, kept with its
// provenance in test/testdata, out as a config repository, for the tests
// and benchmarks that need one of real size.
package kubernetes

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
)

// Repo returns the files of a config repository with bowline's default
// paths holding Kubernetes' Prow configuration (3,849 jobs), its org
// configuration and its labels, with the provenance of the Prow
// configuration at the top: about 8 MiB of YAML in some 800 files, keyed
// by slash-separated path.
func Repo() (map[string][]byte, error) {
	_, self, _, _ := runtime.Caller(0)
	testdata := filepath.Join(filepath.Dir(self), "..", "testdata")
	files := map[string][]byte{}
	for _, m := range []struct{ src, dst string }{
		{"kubernetes-prow/config.yaml", "config/prow/config.yaml"},
		{"kubernetes-prow/plugins.yaml", "config/prow/plugins.yaml"},
		{"kubernetes-prow/jobs", "config/jobs"},
		{"kubernetes-org", "config/orgs"},
		{"kubernetes-labels.yaml", "config/labels.yaml"},
		{"kubernetes-prow/PROVENANCE.md", "PROVENANCE.md"},
	} {
		root := filepath.Join(testdata, m.src)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			name := m.dst
			if rel != "." {
				name = path.Join(m.dst, filepath.ToSlash(rel))
			}
			files[name] = b
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}
