package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/bootstrap"
	"github.com/bowline-ci/bowline/reconcilers/configrepo"
	deployreconciler "github.com/bowline-ci/bowline/reconcilers/deploy"
	"github.com/bowline-ci/bowline/reconcilers/prowjob"
	"github.com/bowline-ci/bowline/reconcilers/prowjob/buildcluster"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/deploy"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// allComponents are the roles `bowline operator --components` can run.
var allComponents = []string{"config", "jobs", "reporter", "periodic", "merge", "orgs", "hook", "web"}

// OperatorOptions configures `bowline operator`.
type OperatorOptions struct {
	// Kubeconfig is the kubeconfig file; empty means in-cluster or
	// $KUBECONFIG. Its every context is also a build cluster.
	Kubeconfig string
	// MetricsAddr serves Prometheus metrics at /metrics; "0" turns it off.
	MetricsAddr string
	// ProbeAddr serves /healthz and /readyz.
	ProbeAddr string
	// LeaderElect makes replicas elect one leader per role that acts
	// alone, each under a lease of its own.
	LeaderElect bool
	// Election are the leases' timings.
	Election ElectionOptions
	// LeaderElectionNamespace holds the lease; empty means the pod's own.
	LeaderElectionNamespace string
	// ShutdownTimeout bounds graceful shutdown after SIGTERM.
	ShutdownTimeout time.Duration
	// Components are the roles this process runs (see allComponents).
	Components []string
	// DataDir holds the git caches of ConfigRepositories; losing it costs
	// one full fetch.
	DataDir string
	// PodNamespace is the one namespace where job pods run (Prow's
	// pod_namespace). Setting it pins the namespaces this process works
	// in, so that a cluster install's RBAC can be namespaced Roles: pods
	// are watched only there, ProwJobs only in --prowjob-namespace (then
	// required), and config.yaml's pod_namespace and prowjob_namespace must
	// name them. Empty watches every namespace and follows config.yaml.
	PodNamespace string
	// ConfigNamespaces are the namespaces whose ConfigRepositories are
	// reconciled and followed; empty means every namespace.
	ConfigNamespaces []string
	// DeployTemplate names the operator Deployment bowline bootstrap
	// installed, in the namespace of --config-repository: set, this
	// install applies the repository's deployment file. The config role
	// makes each role's Deployment from that one and leaves the roles
	// deployed that way to them; every process (the roles' own pods keep
	// the flag) says in its plans that the file is applied.
	DeployTemplate string
	// DeployImageRepositories are the image repositories a deployment
	// file may name.
	DeployImageRepositories []string

	// Roles configure the roles that follow the applied configuration.
	Roles RoleOptions
	// Clusters say where the kubeconfig set of the build clusters is,
	// besides Kubeconfig.
	Clusters buildcluster.Options

	Log LogOptions
}

// AddFlags registers the operator's flags.
func (o *OperatorOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file: its current context is the operator's cluster, and every context a build cluster named after it (as Prow's --kubeconfig); empty means in-cluster or $KUBECONFIG, with no other build cluster")
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8080", "address for Prometheus metrics at /metrics, or 0 to turn them off")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "address for /healthz and /readyz")
	fs.BoolVar(&o.LeaderElect, "leader-elect", false, "elect one active replica for each role that acts alone (config, jobs, reporter, periodic, merge, orgs), each under a lease of its own")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the roles' leases; empty means the pod's own")
	o.Election.AddFlags(fs)
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 25*time.Second, "how long to let running work finish after SIGTERM; longer than --hook-grace-period, shorter than the pod's terminationGracePeriodSeconds")
	components := "roles to run, comma-separated: all or any of " + strings.Join(allComponents, ", ")
	if missing := notImplemented(); len(missing) > 0 {
		components += " (" + strings.Join(missing, " and ") + " not implemented yet)"
	}
	fs.StringSliceVar(&o.Components, "components", []string{"all"}, components)
	fs.StringVar(&o.DataDir, "data-dir", filepath.Join(os.TempDir(), "bowline"), "directory for git caches (an emptyDir in a cluster)")
	fs.StringVar(&o.PodNamespace, "pod-namespace", "", "pins the namespaces: job pods only here and ProwJobs only in --prowjob-namespace, which config.yaml's pod_namespace and prowjob_namespace must name; empty watches every namespace")
	fs.StringSliceVar(&o.ConfigNamespaces, "config-namespaces", nil, "namespaces whose ConfigRepositories bowline reconciles, comma-separated; empty means every namespace")
	fs.StringVar(&o.DeployTemplate, "deploy-template", "", "the operator Deployment bowline bootstrap installed, in the namespace of --config-repository: the config role then applies the repository's deployment file, making each role's Deployment from that one, and leaves the roles deployed that way to them; empty applies no deployment file")
	fs.StringSliceVar(&o.DeployImageRepositories, "deploy-image-repositories", nil, "image repositories a deployment file may name (comma-separated), since the roles run with this operator's credentials")
	o.Roles.AddFlags(fs)
	o.Clusters.AddFlags(fs)
	o.Log.AddFlags(fs)
}

