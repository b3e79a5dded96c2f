package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/automation/configpush"
	"github.com/bowline-ci/bowline/automation/configreview"
	"github.com/bowline-ci/bowline/automation/inrepo"
	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins"
	"github.com/bowline-ci/bowline/reconcilers/gc"
	"github.com/bowline-ci/bowline/reconcilers/merge"
	"github.com/bowline-ci/bowline/reconcilers/org"
	"github.com/bowline-ci/bowline/reconcilers/periodic"
	"github.com/bowline-ci/bowline/reconcilers/prowjob"
	"github.com/bowline-ci/bowline/reconcilers/prowjob/buildcluster"
	"github.com/bowline-ci/bowline/reconcilers/prowjob/local"
	"github.com/bowline-ci/bowline/reconcilers/reporter"
	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	ghclient "github.com/bowline-ci/bowline/scm/github"
	"github.com/bowline-ci/bowline/web/ui"
)

// RoleOptions configure the roles that run from the applied configuration:
// jobs, reporter, periodic, gc (part of jobs), hook and web.
type RoleOptions struct {
	// ConfigRepository is namespace/name of the ConfigRepository whose
	// configuration these roles follow.
	ConfigRepository string
	// ProwJobNamespace is where ProwJobs live until a configuration is
	// applied: from then on every role uses config.yaml's
	// prowjob_namespace (Prow's default "default" when it sets none).
	ProwJobNamespace string
	// WebAddr serves the web role (the UI and its JSON API), on a listener of its own
	// so that the address GitHub's webhooks reach need expose nothing
	// else. Empty serves it on the hook's listener (bowline up does, on
	// this machine only).
	WebAddr string
	// ArtifactsBucket is where runs without a gcs_configuration keep their
	// logs and artifacts, and where the web role reads them.
	ArtifactsBucket string
	// JobURLTemplate renders a run's page address (a Go template over the
	// ProwJob) when plank.job_url_template does not.
	JobURLTemplate string

	GitHub   ghclient.Flags
	Hook     automation.Options
	Jobs     prowjob.Options
	Reporter reporter.Options
	Merge    merge.Options
	Orgs     org.Options
	Web      ui.Options
}

// AddFlags registers the roles' flags.
func (o *RoleOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ConfigRepository, "config-repository", "bowline-system/config", "namespace/name of the ConfigRepository whose configuration jobs, hook and web follow")
	fs.StringVar(&o.ProwJobNamespace, "prowjob-namespace", "", "namespace of ProwJobs until a configuration is applied; from then on config.yaml's prowjob_namespace")
	fs.StringVar(&o.WebAddr, "web-addr", ":8090", "address of the web role (the UI and its JSON API), apart from the webhook's --hook-addr")
	fs.StringVar(&o.ArtifactsBucket, "artifacts-bucket", "", "logs and artifacts of runs that name no bucket: a directory, file://, s3:// or gs:// URL")
	fs.StringVar(&o.JobURLTemplate, "job-url-template", "", "Go template over the ProwJob for the link on GitHub statuses, when plank.job_url_template sets none")
	o.GitHub.AddFlags(fs)
	o.Hook = automation.DefaultOptions()
	o.Hook.AddFlags(fs)
	o.Jobs.AddFlags(fs)
	o.Reporter.AddFlags(fs)
	o.Merge.AddFlags(fs)
	o.Orgs.AddFlags(fs)
	o.Web.AddFlags(fs)
}

