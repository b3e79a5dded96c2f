package buildcluster

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubeconfig writes a kubeconfig whose contexts (name → server) are given.
func kubeconfig(t *testing.T, path string, contexts map[string]string) {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	for name, server := range contexts {
		cfg.Clusters[name] = &clientcmdapi.Cluster{Server: server}
		cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: "t-" + name}
		cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
		cfg.CurrentContext = name
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]map[string]string // path under the test dir → contexts
		opts    func(dir string) Options
		want    map[string]string // alias → server
		wantErr string
	}{{
		name:  "every context of --kubeconfig is a build cluster, as in Prow",
		files: map[string]map[string]string{"kubeconfig": {"default": "https://a.example", "gke-build": "https://b.example"}},
		opts:  func(dir string) Options { return Options{Kubeconfig: filepath.Join(dir, "kubeconfig")} },
		want:  map[string]string{"default": "https://a.example", "gke-build": "https://b.example"},
	}, {
		name: "every context of every file of --kubeconfig-dir, as in Prow",
		files: map[string]map[string]string{
			"kc/eks.yaml": {"eks-prow-build-cluster": "https://eks.example"},
			"kc/gke.yaml": {"k8s-infra-prow-build": "https://gke.example", "k8s-infra-prow-build-trusted": "https://trusted.example"},
		},
		opts: func(dir string) Options { return Options{KubeconfigDir: filepath.Join(dir, "kc")} },
		want: map[string]string{"eks-prow-build-cluster": "https://eks.example", "k8s-infra-prow-build": "https://gke.example",
			"k8s-infra-prow-build-trusted": "https://trusted.example"},
	}, {
		name: "--kubeconfig-suffix keeps the files that end with it, as in Prow",
		files: map[string]map[string]string{
			"kc/a-kubeconfig": {"a": "https://a.example"},
			"kc/b.bak":        {"b": "https://b.example"},
		},
		opts: func(dir string) Options {
			return Options{KubeconfigDir: filepath.Join(dir, "kc"), KubeconfigSuffix: "kubeconfig"}
		},
		want: map[string]string{"a": "https://a.example"},
	}, {
		name: "a Secret volume's ..data entries are skipped",
		files: map[string]map[string]string{
			"kc/..2026_01_01/config": {"hidden": "https://h.example"},
			"kc/config":              {"shown": "https://s.example"},
		},
		opts: func(dir string) Options { return Options{KubeconfigDir: filepath.Join(dir, "kc")} },
		want: map[string]string{"shown": "https://s.example"},
	}, {
		name: "an alias in two files is refused",
		files: map[string]map[string]string{
			"kc/one": {"build": "https://one.example"},
			"kc/two": {"build": "https://two.example"},
		},
		opts:    func(dir string) Options { return Options{KubeconfigDir: filepath.Join(dir, "kc")} },
		wantErr: `kubeconfig context "build" is in both`,
	}, {
		name: "nothing given: no build cluster besides the operator's own",
		opts: func(string) Options { return Options{} },
		want: map[string]string{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for p, ctxs := range tt.files {
				kubeconfig(t, filepath.Join(dir, p), ctxs)
			}
			got, err := tt.opts(dir).Load()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			servers := map[string]string{}
			for alias, c := range got {
				servers[alias] = c.Host
				if c.BearerToken != "t-"+alias {
					t.Errorf("%s: credentials of another context", alias)
				}
			}
			if d := cmp.Diff(tt.want, servers); d != "" {
				t.Errorf("Load() (-want +got):\n%s", d)
			}
		})
	}
}

func TestOptionsValidate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{name: "none", opts: Options{}},
		{name: "a directory", opts: Options{KubeconfigDir: dir, KubeconfigSuffix: ".yaml"}},
		{name: "missing directory", opts: Options{KubeconfigDir: filepath.Join(dir, "nope")}, want: []string{"--kubeconfig-dir"}},
		{name: "a file as directory", opts: Options{KubeconfigDir: file}, want: []string{"not a directory"}},
		{name: "suffix alone", opts: Options{KubeconfigSuffix: "x"}, want: []string{"--kubeconfig-suffix needs --kubeconfig-dir"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !slices.ContainsFunc(tt.want, func(w string) bool { return strings.Contains(err.Error(), w) }) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}
