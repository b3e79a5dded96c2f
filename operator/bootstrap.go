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
	fs.StringVar(&o.Settings.UtilityImage, "utility-image", "", "image of the pod utilities in decorated job pods; empty means --image")
	fs.StringVar(&o.Settings.GitHubSecret, "github-secret", "", "existing Secret in --namespace with GitHub credentials: key token (a personal access token), or key private-key with --github-app-id; without it bowline neither reports to GitHub nor serves webhooks")
	fs.Int64Var(&o.Settings.GitHubAppID, "github-app-id", 0, "GitHub App ID: --github-secret holds the App's private key")
	fs.StringVar(&o.Settings.GitHubEndpoint, "github-endpoint", "", "GitHub REST API root for GitHub Enterprise Server (https://HOST/api/v3/); empty means github.com")
	fs.StringVar(&o.Settings.HMACSecret, "hmac-secret", "", "existing Secret in --namespace with the webhook secret (key hmac: one secret, or Prow's YAML map of org and repo secrets); the webhook server needs it and --github-secret")
	fs.StringVar(&o.Settings.ArtifactsBucket, "artifacts-bucket", "", "bucket for the logs and artifacts of runs that name none (s3://… or gs://…)")
	fs.StringVar(&o.Settings.ArtifactsSecret, "artifacts-secret", "", "existing Secret in --namespace whose keys become the operator's environment, for the bucket's client (e.g. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
	fs.Int32Var(&o.Settings.Replicas, "replicas", 2, "operator replicas: they elect one leader per role that acts alone, and all serve webhooks and the API; one leaves the controllers stopped while its pod is replaced")
	fs.StringArrayVar(&o.Settings.APIServerCIDRs, "api-server-cidr", nil, "an address range of the API server that job pods must not reach, besides every private range (repeatable); default: found in the cluster when applying")
	fs.StringArrayVar(&o.Settings.DeployImageRepositories, "deploy-image-repository", nil, "an image repository the config repository's deployment file may name besides --image's own (repeatable): the roles it deploys run with the operator's credentials")
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
the operator's and the job pods' namespaces (with Pod Security labels),
namespaced least-privilege RBAC, NetworkPolicies that keep job pods off
cluster-internal addresses, the operator Deployment with the credentials
it references and its Services (bowline-hook for GitHub's webhooks,
bowline-web for the API), and a ConfigRepository pointing at your config
repository. Running it again changes nothing unless a flag changed.

The Secrets it references (--secret, --github-secret, --hmac-secret,
--artifacts-secret) are yours to create; bootstrap never reads them.
--dry-run prints the manifests as one YAML stream that kubectl apply takes.`,
		Example: `  kubectl -n bowline-system create secret generic github-token --from-file=token=./token
  kubectl -n bowline-system create secret generic hmac --from-file=hmac=./hmac-secret
  bowline bootstrap --config-repo https://github.com/example/ci-config.git --secret github-token \
    --github-secret github-token --hmac-secret hmac
  bowline bootstrap --config-repo https://github.com/example/ci-config.git --dry-run > bowline.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			if o.DryRun {
				objs, err := bootstrap.Objects(o.Settings)
				if err != nil {
					return err
				}
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
			if len(o.Settings.APIServerCIDRs) == 0 {
				// Keep job pods off the API server wherever it answers,
				// also on a public address.
				if o.Settings.APIServerCIDRs, err = bootstrap.APIServerCIDRs(cmd.Context(), c); err != nil {
					return fmt.Errorf("%w: pass --api-server-cidr", err)
				}
			}
			objs, err := bootstrap.Objects(o.Settings)
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
