// Package faults injects the failures bowline promises to survive and
// checks the promises (docs/reliability.md): a leader killed while its
// jobs run, the API server restarted under load, GitHub answering errors,
// rate limits and late answers, a webhook delivered twice, and `bowline
// up` killed with SIGKILL. Every test runs bowline as separate processes
// (the binary is built once) against the real API server and the sandbox
// forge, and the independent ones run in parallel.
package faults

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/bowline-ci/bowline/test/envtest"
)

var (
	// cp is the control plane the tests share, each in namespaces of
	// its own; the API server restart test starts its own.
	cp *envtest.Env
	// bowline is the binary under test.
	bowline string
)

func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard()) // the tests' own clients log nowhere
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "bowline-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bowline = filepath.Join(dir, "bowline")
	build := exec.Command("go", "build", "-o", bowline, "../../operator")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "go build:", err)
		return 1
	}
	if cp, err = envtest.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "envtest:", err)
		return 1
	}
	code := m.Run()
	if err := cp.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "envtest: stop:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}