// Validate reports flag values that cannot work.
func (o *OperatorOptions) Validate() error {
	var errs []error
	if err := o.Roles.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := o.Clusters.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.ProbeAddr == "" {
		errs = append(errs, errors.New("--health-probe-bind-address must not be empty"))
	}
	if o.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--shutdown-timeout must be positive, not %s", o.ShutdownTimeout))
	}
	if err := o.validateShutdown(); err != nil {
		errs = append(errs, err)
	}
	if err := o.Election.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.DeployTemplate != "" {
		if msgs := validation.IsDNS1123Subdomain(o.DeployTemplate); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("--deploy-template %q: %s", o.DeployTemplate, strings.Join(msgs, "; ")))
		}
		if len(o.DeployImageRepositories) == 0 {
			errs = append(errs, errors.New("--deploy-template needs --deploy-image-repositories: the images a deployment file may name"))
		}
	}
	for _, repo := range o.DeployImageRepositories {
		if deploy.Repository(repo) == "" {
			errs = append(errs, fmt.Errorf("--deploy-image-repositories: %q is not an image repository", repo))
		}
	}
	if len(o.Components) == 0 {
		errs = append(errs, errors.New("--components must name at least one role"))
	}
	for _, c := range o.Components {
		switch {
		case c != "all" && !slices.Contains(allComponents, c):
			errs = append(errs, fmt.Errorf("--components: unknown role %q (want all or any of %s)", c, strings.Join(allComponents, ", ")))
		case c != "all" && !implemented(c):
			errs = append(errs, fmt.Errorf("--components: %s is not implemented yet (%s are not implemented yet)", c, strings.Join(notImplemented(), " and ")))
		}
	}
	if slices.Contains(o.Components, "all") && len(o.Components) > 1 {
		errs = append(errs, errors.New("--components: all cannot be combined with other roles"))
	}
	if o.DataDir == "" {
		errs = append(errs, errors.New("--data-dir must not be empty"))
	}
	if o.PodNamespace != "" && o.Roles.ProwJobNamespace == "" {
		errs = append(errs, errors.New("--pod-namespace pins the namespaces: give --prowjob-namespace too"))
	}
	for flag, nss := range map[string][]string{"--pod-namespace": {o.PodNamespace}, "--config-namespaces": o.ConfigNamespaces, "--prowjob-namespace": {o.Roles.ProwJobNamespace}} {
		for _, ns := range nss {
			if ns == "" && flag != "--config-namespaces" {
				continue
			}
			if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
				errs = append(errs, fmt.Errorf("%s %q: %s", flag, ns, strings.Join(msgs, "; ")))
			}
		}
	}
	if key, err := o.Roles.configRepositoryKey(); err == nil && len(o.ConfigNamespaces) > 0 && !slices.Contains(o.ConfigNamespaces, key.Namespace) {
		errs = append(errs, fmt.Errorf("--config-repository %s is outside --config-namespaces (%s)", o.Roles.ConfigRepository, strings.Join(o.ConfigNamespaces, ", ")))
	}
	if err := o.Log.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// restConfig loads the cluster connection.
func (o *OperatorOptions) restConfig() (*rest.Config, error) {
	if o.Kubeconfig == "" {
		return ctrl.GetConfig()
	}
	return clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
}

// newScheme returns a scheme with Kubernetes' built-in types and bowline's.
func newScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, err
	}
	return s, nil
}

