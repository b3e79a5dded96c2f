package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/reconcilers/prowjob"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	ghclient "github.com/bowline-ci/bowline/scm/github"
)

// RunOptions configures `bowline run`: one run of a named job, what Prow's
// mkpj makes.
type RunOptions struct {
	// Repo, Pull, BaseRef, BaseSHA, PullSHA and PullAuthor say what the run
	// tests (trigger.ManualRequest).
	Repo       string
	Pull       int
	BaseRef    string
	BaseSHA    string
	PullSHA    string
	PullAuthor string
	// ConfigPath and JobConfigPath read a local configuration, as mkpj's
	// flags of the same names; without them the configuration applied in
	// the cluster (ConfigRepository) is used.
	ConfigPath    string
	JobConfigPath string
	// ConfigRepository is namespace/name of the ConfigRepository whose
	// applied configuration is read.
	ConfigRepository string
	// Kubeconfig reaches the cluster; empty means in-cluster or
	// $KUBECONFIG.
	Kubeconfig string
	// Namespace is where the run is created; default the configuration's
	// prowjob_namespace.
	Namespace string
	// Agent, when set, replaces the job's agent: "local" for bowline up,
	// whose jobs run as local processes.
	Agent string
	// TriggeredBy records who asked (a GitHub login).
	TriggeredBy string
	// DryRun prints the ProwJob as YAML instead of creating it.
	DryRun bool
	// ProwFormat prints it in Prow's format (prow.k8s.io/v1), as mkpj
	// does, for tools written against Prow.
	ProwFormat bool
	// GitHub, when credentials are given, fills in the refs left out.
	GitHub ghclient.Flags
}

// AddFlags registers the flags of `bowline run`.
func (o *RunOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Repo, "repo", "", "org/repo of the job, when several repositories have a job of that name")
	fs.IntVar(&o.Pull, "pull", 0, "pull request a presubmit tests (Prow's mkpj --pull-number)")
	fs.StringVar(&o.BaseRef, "base-ref", "", "branch; default the pull request's base, or the repository's default branch (needs GitHub)")
	fs.StringVar(&o.BaseSHA, "base-sha", "", "commit of the branch; default its tip (needs GitHub)")
	fs.StringVar(&o.PullSHA, "pull-sha", "", "head commit of the pull request; default its head (needs GitHub)")
	fs.StringVar(&o.PullAuthor, "pull-author", "", "author of the pull request; default its author (needs GitHub)")
	fs.StringVar(&o.ConfigPath, "config-path", "", "a local config.yaml instead of the configuration applied in the cluster")
	fs.StringVar(&o.JobConfigPath, "job-config-path", "", "a local job config file or directory, with or instead of --config-path")
	fs.StringVar(&o.ConfigRepository, "config-repository", "bowline-system/config", "namespace/name of the ConfigRepository whose applied configuration names the job")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file; empty means in-cluster or $KUBECONFIG")
	fs.StringVar(&o.Namespace, "namespace", "", "namespace of the run; default the configuration's prowjob_namespace")
	fs.StringVar(&o.Agent, "agent", "", "replace the job's agent, e.g. local with bowline up")
	fs.StringVar(&o.TriggeredBy, "triggered-by", "", "GitHub login recorded as the one who started the run")
	fs.BoolVar(&o.DryRun, "dry-run", false, "print the ProwJob as YAML instead of creating it")
	fs.BoolVar(&o.ProwFormat, "prow-format", false, "with --dry-run, print it in Prow's format (prow.k8s.io/v1), as mkpj does")
	o.GitHub.AddFlags(fs)
}