// Validate reports flag values that cannot work.
func (o *RoleOptions) Validate() error {
	var errs []error
	if _, err := o.configRepositoryKey(); err != nil {
		errs = append(errs, err)
	}
	if _, err := template.New("job-url").Parse(o.JobURLTemplate); err != nil {
		errs = append(errs, fmt.Errorf("--job-url-template: %w", err))
	}
	if o.WebAddr != "" && o.WebAddr == o.Hook.Addr {
		errs = append(errs, fmt.Errorf("--web-addr and --hook-addr are both %s: the JSON API needs an address of its own", o.WebAddr))
	}
	for _, err := range []error{o.GitHub.Validate(), o.Hook.Validate(), o.Jobs.Validate(), o.Reporter.Validate(), o.Merge.Validate(), o.Orgs.Validate(), o.Web.Validate()} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (o *RoleOptions) configRepositoryKey() (types.NamespacedName, error) {
	ns, name, ok := strings.Cut(o.ConfigRepository, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return types.NamespacedName{}, fmt.Errorf("--config-repository %q is not namespace/name", o.ConfigRepository)
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}

// newGitHubClient builds the process's GitHub client, its metrics on
// controller-runtime's registry.
func newGitHubClient(opts ghclient.Options) (*ghclient.Client, error) {
	m, err := ghclient.NewMetrics(metrics.Registry)
	if err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	opts.Metrics = m
	return ghclient.New(opts)
}

// roleEnv is what the roles of one process share.
type roleEnv struct {
	mgr    ctrl.Manager
	log    logr.Logger
	stores *snapshot.Stores
	// store is the Store of the ConfigRepository the roles follow.
	store  *snapshot.Store
	github *ghclient.Client
	// hookSecrets validate webhook deliveries.
	hookSecrets automation.SecretSource
	// local configures the local agent; nil leaves local jobs alone.
	local *local.Options
	// creator creates ProwJobs for the trigger and periodic roles; it is the
	// manager's client unless runs are redirected to the local agent.
	creator client.Client
	// listen opens the HTTP roles' listeners; nil means net.Listen.
	listen func(network, addr string) (net.Listener, error)
	// merge is the merge controller when this process runs it.
	merge *merge.Reconciler
	// clusters are the build clusters; nil (bowline up) means only the
	// operator's own, whose runs the local agent takes anyway.
	clusters *buildcluster.Set
	// confirmOrgs is spec.confirm of the GitHubOrganizations the orgs
	// role creates: true only for bowline up's sandbox forge.
	confirmOrgs bool
	// publisher stores and reads the snapshots the config role publishes.
	publisher *snapshot.Publisher
	// mux collects the handlers served on --hook-addr; nil until one
	// registers.
	mux *http.ServeMux
	// hook is the webhook server, drained on shutdown; nil without one.
	hook *automation.Server
	// web is the web role's handler; nil unless it runs.
	web http.Handler
	// groups are the roles that act alone, by name, with their leases.
	groups map[string]*roleGroup
	// placement hands roles over to Deployments of their own; nil keeps
	// every role here.
	placement placement
}

// hookMux returns the mux served on --hook-addr, creating it on first use.
func (e *roleEnv) hookMux() *http.ServeMux {
	if e.mux == nil {
		e.mux = http.NewServeMux()
	}
	return e.mux
}

// current returns the applied configuration, or nil before the first.
func (e *roleEnv) current() *configset.Set {
	if s := e.store.Current(); s != nil {
		return s.Config
	}
	return nil
}

// roleSetup registers one role with the manager.
type roleSetup func(o *OperatorOptions, ctx context.Context, env *roleEnv) error

// roles are the components bowline implements, each with the function
// that sets it up; they run in allComponents' order. A component of
// allComponents without an entry here is not implemented yet:
// --components refuses it by name, "all" leaves it out with a log line,
// and the ConfigRepository's conditions say so. Implementing a component
// means adding it here.
func roles() map[string]roleSetup {
	return map[string]roleSetup{
		"config":   (*OperatorOptions).setupConfig,
		"jobs":     (*OperatorOptions).setupJobs,
		"reporter": (*OperatorOptions).setupReporter,
		"periodic": (*OperatorOptions).setupPeriodic,
		"merge":    (*OperatorOptions).setupMerge,
		"orgs":     (*OperatorOptions).setupOrgs,
		"hook":     (*OperatorOptions).setupHook,
		"web":      (*OperatorOptions).setupWeb,
	}
}

// pluginNames are the names of the plugins bowline constructs: what
// plugins.yaml can enable to any effect.
func pluginNames() []string {
	var names []string
	for _, p := range plugins.All(plugins.Deps{}) {
		names = append(names, p.Name())
	}
	return names
}

// implemented reports whether bowline has a role for component.
func implemented(component string) bool {
	_, ok := roles()[component]
	return ok
}

// notImplemented lists the components of allComponents without a role.
func notImplemented() []string {
	var out []string
	for _, c := range allComponents {
		if !implemented(c) {
			out = append(out, c)
		}
	}
	return out
}

// electedRole reports whether a role acts alone, under a lease of its own;
// the hook and web roles serve on every replica.
func electedRole(role string) bool { return role != "hook" && role != "web" }

// setupRoles registers the roles o.runs chooses, then serves the HTTP
// roles' handlers. Each role that acts alone gets a group of its own
// (election.go): what its setup adds to the manager runs once this process
// holds the role's lease, or at once without --leader-elect.
func (o *OperatorOptions) setupRoles(ctx context.Context, env *roleEnv) error {
	if missing := notImplemented(); len(missing) > 0 && o.runs("all") {
		env.log.Info("Not running components that are not implemented yet", "components", missing)
	}
	var elect *elector
	if o.LeaderElect {
		var err error
		if elect, err = newElector(env.mgr.GetConfig(), o.Election, o.LeaderElectionNamespace); err != nil {
			return err
		}
	}
	mgr := env.mgr
	defer func() { env.mgr = mgr }()
	env.groups = map[string]*roleGroup{}
	for _, name := range allComponents {
		setup, ok := roles()[name]
		if !ok || !o.runs(name) {
			continue
		}
		var group *roleGroup
		env.mgr = mgr
		if electedRole(name) {
			group = newRoleGroup(name, elect, env.log)
			if c := env.groups["config"]; c != nil {
				// In the operator that runs the config role, the other
				// roles are taken by the replica that leads it: never
				// beside an operator of an earlier version, which held one
				// lease (the config role's) for all.
				group.after = c.elected
			}
			if name != "config" {
				group.place = env.placement
			}
			env.groups[name] = group
			env.mgr = roleManager{Manager: mgr, group: group}
		}
		if err := setup(o, ctx, env); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if group != nil && len(group.runnables) > 0 {
			if err := mgr.Add(group); err != nil {
				return err
			}
		}
	}
	env.mgr = mgr
	return o.serveHTTP(env)
}

func (o *OperatorOptions) setupReporter(ctx context.Context, env *roleEnv) error {
	mgr := env.mgr
	clients, err := o.Roles.Reporter.SlackClients()
	if err != nil {
		return err
	}
	if len(clients) > 0 {
		s := &reporter.SlackReconciler{
			Client:                  mgr.GetClient(),
			Config:                  func() reporter.SlackConfig { return reporter.SlackConfigFrom(env.current()) },
			Clients:                 clients,
			MaxConcurrentReconciles: o.Roles.Reporter.SlackWorkers,
		}
		if err := s.SetupWithManager(mgr); err != nil {
			return fmt.Errorf("slack reporter: %w", err)
		}
	}
	if env.github == nil {
		env.log.Info("Not reporting to GitHub: no GitHub credentials")
		return nil
	}
	r := &reporter.Reconciler{
		Client:                  mgr.GetClient(),
		GitHub:                  env.github.ForOrg,
		Config:                  func() reporter.Config { return reporter.ConfigFrom(env.current()) },
		BotLogin:                o.Roles.Reporter.BotLogin,
		MaxConcurrentReconciles: o.Roles.Reporter.Workers,
	}
	return r.SetupWithManager(ctx, mgr)
}

func (o *OperatorOptions) setupPeriodic(ctx context.Context, env *roleEnv) error {
	r := &periodic.Runner{
		Client:       env.creator,
		Namespace:    o.Roles.ProwJobNamespace,
		Reconfigured: env.store.Subscribe,
		Config: func() periodic.Config {
			c, err := periodic.ConfigFrom(env.current())
			if err != nil {
				env.log.Error(err, "Reading periodic jobs from the applied configuration")
			}
			return c
		},
	}
	return r.SetupWithManager(ctx, env.mgr)
}

func (o *OperatorOptions) setupJobs(ctx context.Context, env *roleEnv) error {
	mgr := env.mgr
	m, err := prowjob.NewMetrics(metrics.Registry)
	if err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	var jobURL *template.Template
	if o.Roles.JobURLTemplate != "" {
		if jobURL, err = template.New("job-url").Parse(o.Roles.JobURLTemplate); err != nil {
			return fmt.Errorf("--job-url-template: %w", err)
		}
	}
	r := &prowjob.Reconciler{
		Config: func() prowjob.Config {
			c, err := prowjob.ConfigFrom(env.current())
			if err != nil {
				env.log.Error(err, "Reading plank's settings from the applied configuration")
			}
			if c.JobURLTemplate == nil {
				c.JobURLTemplate = jobURL
			}
			return c
		},
		BuildPod:                prowjob.DecoratedPods(prowjob.PodOptionsFrom(env.current, o.Roles.Jobs.UtilityImage)),
		Recorder:                mgr.GetEventRecorder("bowline-prowjob"),
		Metrics:                 m,
		MaxConcurrentReconciles: o.Roles.Jobs.Workers,
		RunFiles:                &prowjob.RunFiles{DefaultBucket: o.Roles.ArtifactsBucket},
	}
	if env.local != nil {
		opts := *env.local
		opts.Notify = r.NotifyLocal
		runner, err := local.NewRunner(opts)
		if err != nil {
			return err
		}
		if parent, err := runner.Cgroups(); err != nil {
			env.log.Info("Local jobs run without cgroups: a process that leaves its session and clears its environment can outlive its run", "reason", err.Error())
		} else if parent != "" {
			env.log.V(1).Info("Local jobs run in cgroups", "parent", parent)
		}
		r.Local = prowjob.LocalProcesses{Runner: runner}
		// Runs end with the process: no job outlives bowline.
		if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
			<-ctx.Done()
			stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			runner.Shutdown(stop)
			return nil
		})); err != nil {
			return err
		}
	}
	if env.clusters != nil {
		key, err := o.Roles.configRepositoryKey()
		if err != nil {
			return err
		}
		env.clusters.Namespace = func() string {
			if set := env.current(); set != nil && set.Config != nil {
				return set.Config.PodNamespace
			}
			return ""
		}
		env.clusters.Report = (&buildcluster.StatusWriter{Client: mgr.GetClient(), Key: key}).Write
		r.Clusters = env.clusters
	}
	if err := r.SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("prowjob: %w", err)
	}
	gm, err := gc.NewMetrics(metrics.Registry)
	if err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	collector := &gc.Collector{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Namespace: o.Roles.ProwJobNamespace,
		Config:    func() gc.Config { return gc.ConfigFrom(env.current()) },
		Metrics:   gm,
	}
	if env.clusters != nil {
		collector.BuildClusters = env.clusters.ReadyClients
	}
	if err := collector.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("gc: %w", err)
	}
	return nil
}

