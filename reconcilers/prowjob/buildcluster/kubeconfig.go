// Package buildcluster is the set of build clusters the jobs controller
// creates pods in, by alias, as Prow's: every context of the kubeconfig
// files bowline is given is a build cluster named after the context, and
// "default" is the operator's own cluster unless a context is named so.
// It loads the set, checks each cluster's health (reachable, and allowed to
// create, watch and delete pods in the pod namespace), starts a cluster's
// pod cache once it is healthy, reports the health as conditions on the
// ConfigRepository, and checks that every job names a known cluster when a
// configuration is loaded.
package buildcluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// DefaultAlias is the build cluster of jobs that name none: the operator's
// own cluster, unless the kubeconfig set has a context of that name.
const DefaultAlias = "default"

// Options say where the kubeconfig set is, with Prow's flag names.
type Options struct {
	// Kubeconfig is a kubeconfig file whose every context is a build
	// cluster (the operator's --kubeconfig; its current context is also
	// the operator's own cluster).
	Kubeconfig string
	// KubeconfigDir holds kubeconfig files whose every context is a build
	// cluster (Prow's --kubeconfig-dir): the files of the cluster install's
	// build-cluster Secrets are mounted here.
	KubeconfigDir string
	// KubeconfigSuffix, when set, keeps only the files of KubeconfigDir
	// whose names end with it (Prow's --kubeconfig-suffix).
	KubeconfigSuffix string
}

// AddFlags registers --kubeconfig-dir and --kubeconfig-suffix; the
// operator's own --kubeconfig fills Kubeconfig.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.KubeconfigDir, "kubeconfig-dir", "", "directory of kubeconfig files whose every context is a build cluster, named after the context (as Prow's --kubeconfig-dir)")
	fs.StringVar(&o.KubeconfigSuffix, "kubeconfig-suffix", "", "read only the files of --kubeconfig-dir whose names end with this")
}

// Validate reports settings that cannot work.
func (o *Options) Validate() error {
	var errs []error
	if o.KubeconfigDir != "" {
		if fi, err := os.Stat(o.KubeconfigDir); err != nil {
			errs = append(errs, fmt.Errorf("--kubeconfig-dir: %w", err))
		} else if !fi.IsDir() {
			errs = append(errs, fmt.Errorf("--kubeconfig-dir %s is not a directory", o.KubeconfigDir))
		}
	}
	if o.KubeconfigSuffix != "" && o.KubeconfigDir == "" {
		errs = append(errs, errors.New("--kubeconfig-suffix needs --kubeconfig-dir"))
	}
	return errors.Join(errs...)
}

// Load reads the kubeconfig set: every context of Kubeconfig and of the
// files in KubeconfigDir (directories and names starting with "..", which
// Kubernetes uses for Secret volumes' internals, are skipped), by context
// name. A context name found in two files is an error: an alias must name
// one cluster.
func (o Options) Load() (map[string]*rest.Config, error) {
	var files []string
	if o.Kubeconfig != "" {
		files = append(files, o.Kubeconfig)
	}
	if o.KubeconfigDir != "" {
		entries, err := os.ReadDir(o.KubeconfigDir)
		if err != nil {
			return nil, fmt.Errorf("read --kubeconfig-dir: %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, "..") || !strings.HasSuffix(name, o.KubeconfigSuffix) {
				continue
			}
			p := filepath.Join(o.KubeconfigDir, name)
			// Secret volumes hold symbolic links to files: follow them, but
			// skip directories.
			if fi, err := os.Stat(p); err != nil || fi.IsDir() {
				continue
			}
			files = append(files, p)
		}
	}
	out := map[string]*rest.Config{}
	from := map[string]string{}
	for _, f := range files {
		cfg, err := (&clientcmd.ClientConfigLoadingRules{ExplicitPath: f}).Load()
		if err != nil {
			return nil, fmt.Errorf("load kubeconfig %s: %w", f, err)
		}
		names := make([]string, 0, len(cfg.Contexts))
		for name := range cfg.Contexts {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if prev, dup := from[name]; dup {
				return nil, fmt.Errorf("kubeconfig context %q is in both %s and %s: a build cluster alias must name one cluster", name, prev, f)
			}
			rc, err := clientcmd.NewNonInteractiveClientConfig(*cfg, name, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
			if err != nil {
				return nil, fmt.Errorf("kubeconfig %s, context %q: %w", f, name, err)
			}
			out[name], from[name] = rc, f
		}
	}
	return out, nil
}