// Validate reports flag values that cannot work.
func (o *RunOptions) Validate() error {
	var errs []error
	if o.Pull < 0 {
		errs = append(errs, fmt.Errorf("--pull must be a pull request number, not %d", o.Pull))
	}
	switch v1alpha1.ProwJobAgent(o.Agent) {
	case "", v1alpha1.KubernetesAgent, v1alpha1.LocalAgent:
	default:
		errs = append(errs, fmt.Errorf("--agent must be kubernetes or local, not %q", o.Agent))
	}
	if o.ConfigPath == "" && o.JobConfigPath == "" {
		if _, err := parseNamespacedName(o.ConfigRepository); err != nil {
			errs = append(errs, fmt.Errorf("--config-repository: %w", err))
		}
	}
	if o.ProwFormat && !o.DryRun {
		errs = append(errs, errors.New("--prow-format prints the ProwJob: use it with --dry-run"))
	}
	if err := o.GitHub.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func parseNamespacedName(s string) (types.NamespacedName, error) {
	ro := RoleOptions{ConfigRepository: s}
	return ro.configRepositoryKey()
}

func newRunCommand() *cobra.Command {
	o := &RunOptions{}
	cmd := &cobra.Command{
		Use:   "run JOB",
		Short: "Start one run of a job by name (Prow's mkpj)",
		Long: `Start one run of a presubmit, postsubmit or periodic by its name, outside any
event: what Prow's mkpj is for, creating the ProwJob rather than printing it
(--dry-run prints it).

The job comes from the configuration applied in the cluster (the
ConfigRepository's published snapshot) or from local files (--config-path,
--job-config-path). A presubmit needs --pull; a postsubmit runs on
--base-ref. With GitHub credentials (--github-token-path or the App flags)
what is left out is looked up: the pull request's base branch, head commit
and author, the repository's default branch, and the tip of the branch,
which is what the run tests, as runs the trigger starts do. Without them,
give --base-ref, --base-sha and (presubmits) --pull-sha.

The run is created with the Kubernetes credentials of --kubeconfig, in the
configuration's prowjob_namespace: whoever may create ProwJobs there may run
any job, so grant that as you would grant mkpj's users access to the
cluster. rerun_auth_configs govern reruns from the web API, not this.`,
		Example: `  bowline run pull-unit --pull 42
  bowline run post-deploy --repo acme/rocket --base-ref main
  bowline run ci-nightly --agent local --kubeconfig .data/kubeconfig
  bowline run pull-unit --pull 42 --base-ref main --base-sha 1a2b… --pull-sha 3c4d… --job-config-path config/jobs --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return runJob(cmd.Context(), cmd.OutOrStdout(), o, args[0])
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func runJob(ctx context.Context, out io.Writer, o *RunOptions, job string) error {
	needCluster := !o.DryRun || (o.ConfigPath == "" && o.JobConfigPath == "")
	var kube client.Client
	if needCluster {
		ops := &OperatorOptions{Kubeconfig: o.Kubeconfig}
		cfg, err := ops.restConfig()
		if err != nil {
			return fmt.Errorf("load kubeconfig: %w", err)
		}
		scheme, err := newScheme()
		if err != nil {
			return err
		}
		if kube, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
			return fmt.Errorf("connect to the cluster: %w", err)
		}
	}
	set, err := o.configuration(ctx, kube)
	if err != nil {
		return err
	}
	ns := o.Namespace
	if ns == "" && set.Config != nil {
		ns = set.Config.ProwJobNamespace
	}
	if ns == "" {
		ns = prowconfig.DefaultNamespace
	}
	var gh *trigger.GitHub
	if o.GitHub.TokenPath != "" || o.GitHub.AppID != 0 {
		opts, err := o.GitHub.Options()
		if err != nil {
			return err
		}
		c, err := ghclient.New(opts)
		if err != nil {
			return err
		}
		gc, err := c.ForOrg(jobOrg(set, o.Repo, job))
		if err != nil {
			return err
		}
		gh = trigger.FromClient(gc)
	}
	pj, err := trigger.ManualRun(ctx, set.Jobs, trigger.ManualRequest{
		Job: job, Repo: o.Repo, BaseRef: o.BaseRef, BaseSHA: o.BaseSHA,
		Pull: o.Pull, PullSHA: o.PullSHA, PullAuthor: o.PullAuthor,
		Namespace: ns, TriggeredBy: o.TriggeredBy,
	}, gh)
	if err != nil {
		return err
	}
	if o.Agent != "" {
		pj.Spec.Agent = v1alpha1.ProwJobAgent(o.Agent)
	}
	pj.APIVersion, pj.Kind = v1alpha1.GroupVersion.String(), "ProwJob"
	if o.DryRun {
		var v any = pj
		if o.ProwFormat {
			v = prowjob.ProwFormat(pj)
		}
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = out.Write(b)
		return err
	}
	if err := kube.Create(ctx, pj); err != nil {
		return fmt.Errorf("create the run of %s: %w", job, err)
	}
	fmt.Fprintf(out, "Started %s: prowjob %s/%s (kubectl get prowjob -n %s %s)\n", job, pj.Namespace, pj.Name, pj.Namespace, pj.Name)
	return nil
}

// configuration loads the local files, or the configuration applied in the
// cluster.
func (o *RunOptions) configuration(ctx context.Context, kube client.Client) (*configset.Set, error) {
	if o.ConfigPath != "" || o.JobConfigPath != "" {
		set, err := configset.LoadDir(ctx, "", configset.Options{ConfigPath: o.ConfigPath, JobConfigPath: o.JobConfigPath})
		if err != nil {
			return nil, fmt.Errorf("load the configuration: %w", err)
		}
		return set, nil
	}
	key, err := parseNamespacedName(o.ConfigRepository)
	if err != nil {
		return nil, err
	}
	repo := &v1alpha1.ConfigRepository{}
	if err := kube.Get(ctx, key, repo); err != nil {
		return nil, fmt.Errorf("read ConfigRepository %s: %w", key, err)
	}
	snap, err := snapshot.Restore(ctx, &snapshot.Publisher{Client: kube, Reader: kube}, repo, time.Now())
	if err != nil {
		return nil, fmt.Errorf("read the configuration %s applied: %w", key, err)
	}
	if snap == nil {
		return nil, fmt.Errorf("ConfigRepository %s has no applied configuration yet", key)
	}
	return snap.Config, nil
}

// jobOrg is the org whose GitHub client looks up the run's refs: --repo's,
// or that of the first repository with a job of that name.
func jobOrg(set *configset.Set, repo, job string) string {
	if repo == "" && set.Jobs != nil {
		for r, list := range set.Jobs.Presubmits {
			for _, p := range list {
				if p.Name == job {
					repo = r
				}
			}
		}
		for r, list := range set.Jobs.Postsubmits {
			for _, p := range list {
				if p.Name == job && repo == "" {
					repo = r
				}
			}
		}
	}
	org, _, _ := strings.Cut(repo, "/")
	return org
}