// setupMerge registers the merge controller (Tide): it needs GitHub.
func (o *OperatorOptions) setupMerge(ctx context.Context, env *roleEnv) error {
	if env.github == nil {
		if slices.Contains(o.Components, "merge") {
			return errors.New("the merge role needs GitHub credentials (--github-token-path or --github-app-id)")
		}
		env.log.Info("Not merging: no GitHub credentials")
		return nil
	}
	m, err := merge.NewMetrics(metrics.Registry)
	if err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	syncer := &merge.Syncer{
		GitHub: env.github.ForOrg,
		InRepo: inrepo.New(env.store, func(_ context.Context, org string) (inrepo.GitHub, error) {
			c, err := env.github.ForOrg(org)
			if err != nil {
				return nil, err
			}
			return inrepo.FromClient(c), nil
		}),
		StatusBaseURL: o.Roles.Merge.StatusURL,
		MergeDelay:    o.Roles.Merge.MergeDelay,
		RetryDelay:    o.Roles.Merge.RetryDelay,
	}
	syncer.Batcher = &merge.GitBatcher{
		Dir: filepath.Join(o.DataDir, "merge"),
		Remote: func(ctx context.Context, org, repo string) (string, string, error) {
			token, err := env.github.Token(ctx, org)
			return syncer.CloneURL(org, repo), token, err
		},
	}
	r := &merge.Reconciler{
		Client:                  env.mgr.GetClient(),
		Creator:                 env.creator,
		Syncer:                  syncer,
		Config:                  merge.ConfigFromSnapshots(env.store),
		Recorder:                env.mgr.GetEventRecorder("bowline-merge"),
		Metrics:                 m,
		MaxConcurrentReconciles: o.Roles.Merge.Workers,
	}
	if err := r.SetupWithManager(ctx, env.mgr); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	env.merge = r
	return nil
}