func newOperatorCommand() *cobra.Command {
	o := &OperatorOptions{}
	cmd := &cobra.Command{
		Use:   "operator",
		Short: "Run bowline's controllers in a Kubernetes cluster",
		Long: `Run bowline's controllers against a Kubernetes API server.

Logs are JSON lines on standard error (--log-format=console for people),
Prometheus metrics are served at /metrics on --metrics-bind-address and the
health probes /healthz and /readyz on --health-probe-bind-address. SIGTERM
stops the controllers and exits within --shutdown-timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return runOperator(cmd, o)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func runOperator(cmd *cobra.Command, o *OperatorOptions) error {
	log := o.Log.Logger()
	ctrl.SetLogger(log)
	// client-go's own messages (leader election, say) go to the same JSON
	// log.
	klog.SetLogger(log)
	cfg, err := o.restConfig()
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	scheme, err := newScheme()
	if err != nil {
		return err
	}
	// Webhook bursts create many ProwJobs at once; client-go's default of 5
	// requests a second would queue them behind its own rate limiter.
	cfg.QPS, cfg.Burst = 200, 400
	mgr, err := o.newManager(cfg, scheme, log)
	if err != nil {
		return err
	}
	env, err := o.clusterRoleEnv(cmd.Context(), mgr, log)
	if err != nil {
		return err
	}
	if err := o.setupComponents(cmd.Context(), env); err != nil {
		return err
	}
	log.Info("Starting operator", "components", o.Components, "version", version, "metrics", o.MetricsAddr, "probes", o.ProbeAddr, "leaderElection", o.LeaderElect)
	if err := mgr.Start(cmd.Context()); err != nil {
		return fmt.Errorf("run manager: %w", err)
	}
	log.Info("Operator stopped")
	return nil
}

// newManager creates the controller-runtime manager with its probes.
func (o *OperatorOptions) newManager(cfg *rest.Config, scheme *runtime.Scheme, log logr.Logger) (ctrl.Manager, error) {
	shutdown := o.ShutdownTimeout
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Logger:                 log,
		Cache:                  o.cacheOptions(),
		Metrics:                metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress: o.ProbeAddr,
		// Each role that acts alone elects its own leader (election.go).
		LeaderElection:          false,
		GracefulShutdownTimeout: &shutdown,
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("informers", func(req *http.Request) error {
		if !mgr.GetCache().WaitForCacheSync(req.Context()) {
			return errors.New("informer caches not synced")
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return mgr, nil
}

// cacheOptions restrict what the manager watches to the namespaces this
// process works in, so that a cluster install can grant namespaced Roles
// only. With --pod-namespace, pods are watched there, and everything else
// bowline keeps (ProwJobs, MergePools) in --prowjob-namespace; with
// --config-namespaces, ConfigRepositories there. Without them, every
// namespace.
func (o *OperatorOptions) cacheOptions() cache.Options {
	in := func(nss ...string) map[string]cache.Config {
		m := map[string]cache.Config{}
		for _, ns := range nss {
			m[ns] = cache.Config{}
		}
		return m
	}
	opts := cache.Options{ByObject: prowjob.CacheByObject()}
	configNS := o.ConfigNamespaces
	if len(configNS) == 0 && o.PodNamespace != "" {
		if key, err := o.Roles.configRepositoryKey(); err == nil {
			configNS = []string{key.Namespace}
		}
	}
	if len(configNS) > 0 {
		opts.ByObject[&v1alpha1.ConfigRepository{}] = cache.ByObject{Namespaces: in(configNS...)}
	}
	if key, err := o.Roles.configRepositoryKey(); err == nil && o.DeployTemplate != "" && o.runs("config") {
		// The roles' Deployments and the Services in front of them, in
		// the namespace they are deployed to.
		opts.ByObject[&appsv1.Deployment{}] = cache.ByObject{Namespaces: in(key.Namespace)}
		opts.ByObject[&corev1.Service{}] = cache.ByObject{Namespaces: in(key.Namespace)}
	}
	if o.PodNamespace == "" {
		return opts
	}
	opts.DefaultNamespaces = in(o.Roles.ProwJobNamespace)
	for obj, by := range opts.ByObject {
		if _, ok := obj.(*corev1.Pod); ok {
			by.Namespaces = in(o.PodNamespace)
			opts.ByObject[obj] = by
		}
	}
	return opts
}

// installCheck rejects a configuration that names namespaces this
// process does not work in: its runs would be created where nothing
// watches them, or where the install's RBAC forbids it.
func (o *OperatorOptions) installCheck(set *configset.Set) error {
	var errs []string
	if set == nil || set.Config == nil || o.PodNamespace == "" {
		return nil
	}
	if ns := set.Config.ProwJobNamespace; ns != o.Roles.ProwJobNamespace {
		errs = append(errs, fmt.Sprintf("config.yaml: prowjob_namespace is %q, but this bowline keeps ProwJobs in %q (--prowjob-namespace): set prowjob_namespace: %s", ns, o.Roles.ProwJobNamespace, o.Roles.ProwJobNamespace))
	}
	if ns := set.Config.PodNamespace; o.PodNamespace != "" && ns != o.PodNamespace {
		errs = append(errs, fmt.Sprintf("config.yaml: pod_namespace is %q, but this bowline runs job pods in %q (--pod-namespace): set pod_namespace: %s", ns, o.PodNamespace, o.PodNamespace))
	}
	if len(errs) == 0 {
		return nil
	}
	// One error per line, as the reconciler lists a loader's errors.
	return errors.New(strings.Join(errs, "\n"))
}

// clusterRoleEnv prepares what the roles share in a cluster: GitHub from
// the --github-* flags (none without credentials) and the webhook secrets
// from --hmac-secret-file.
func (o *OperatorOptions) clusterRoleEnv(ctx context.Context, mgr ctrl.Manager, log logr.Logger) (*roleEnv, error) {
	env := &roleEnv{mgr: mgr, log: log, stores: &snapshot.Stores{}, creator: mgr.GetClient()}
	if o.Roles.GitHub.TokenPath != "" || o.Roles.GitHub.AppID != 0 {
		opts, err := o.Roles.GitHub.Options()
		if err != nil {
			return nil, err
		}
		// One authenticated call at start: a rejected token, or one that
		// lacks a scope, stops the operator with the reason instead of
		// failing every request later.
		var note strings.Builder
		src := githubSource{TokenFile: o.Roles.GitHub.TokenPath, AppKeyFile: o.Roles.GitHub.AppPrivateKeyPath,
			TokenFlag: "--github-token-path", AppFlags: "--github-app-id and --github-app-private-key-path"}
		if err := checkGitHubCredentials(ctx, &note, opts, src); err != nil {
			return nil, err
		}
		if note.Len() > 0 {
			log.Info("Cannot check the GitHub token's permissions", "detail", strings.TrimSpace(note.String()))
		}
		if env.github, err = newGitHubClient(opts); err != nil {
			return nil, err
		}
	}
	if o.Roles.Hook.HMACSecretFile != "" {
		secrets, err := automation.NewSecretFile(o.Roles.Hook.HMACSecretFile)
		if err != nil {
			return nil, err
		}
		env.hookSecrets = secrets
	}
	// Every context of --kubeconfig and of the files in --kubeconfig-dir is
	// a build cluster, as in Prow; the config role checks jobs against the
	// aliases, the jobs role runs pods in them.
	opts := o.Clusters
	opts.Kubeconfig = o.Kubeconfig
	remote, err := opts.Load()
	if err != nil {
		return nil, err
	}
	if env.clusters, err = buildcluster.New(mgr.GetClient(), remote, mgr.GetScheme()); err != nil {
		return nil, err
	}
	log.Info("Build clusters", "clusters", env.clusters.Describe())
	return env, nil
}

// runs reports whether the process runs component ("all": whether it
// runs every component).
func (o *OperatorOptions) runs(component string) bool {
	return slices.Contains(o.Components, "all") || slices.Contains(o.Components, component)
}

// setupComponents registers the chosen roles with mgr. Every role reads
// the configuration from stores: the config role fills them itself by
// reconciling ConfigRepositories (on the leader); everywhere else a
// Follower loads the snapshots the config role publishes.
func (o *OperatorOptions) setupComponents(ctx context.Context, env *roleEnv) error {
	mgr, stores := env.mgr, env.stores
	key, err := o.Roles.configRepositoryKey()
	if err != nil {
		return err
	}
	env.store = stores.For(key)
	env.publisher = &snapshot.Publisher{Client: mgr.GetClient(), Reader: mgr.GetAPIReader()}
	if o.DeployTemplate != "" && o.runs("config") {
		// This is the operator bootstrap installed: the roles the
		// deployment file runs apart are left to their Deployments.
		p := &statusPlacement{cache: mgr.GetCache(), key: key}
		if err := mgr.Add(p); err != nil {
			return err
		}
		env.placement = p
	}
	if err := o.setupRoles(ctx, env); err != nil {
		return err
	}
	if env.hook != nil {
		// A webhook server without a configuration runs no plugin, and
		// the deliveries it accepted would be lost: until the replica has
		// one (applied or followed), it is not ready, and a Service sends
		// it nothing.
		if err := mgr.AddReadyzCheck("configuration", func(*http.Request) error {
			if env.store.Current() == nil {
				return errors.New("no configuration loaded yet")
			}
			return nil
		}); err != nil {
			return err
		}
	}
	f := &snapshot.Follower{Client: mgr.GetClient(), Publisher: env.publisher, Stores: stores}
	if g := env.groups["config"]; g != nil {
		// A standby replica follows what the leader publishes, so its
		// non-elected roles (hook, web) have the configuration too; once
		// elected, the reconciler fills the Stores itself.
		f.Paused = func() bool {
			select {
			case <-g.elected:
				return true
			default:
				return false
			}
		}
	}
	return f.SetupWithManager(mgr, "snapshot-follower")
}

// setupConfig runs the ConfigRepository reconciler.
func (o *OperatorOptions) setupConfig(_ context.Context, env *roleEnv) error {
	m, err := configrepo.NewMetrics(metrics.Registry)
	if err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	r := &configrepo.Reconciler{
		Client:       env.mgr.GetClient(),
		APIReader:    env.mgr.GetAPIReader(),
		Recorder:     env.mgr.GetEventRecorder("bowline-configrepo"),
		Publisher:    env.publisher,
		Stores:       env.stores,
		Metrics:      m,
		DataDir:      o.DataDir,
		Capabilities: o.capabilities(),
	}
	r.Check = o.revisionCheck(env)
	if err := r.SetupWithManager(env.mgr); err != nil {
		return err
	}
	if o.DeployTemplate == "" {
		return nil
	}
	return o.setupDeploy(env)
}

// setupDeploy runs the reconciler of the deployment file, with the config
// role (under its lease).
func (o *OperatorOptions) setupDeploy(env *roleEnv) error {
	key, err := o.Roles.configRepositoryKey()
	if err != nil {
		return err
	}
	m, err := deployreconciler.NewMetrics(metrics.Registry)
	if err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	d := &deployreconciler.Reconciler{
		Client:         env.mgr.GetClient(),
		APIReader:      env.mgr.GetAPIReader(),
		Key:            key,
		Store:          env.stores.For(key),
		Template:       o.DeployTemplate,
		PublicServices: map[string]string{deploy.RoleHook: bootstrap.HookService, deploy.RoleWeb: bootstrap.WebService},
		Recorder:       env.mgr.GetEventRecorder("bowline-deploy"),
		Metrics:        m,
	}
	if secrets, ok := env.hookSecrets.(deployreconciler.Secrets); ok {
		d.Prober = &deployreconciler.HookPinger{Secrets: secrets}
	}
	return d.SetupWithManager(env.mgr)
}

// revisionCheck is what a revision must pass beyond the loader to be
// applied in this install: the ConfigRepository reconciler refuses a
// revision that fails it, and the review of pull requests says so first.
func (o *OperatorOptions) revisionCheck(env *roleEnv) func(*configset.Set) error {
	checks := []func(*configset.Set) error{o.installCheck}
	if o.DeployTemplate != "" {
		// The roles run with this operator's credentials: their image
		// comes from a repository the install chose.
		checks = append(checks, func(set *configset.Set) error {
			if set.Deploy == nil {
				return nil
			}
			var errs configset.Errors
			set.Deploy.CheckRepository(o.DeployImageRepositories, &errs)
			return errs.Err()
		})
	}
	if env.clusters != nil {
		// A job naming no build cluster fails its revision, as Prow's
		// checkconfig and admission webhook refuse it, rather than its runs.
		checks = append(checks, func(set *configset.Set) error { return buildcluster.CheckJobs(set, env.clusters.Aliases()) })
	}
	return func(set *configset.Set) error {
		var errs []error
		for _, check := range checks {
			if err := check(set); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}
