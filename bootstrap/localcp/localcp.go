// Package localcp runs a local Kubernetes control plane — the real etcd and
// kube-apiserver that `make tools` builds into bin/ — for `bowline up`. Its
// state lives in a data directory, so objects survive a restart; bowline's
// CRDs are installed on every start.
package localcp

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"
	ctrlenvtest "sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/bowline-ci/bowline/schema/crds"
)

// Options configures the control plane.
type Options struct {
	// BinDir holds etcd and kube-apiserver.
	BinDir string
	// DataDir keeps etcd's data, the API server's certificates and the
	// kubeconfig across restarts.
	DataDir string
	// Out receives the control plane's own output; nil discards it.
	Out io.Writer
}

// ControlPlane is a running etcd and kube-apiserver.
type ControlPlane struct {
	// Config connects as an administrator.
	Config *rest.Config
	// Kubeconfig is the path of a kubeconfig file for kubectl.
	Kubeconfig string

	env *ctrlenvtest.Environment
}

// ErrMissingBinaries says the control plane has not been built.
var ErrMissingBinaries = errors.New("the local control plane is not built: run `make tools` (or `make run`)")

// FindBinDir returns the first directory holding both binaries among: the
// directory of the running executable, and bin/ under the working directory.
func FindBinDir() (string, error) {
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			dirs = append(dirs, filepath.Dir(exe))
		}
	}
	if wd, err := os.Getwd(); err == nil {
		dirs = append(dirs, filepath.Join(wd, "bin"))
	}
	for _, d := range dirs {
		if hasBinaries(d) {
			return d, nil
		}
	}
	return "", ErrMissingBinaries
}

// CheckBinDir fails with ErrMissingBinaries when dir lacks etcd or
// kube-apiserver.
func CheckBinDir(dir string) error {
	if !hasBinaries(dir) {
		return fmt.Errorf("%w (looked in %s)", ErrMissingBinaries, dir)
	}
	return nil
}

func hasBinaries(dir string) bool {
	for _, name := range []string{"etcd", "kube-apiserver"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.IsDir() {
			return false
		}
	}
	return true
}

// Start runs the control plane and installs bowline's CRDs. The caller
// holds the data directory's lock: an etcd or kube-apiserver still running
// on it was left by a bowline up that was killed, and is ended first.
func Start(o Options) (*ControlPlane, error) {
	if !hasBinaries(o.BinDir) {
		return nil, fmt.Errorf("%w (looked in %s)", ErrMissingBinaries, o.BinDir)
	}
	if o.DataDir == "" {
		return nil, errors.New("a data directory is required")
	}
	etcdDir := filepath.Join(o.DataDir, "etcd")
	certDir := filepath.Join(o.DataDir, "apiserver")
	// A bowline up killed without a chance to stop its control plane left
	// it running, holding etcd's data; the caller holds the data
	// directory's lock, so it is nobody's now.
	if err := endLeftovers(etcdDir, certDir); err != nil {
		return nil, err
	}
	// The API server's certificates are minted afresh on every start: the
	// client configuration trusts the CA of this start only. The objects
	// live in etcd's directory, which stays.
	if err := os.RemoveAll(certDir); err != nil {
		return nil, err
	}
	for _, d := range []string{etcdDir, certDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	defs, err := crds.All()
	if err != nil {
		return nil, err
	}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	env := &ctrlenvtest.Environment{
		BinaryAssetsDirectory:    o.BinDir,
		CRDInstallOptions:        ctrlenvtest.CRDInstallOptions{CRDs: defs},
		ControlPlaneStartTimeout: 60 * time.Second,
		ControlPlaneStopTimeout:  20 * time.Second,
	}
	env.ControlPlane.Etcd = &ctrlenvtest.Etcd{DataDir: etcdDir, Out: out, Err: out}
	env.ControlPlane.APIServer = &ctrlenvtest.APIServer{CertDir: certDir, Out: out, Err: out}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("start the local control plane: %w", err)
	}
	cp := &ControlPlane{Config: cfg, env: env}
	if cp.Kubeconfig, err = cp.writeKubeconfig(o.DataDir); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return cp, nil
}

func (c *ControlPlane) writeKubeconfig(dir string) (string, error) {
	user, err := c.env.ControlPlane.AddUser(ctrlenvtest.User{Name: "bowline-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("create the kubeconfig user: %w", err)
	}
	b, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "kubeconfig")
	return p, os.WriteFile(p, b, 0o600)
}

// Stop shuts the control plane down, keeping its data directory.
func (c *ControlPlane) Stop() error { return c.env.Stop() }