// setupOrgs registers org administration: a GitHubOrganization per org the
// configuration names, each planned, and applied once confirmed and within
// its limits. It needs GitHub.
func (o *OperatorOptions) setupOrgs(_ context.Context, env *roleEnv) error {
	if env.github == nil {
		if slices.Contains(o.Components, "orgs") {
			return errors.New("the orgs role needs GitHub credentials (--github-token-path or --github-app-id)")
		}
		env.log.Info("Not administering GitHub orgs: no GitHub credentials")
		return nil
	}
	key, err := o.Roles.configRepositoryKey()
	if err != nil {
		return err
	}
	m, err := org.NewMetrics(metrics.Registry)
	if err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	r := &org.Reconciler{
		GitHub:                  env.github.ForOrg,
		Stores:                  env.stores,
		Recorder:                env.mgr.GetEventRecorder("bowline-orgs"),
		Metrics:                 m,
		MaxConcurrentReconciles: o.Roles.Orgs.Workers,
	}
	if err := r.SetupWithManager(env.mgr); err != nil {
		return err
	}
	return env.mgr.Add(&org.Creator{Client: env.mgr.GetClient(), Stores: env.stores, ConfigRepository: key,
		Confirm: env.confirmOrgs, Reconciler: r})
}

// setupHook serves the webhook at /hook and plugin help at /plugin-help
// and (in Prow's shape) /api/plugin-help, on --hook-addr.
func (o *OperatorOptions) setupHook(_ context.Context, env *roleEnv) error {
	if env.github == nil || env.hookSecrets == nil {
		if slices.Contains(o.Components, "hook") {
			return errors.New("the hook role needs GitHub credentials (--github-token-path or --github-app-id) and --hmac-secret-file")
		}
		env.log.Info("Not serving webhooks: no GitHub credentials or webhook secret")
		return nil
	}
	hook, err := o.newHookServer(env)
	if err != nil {
		return err
	}
	env.hook = hook
	h := hook.Handler()
	mux := env.hookMux()
	mux.Handle(automation.HookPath, h)
	mux.Handle(automation.PluginHelpPath, h)
	mux.Handle(automation.APIPluginHelpPath, h)
	return nil
}

