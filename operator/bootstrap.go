package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/bootstrap"
	"github.com/bowline-ci/bowline/reconcilers/prowjob/buildcluster"
)

// BootstrapOptions configures `bowline bootstrap`.
type BootstrapOptions struct {
	Kubeconfig string
	DryRun     bool
	Settings   bootstrap.Settings
	// BuildClusters are --build-cluster values: ALIAS=KUBECONFIG[#CONTEXT].
	BuildClusters []string
}

// AddFlags registers the bootstrap flags.
func (o *BootstrapOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to install into; empty means $KUBECONFIG or in-cluster")
	fs.BoolVar(&o.DryRun, "dry-run", false, "print the manifests instead of applying them")
	fs.StringVar(&o.Settings.ConfigRepoURL, "config-repo", "", "URL of the config repository (required)")
	fs.StringVar(&o.Settings.ConfigRepoBranch, "config-branch", "main", "branch of the config repository to follow")
	fs.StringVar(&o.Settings.SecretName, "secret", "", "existing Secret in --namespace with the config repository's credentials (keys: token, or identity and known_hosts)")
	fs.StringVar(&o.Settings.Namespace, "namespace", "bowline-system", "namespace of the operator and the ConfigRepository")
	fs.StringVar(&o.Settings.PodNamespace, "pod-namespace", "test-pods", "namespace where job pods run")
	fs.StringVar(&o.Settings.Image, "image", "bowline-ci/bowline:"+version, "operator image (it also runs the pod utilities)")
	fs.Int32Var(&o.Settings.Replicas, "replicas", 1, "operator replicas; more than one turns on leader election")
	fs.StringArrayVar(&o.BuildClusters, "build-cluster", nil, "a build cluster, ALIAS=KUBECONFIG[#CONTEXT] (the current context by default): stored as the Secret bowline-build-cluster-ALIAS that the operator reads; repeat for each cluster")
}

// Validate reports flag values that cannot work, and reads the build
// clusters' kubeconfigs.
func (o *BootstrapOptions) Validate() error {
	if len(o.BuildClusters) > 0 {
		o.Settings.BuildClusters = map[string][]byte{}
	}
	for _, v := range o.BuildClusters {
		alias, file, ok := strings.Cut(v, "=")
		if !ok || alias == "" || file == "" {
			return fmt.Errorf("--build-cluster %q: want ALIAS=KUBECONFIG[#CONTEXT]", v)
		}
		path, context, _ := strings.Cut(file, "#")
		if _, dup := o.Settings.BuildClusters[alias]; dup {
			return fmt.Errorf("--build-cluster: alias %q given twice", alias)
		}
		kc, err := buildcluster.ClusterKubeconfig(alias, path, context)
		if err != nil {
			return fmt.Errorf("--build-cluster %s: %w", alias, err)
		}
		o.Settings.BuildClusters[alias] = kc
	}
	return o.Settings.Validate()
}

func newBootstrapCommand() *cobra.Command {
	o := &BootstrapOptions{}
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Install bowline into a Kubernetes cluster",
		Long: `Install bowline into a Kubernetes cluster with server-side apply: its CRDs,
a namespace, least-privilege RBAC, the operator Deployment and a
ConfigRepository pointing at your config repository. Running it again
changes nothing unless a flag changed. After this, the config repository
drives everything.`,
		Example: `  bowline bootstrap --config-repo https://github.com/example/ci-config.git --secret config-token
  bowline bootstrap --config-repo https://github.com/example/ci-config.git --dry-run > bowline.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			objs, err := bootstrap.Objects(o.Settings)
			if err != nil {
				return err
			}
			if o.DryRun {
				return bootstrap.WriteYAML(cmd.OutOrStdout(), objs)
			}
			cfg, err := (&OperatorOptions{Kubeconfig: o.Kubeconfig}).restConfig()
			if err != nil {
				return fmt.Errorf("load kubeconfig: %w", err)
			}
			scheme, err := newScheme()
			if err != nil {
				return err
			}
			c, err := client.New(cfg, client.Options{Scheme: scheme})
			if err != nil {
				return err
			}
			changes, err := bootstrap.Apply(cmd.Context(), c, objs)
			for _, ch := range changes {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", ch.Object, ch.Action)
			}
			return err
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}