// setupWeb makes the web role's handler (newWebHandler); serveHTTP serves
// it.
func (o *OperatorOptions) setupWeb(ctx context.Context, env *roleEnv) error {
	web, err := o.newWebHandler(ctx, env)
	env.web = web
	return err
}

// serveHTTP serves the hook role on --hook-addr and the web role on
// --web-addr; both on the hook's address when --web-addr is empty.
func (o *OperatorOptions) serveHTTP(env *roleEnv) error {
	web := env.web
	if web != nil && (o.Roles.WebAddr == "" || o.Roles.WebAddr == o.Roles.Hook.Addr) {
		// Everything but the webhook's own paths: the UI and the API.
		env.hookMux().Handle("/", web)
		web = nil
	}
	if env.mux != nil {
		if err := env.mgr.Add(&httpRole{addr: o.Roles.Hook.Addr, listen: env.listen, handler: env.mux, hook: env.hook, grace: o.Roles.Hook.GracePeriod, log: env.log}); err != nil {
			return err
		}
	}
	if web != nil {
		return env.mgr.Add(&httpRole{addr: o.Roles.WebAddr, listen: env.listen, handler: web, grace: o.Roles.Hook.GracePeriod, log: env.log.WithName("web")})
	}
	return nil
}

// validateShutdown checks that the webhook queue's drain fits in the
// process's shutdown: events still queued at SIGTERM are handled within
// --hook-grace-period, which must end before --shutdown-timeout cuts the
// roles short (and that, before the pod's terminationGracePeriodSeconds).
func (o *OperatorOptions) validateShutdown() error {
	if o.runs("hook") && o.Roles.Hook.GracePeriod >= o.ShutdownTimeout {
		return fmt.Errorf("--hook-grace-period (%s) must be shorter than --shutdown-timeout (%s), or queued webhooks are lost at shutdown",
			o.Roles.Hook.GracePeriod, o.ShutdownTimeout)
	}
	return nil
}

func (o *OperatorOptions) newHookServer(env *roleEnv) (*automation.Server, error) {
	all := plugins.All(plugins.Deps{
		Config:   env.store,
		GitHub:   func(_ context.Context, org string) (*github.Client, error) { return env.github.ForOrg(org) },
		Kube:     triggerKube{creator: env.creator, reader: env.mgr.GetAPIReader(), Client: env.mgr.GetClient()},
		BotLogin: o.Roles.Reporter.BotLogin,
	})
	review, err := o.newConfigReview(env)
	if err != nil {
		return nil, err
	}
	always := []plugin.Plugin{configpush.New(env.mgr.GetClient(), nil), review}
	remote := &merge.RemoteEvents{Client: env.mgr.GetClient(), Namespace: func() string {
		if c := env.current(); c != nil && c.Config.ProwJobNamespace != "" {
			return c.Config.ProwJobNamespace
		}
		return "default"
	}}
	switch {
	case env.merge != nil:
		always = append(always, &mergeEvents{local: env.merge.Events(), remote: remote, group: env.groups["merge"]})
	case !o.runs("merge"):
		// The merge controller runs elsewhere: ask it through its
		// MergePools.
		always = append(always, remote)
	}
	return automation.NewServer(o.Roles.Hook, automation.Deps{
		Plugins:    all,
		Always:     always,
		Enablement: automation.PluginsFromSnapshot(env.store),
		Secrets:    env.hookSecrets,
		Registerer: metrics.Registry,
		Log:        env.log,
		PublicRepo: (&automation.RepoVisibility{GitHub: env.github.ForOrg, Hidden: func() []string {
			if set := env.current(); set != nil && set.Config != nil {
				return set.Config.Deck.HiddenRepos
			}
			return nil
		}}).Public,
	})
}

// newConfigReview plans every pull request to a config repository, with
// the checks, limits and plugins of this install.
func (o *OperatorOptions) newConfigReview(env *roleEnv) (*configreview.Handler, error) {
	m, err := configreview.NewMetrics(metrics.Registry)
	if err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	return configreview.New(configreview.Options{
		Client:        env.mgr.GetClient(),
		APIReader:     env.mgr.GetAPIReader(),
		Stores:        env.stores,
		GitHub:        func(_ context.Context, org string) (*github.Client, error) { return env.github.ForOrg(org) },
		DataDir:       o.DataDir,
		Check:         o.revisionCheck(env),
		Plugins:       pluginNames(),
		DeployApplied: o.DeployTemplate != "",
		// GitHub lets only Apps write check runs.
		CheckRuns: o.Roles.GitHub.AppID != 0,
		BotLogin:  o.Roles.Reporter.BotLogin,
		Metrics:   m,
	}), nil
}

// mergeEvents hands webhook events to the merge controller: straight to
// it while it runs in this process, otherwise (a standby replica, or the
// role handed to a Deployment of its own) through the MergePools, to
// whichever replica leads it.
type mergeEvents struct {
	local  *merge.Events
	remote *merge.RemoteEvents
	// group is the merge role's; nil means it always runs here.
	group *roleGroup
}

func (m *mergeEvents) Name() string      { return m.local.Name() }
func (m *mergeEvents) Events() []string  { return m.local.Events() }
func (m *mergeEvents) Help() plugin.Help { return m.local.Help() }
func (m *mergeEvents) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	if m.group == nil || m.group.Active() {
		return m.local.Handle(ctx, log, ev)
	}
	return m.remote.Handle(ctx, log, ev)
}

// triggerKube creates runs through the creator (which may redirect them to
// the local agent) and lists them from the API server (trigger.Kube says
// why).
type triggerKube struct {
	creator client.Client
	reader  client.Reader
	client.Client
}

func (k triggerKube) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	return k.creator.Create(ctx, obj, opts...)
}

func (k triggerKube) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return k.reader.List(ctx, list, opts...)
}

// httpRole serves the hook and web handlers until the manager stops, then
// drains the webhook queue.
type httpRole struct {
	addr    string
	listen  func(network, addr string) (net.Listener, error)
	handler http.Handler
	hook    *automation.Server
	grace   time.Duration
	log     logr.Logger
}

// NeedLeaderElection is false: every replica serves.
func (h *httpRole) NeedLeaderElection() bool { return false }

func (h *httpRole) Start(ctx context.Context) error {
	listen := h.listen
	if listen == nil {
		listen = net.Listen
	}
	ln, err := listen("tcp", h.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", h.addr, err)
	}
	srv := automation.NewHTTPServer(h.handler)
	if h.hook == nil {
		// The web role streams logs and artifacts, which may take longer
		// than a webhook's write timeout on a slow link.
		srv.WriteTimeout = 0
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	h.log.Info("Serving HTTP", "addr", ln.Addr().String())
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	grace, cancel := context.WithTimeout(context.Background(), h.grace)
	defer cancel()
	_ = srv.Shutdown(grace)
	if h.hook != nil {
		h.hook.Shutdown(grace)
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// localAgent redirects runs of the kubernetes agent to the local agent: with
// `bowline up` there is no kubelet, and every job runs as local processes.
type localAgent struct{ client.Client }

func (l localAgent) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	if pj, ok := obj.(*v1alpha1.ProwJob); ok && (pj.Spec.Agent == "" || pj.Spec.Agent == v1alpha1.KubernetesAgent) {
		pj.Spec.Agent = v1alpha1.LocalAgent
	}
	return l.Client.Create(ctx, obj, opts...)
}
