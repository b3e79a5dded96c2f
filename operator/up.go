package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/bootstrap/localcp"
	examples "github.com/bowline-ci/bowline/config-examples"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// UpOptions configures `bowline up`: the whole system on one machine.
type UpOptions struct {
	// ConfigRepo is a path or URL of a config repository; empty means a new
	// one made from config-examples/quickstart.
	ConfigRepo string
	// ConfigBranch is the branch to follow; empty means the checked-out
	// branch of a local repository, main otherwise.
	ConfigBranch string
	// GitHubTokenFile holds a personal access token for real GitHub.
	GitHubTokenFile string
	// GitHubAppID and GitHubAppKeyFile authenticate as a GitHub App.
	GitHubAppID      int64
	GitHubAppKeyFile string
	// GitHubEndpoint is the REST API root of GitHub Enterprise Server;
	// empty means github.com.
	GitHubEndpoint string
	// DataDir keeps everything across restarts.
	DataDir string
	// ReadyFile receives, as JSON, what `up` prints once it is ready.
	ReadyFile string
	// Addr serves the webhook, the JSON API and the web UI.
	Addr string
	// SandboxAddr serves the sandbox forge when there are no credentials.
	SandboxAddr string
	// BinDir holds etcd and kube-apiserver; empty means next to the binary
	// or ./bin.
	BinDir string
	// LogFile receives the logs; "-" means standard error.
	LogFile string
	// AllowUntrustedPulls runs, with GitHub, the jobs of pull requests
	// whose authors are neither org members nor collaborators.
	AllowUntrustedPulls bool
	// SandboxFaultInjection serves the sandbox forge's fault-injection
	// endpoint, to watch bowline ride out GitHub's failures.
	SandboxFaultInjection bool

	Log LogOptions
}

// AddFlags registers the flags of `bowline up`.
func (o *UpOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ConfigRepo, "config-repo", "", "path or URL of your config repository, or a plain directory to watch; empty starts from the quickstart example")
	fs.StringVar(&o.ConfigBranch, "config-branch", "", "branch of --config-repo to follow; default: the checked-out branch of a local repository, main otherwise")
	fs.StringVar(&o.GitHubTokenFile, "github-token-file", "", "file with a GitHub personal access token; without credentials bowline runs the sandbox forge")
	fs.Int64Var(&o.GitHubAppID, "github-app-id", 0, "GitHub App ID (with --github-app-key-file)")
	fs.StringVar(&o.GitHubAppKeyFile, "github-app-key-file", "", "file with the GitHub App's private key (PEM)")
	fs.StringVar(&o.GitHubEndpoint, "github-endpoint", "", "GitHub REST API root for GitHub Enterprise Server (https://HOST/api/v3/); empty means github.com")
	fs.StringVar(&o.DataDir, "data-dir", ".data", "directory that keeps state across restarts")
	fs.StringVar(&o.ReadyFile, "ready-file", "", "write what bowline prints when ready to this file, as JSON")
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8090", "address of the webhook, the JSON API and the web UI")
	fs.StringVar(&o.SandboxAddr, "sandbox-addr", "127.0.0.1:3000", "address of the sandbox forge")
	fs.StringVar(&o.BinDir, "bin-dir", "", "directory with etcd and kube-apiserver; default next to bowline, then ./bin")
	fs.StringVar(&o.LogFile, "log-file", "", "file for the logs; default <data-dir>/bowline.log, - for standard error")
	fs.BoolVar(&o.AllowUntrustedPulls, "allow-untrusted-pulls", false, "with GitHub, also run the jobs of pull requests whose authors are neither org members nor collaborators (after /ok-to-test): they run as your user, and the local agent is not a sandbox")
	fs.BoolVar(&o.SandboxFaultInjection, "sandbox-fault-injection", false, "let the sandbox forge's /_sandbox/faults endpoint make it answer errors, rate limits and late answers (docs/sandbox.md)")
	o.Log.AddFlags(fs)
}

// Validate reports flag values that cannot work.
func (o *UpOptions) Validate() error {
	var errs []error
	if o.GitHubTokenFile != "" && (o.GitHubAppID != 0 || o.GitHubAppKeyFile != "") {
		errs = append(errs, errors.New("use either --github-token-file or --github-app-id with --github-app-key-file, not both"))
	}
	if (o.GitHubAppID != 0) != (o.GitHubAppKeyFile != "") {
		errs = append(errs, errors.New("--github-app-id and --github-app-key-file go together"))
	}
	if o.GitHubAppID < 0 {
		errs = append(errs, fmt.Errorf("--github-app-id must be positive, not %d", o.GitHubAppID))
	}
	if o.DataDir == "" {
		errs = append(errs, errors.New("--data-dir must not be empty"))
	}
	if o.SandboxFaultInjection && !o.sandboxed() {
		errs = append(errs, errors.New("--sandbox-fault-injection works on the sandbox forge only, not with GitHub credentials"))
	}
	if o.GitHubEndpoint != "" && o.sandboxed() {
		errs = append(errs, errors.New("--github-endpoint needs credentials: --github-token-file, or --github-app-id with --github-app-key-file"))
	}
	for flag, addr := range map[string]string{"--addr": o.Addr, "--sandbox-addr": o.SandboxAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			errs = append(errs, fmt.Errorf("%s %q is not host:port", flag, addr))
		}
	}
	if err := o.Log.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// sandboxed reports whether bowline runs its own forge instead of GitHub.
func (o *UpOptions) sandboxed() bool { return o.GitHubTokenFile == "" && o.GitHubAppID == 0 }

// Ready is what `bowline up` prints when it is ready, and writes to
// --ready-file as JSON.
type Ready struct {
	// URL serves the JSON API, /plugin-help and the webhook at /hook.
	URL string `json:"url"`
	// WebhookURL is where GitHub sends events.
	WebhookURL string `json:"webhookURL"`
	// Kubeconfig lets kubectl see ProwJobs and ConfigRepositories.
	Kubeconfig string `json:"kubeconfig"`
	// ConfigRepository is the ConfigRepository's URL.
	ConfigRepository string `json:"configRepository"`
	// Sandbox is set when bowline runs the sandbox forge.
	Sandbox *SandboxInfo `json:"sandbox,omitempty"`
	// DataDir keeps the state.
	DataDir string `json:"dataDir"`
	// LogFile receives the logs.
	LogFile string `json:"logFile,omitempty"`
}

// SandboxInfo tells how to use the sandbox forge.
type SandboxInfo struct {
	// URL is the forge's API and git base URL.
	URL string `json:"url"`
	// DemoRepo is the repository whose presubmit runs its own tests.
	DemoRepo string `json:"demoRepo"`
	// ConfigRepo is the config repository in the sandbox.
	ConfigRepo string `json:"configRepo"`
	// User and Token act as the demo org's maintainer.
	User  string `json:"user"`
	Token string `json:"token"`
	// Contributor and ContributorToken act as someone outside the org.
	Contributor      string `json:"contributor"`
	ContributorToken string `json:"contributorToken"`
}

func newUpCommand() *cobra.Command {
	o := &UpOptions{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run the whole system on this machine",
		Long: `Run bowline on this machine, no cluster needed: a local Kubernetes control
plane (the etcd and kube-apiserver that make tools builds into bin/), every
controller, the webhook server and the JSON API in one process, with jobs
run as local processes.

Without GitHub credentials bowline also runs the sandbox forge, a
GitHub-compatible server with a demo org, and sends its webhooks to itself.
Without --config-repo it starts from the quickstart example, kept as a
repository in the sandbox (or under --data-dir with real GitHub) that you
change by pull request like any config repository.

When everything is up, bowline prints where everything is and one line
saying it is ready. Ctrl-C stops it; --data-dir keeps the state.`,
		Example: `  bowline up
  bowline up --github-token-file ~/.config/bowline/token --config-repo https://github.com/acme/ci-config.git`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return runUp(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// upNamespace holds the ConfigRepository, its Secret and the ProwJobs of
// `bowline up`.
const upNamespace = "default"

// sandbox users of config-examples/quickstart/sandbox/seed.yaml.
const (
	sandboxBot         = "bowline-bot"
	sandboxMaintainer  = "alice"
	sandboxContributor = "eve"
	sandboxDemoRepo    = "demo/hello"
	sandboxConfigRepo  = "demo/config"
)

func runUp(ctx context.Context, out io.Writer, o *UpOptions) error {
	start := time.Now()
	dataDir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("--data-dir %s: %w", o.DataDir, err)
	}
	// Everything a person can get wrong is checked before the control
	// plane starts, so that a mistake fails at once, in one line that says
	// what to do.
	lock, err := lockDataDir(dataDir)
	if err != nil {
		return err
	}
	defer lock.Release()
	var src *configSource
	if o.ConfigRepo != "" {
		if src, err = o.resolveConfigRepo(ctx, dataDir); err != nil {
			return err
		}
	}
	gh, err := o.githubOptions()
	if err != nil {
		return err
	}
	if gh != nil {
		src := githubSource{TokenFile: o.GitHubTokenFile, AppKeyFile: o.GitHubAppKeyFile, TokenFlag: "--github-token-file", AppFlags: "--github-app-id and --github-app-key-file"}
		if err := checkGitHubCredentials(ctx, out, *gh, src); err != nil {
			return err
		}
	}
	web, err := listenFlag("--addr", o.Addr)
	if err != nil {
		return err
	}
	defer web.Close()
	var sandboxLn net.Listener
	if o.sandboxed() {
		if sandboxLn, err = listenFlag("--sandbox-addr", o.SandboxAddr); err != nil {
			return err
		}
		defer sandboxLn.Close()
	}
	binDir := o.BinDir
	if binDir == "" {
		if binDir, err = localcp.FindBinDir(); err != nil {
			return err
		}
	} else if err := localcp.CheckBinDir(binDir); err != nil {
		return err
	}
	log, closeLog, logFile, err := o.logger(dataDir)
	if err != nil {
		return err
	}
	defer closeLog()

	fmt.Fprintln(out, "Starting the local control plane…")
	cp, err := startControlPlane(ctx, localcp.Options{BinDir: binDir, DataDir: filepath.Join(dataDir, "controlplane")})
	if err != nil {
		return err
	}
	defer func() {
		if err := cp.Stop(); err != nil {
			log.Error(err, "Stopping the control plane")
		}
	}()

	secret, err := persistentSecret(filepath.Join(dataDir, "webhook-secret"))
	if err != nil {
		return err
	}
	addr := web.Addr().String()
	ready := &Ready{URL: "http://" + addr, WebhookURL: "http://" + addr + "/hook", Kubeconfig: cp.Kubeconfig, DataDir: dataDir, LogFile: logFile}

	var sb *upSandbox
	if o.sandboxed() {
		fmt.Fprintln(out, "Starting the sandbox forge…")
		if sb, err = startSandbox(ctx, log, dataDir, sandboxLn, ready.WebhookURL, secret, o.ConfigRepo == "", o.SandboxFaultInjection); err != nil {
			return err
		}
		defer sb.Close()
		ready.Sandbox = sb.info
	}

	if src == nil {
		if src, err = o.builtinConfigRepo(ctx, dataDir, sb); err != nil {
			return err
		}
	}
	if src.mirror != nil {
		if _, err := src.mirror.sync(ctx); err != nil {
			return fmt.Errorf("--config-repo %s: %w", o.ConfigRepo, err)
		}
	}
	ready.ConfigRepository = src.URL
	if src.mirror != nil {
		ready.ConfigRepository = src.mirror.src
	}

	scheme, err := newScheme()
	if err != nil {
		return err
	}
	c, err := client.New(cp.Config, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	if err := applyConfigRepository(ctx, c, src); err != nil {
		return err
	}
	requested, err := requestReconcile(ctx, c, upConfigKey)
	if err != nil {
		return fmt.Errorf("request the config repository's reconcile: %w", err)
	}

	sys, err := startSystem(ctx, log, cp.Config, scheme, o, gh, dataDir, secret, sb, web)
	if err != nil {
		return err
	}
	if err := waitConfigReady(ctx, c, requested, 2*time.Minute); err != nil {
		sys.stop()
		return err
	}
	if src.mirror != nil {
		go src.mirror.watch(sys.ctx, log, time.Second, func(ctx context.Context) error {
			_, err := requestReconcile(ctx, c, upConfigKey)
			return err
		})
	}
	printReady(out, ready, time.Since(start))
	if o.ReadyFile != "" {
		if err := writeJSONFile(o.ReadyFile, ready); err != nil {
			sys.stop()
			return err
		}
	}
	err = sys.wait(ctx)
	fmt.Fprintln(out, "Stopped.")
	return err
}

// errInterrupted ends a start that a signal cut short.
var errInterrupted = errors.New("interrupted before bowline was ready")

// startControlPlane starts the local control plane, and on a signal stops
// it as soon as it is up instead of carrying on.
func startControlPlane(ctx context.Context, o localcp.Options) (*localcp.ControlPlane, error) {
	type result struct {
		cp  *localcp.ControlPlane
		err error
	}
	done := make(chan result, 1)
	go func() {
		cp, err := localcp.Start(o)
		done <- result{cp, err}
	}()
	select {
	case r := <-done:
		return r.cp, r.err
	case <-ctx.Done():
		r := <-done
		if r.err == nil {
			_ = r.cp.Stop()
		}
		return nil, errInterrupted
	}
}

// listenFlag listens on the address a flag names, and when it cannot,
// says which flag to change.
func listenFlag(flag, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	switch {
	case err == nil:
		return ln, nil
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("cannot listen on %s (%s): another program is using that address: stop it, or pass %s with a free port", addr, flag, flag)
	}
	return nil, fmt.Errorf("cannot listen on %s (%s): %v: pass %s with an address of this machine", addr, flag, err, flag)
}

// logger sends logs to a file in the data directory unless told otherwise,
// so that the terminal shows what a person needs.
func (o *UpOptions) logger(dataDir string) (logr.Logger, func(), string, error) {
	if o.LogFile == "-" {
		return o.Log.Logger(), func() {}, "", nil
	}
	p := o.LogFile
	if p == "" {
		p = filepath.Join(dataDir, "bowline.log")
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return logr.Discard(), nil, "", err
	}
	return o.Log.LoggerTo(f), func() { _ = f.Close() }, p, nil
}

// persistentSecret returns the webhook secret kept in path, creating it on
// first use so that a restart keeps the forge's hooks valid.
func persistentSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 20)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	s := hex.EncodeToString(buf)
	return s, os.WriteFile(path, []byte(s+"\n"), 0o600)
}

// builtinConfigRepo is the config repository when --config-repo is not
// given: the quickstart, as a repository in the sandbox, or as a local git
// repository when bowline talks to real GitHub.
func (o *UpOptions) builtinConfigRepo(ctx context.Context, dataDir string, sb *upSandbox) (*configSource, error) {
	if sb != nil {
		return &configSource{URL: sb.info.URL + "/" + sandboxConfigRepo + ".git", Branch: "main", Token: sb.botToken}, nil
	}
	dir := filepath.Join(dataDir, "config-repo")
	if err := initLocalConfigRepo(ctx, dir); err != nil {
		return nil, err
	}
	return &configSource{URL: dir, Branch: "main"}, nil
}

// quickstartConfig returns the files of the quickstart config repository.
func quickstartConfig() (map[string][]byte, error) {
	fsys, err := examples.FS("quickstart")
	if err != nil {
		return nil, err
	}
	return readFiles(fsys, "config", "config")
}

// readFiles reads every file under dir of fsys, keyed by its path with dir
// replaced by prefix ("" for none).
func readFiles(fsys fs.FS, dir, prefix string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if prefix != "" {
			rel = prefix + "/" + rel
		}
		files[rel] = b
		return nil
	})
	return files, err
}

// upConfigKey is the ConfigRepository `bowline up` reconciles.
var upConfigKey = client.ObjectKey{Namespace: upNamespace, Name: "config"}

// applyConfigRepository creates or updates the ConfigRepository "config"
// (and its token Secret) that `bowline up` reconciles.
func applyConfigRepository(ctx context.Context, c client.Client, src *configSource) error {
	repo := &v1alpha1.ConfigRepository{ObjectMeta: metav1.ObjectMeta{Name: upConfigKey.Name, Namespace: upConfigKey.Namespace}}
	spec := v1alpha1.ConfigRepositorySpec{URL: src.URL, Ref: &v1alpha1.GitRef{Branch: src.Branch}, Interval: &metav1.Duration{Duration: time.Minute}}
	if src.Token != "" {
		sec := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "config-repo-credentials", Namespace: upNamespace},
			StringData: map[string]string{"token": src.Token},
		}
		err := c.Create(ctx, sec)
		if apierrors.IsAlreadyExists(err) {
			err = c.Update(ctx, sec)
		}
		if err != nil {
			return fmt.Errorf("write the config repository's Secret: %w", err)
		}
		spec.SecretRef = &v1alpha1.LocalObjectReference{Name: sec.Name}
	}
	err := c.Get(ctx, client.ObjectKeyFromObject(repo), repo)
	switch {
	case apierrors.IsNotFound(err):
		repo.Spec = spec
		return c.Create(ctx, repo)
	case err != nil:
		return err
	}
	repo.Spec = spec
	return c.Update(ctx, repo)
}

// waitConfigReady waits until the ConfigRepository applied a revision. It
// fails as soon as the reconcile that handled requested (the value of the
// reconcile-request annotation set at start) could not fetch the
// repository or found it invalid, rather than waiting for a retry.
func waitConfigReady(ctx context.Context, c client.Client, requested string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	repo := &v1alpha1.ConfigRepository{}
	for {
		if err := c.Get(ctx, upConfigKey, repo); err == nil {
			if err := configReady(repo, requested); !errors.Is(err, errNotYet) {
				return err
			}
		}
		select {
		case <-ctx.Done():
			if errors.Is(context.Cause(ctx), context.Canceled) {
				return errInterrupted
			}
			msg := "it has no status yet"
			if cond := meta.FindStatusCondition(repo.Status.Conditions, v1alpha1.ConditionReady); cond != nil {
				msg = cond.Message
			}
			return fmt.Errorf("the config repository was not applied within %s (%s): see the log file for what the reconciler did", timeout, msg)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

var errNotYet = errors.New("not yet")

// configReady says whether repo is ready (nil), failed in the reconcile
// that handled requested (the error says how), or neither yet.
func configReady(repo *v1alpha1.ConfigRepository, requested string) error {
	cond := meta.FindStatusCondition(repo.Status.Conditions, v1alpha1.ConditionReady)
	switch {
	case cond == nil:
		return errNotYet
	case cond.Status == metav1.ConditionTrue && cond.ObservedGeneration == repo.Generation:
		return nil
	case repo.Status.LastHandledReconcileAt != requested || cond.ObservedGeneration != repo.Generation:
		return errNotYet
	}
	switch cond.Reason {
	case v1alpha1.ReasonValidationFailed:
		return fmt.Errorf("the config repository is invalid: %s: fix it and start again", cond.Message)
	case v1alpha1.ReasonFetchFailed, v1alpha1.ReasonAuthenticationFailed:
		return fmt.Errorf("the config repository %s cannot be fetched: %s: check --config-repo and its credentials", repo.Spec.URL, cond.Message)
	}
	return errNotYet
}

func printReady(out io.Writer, r *Ready, took time.Duration) {
	fmt.Fprint(out, readyText(r, selfCommand()))
	fmt.Fprintf(out, "\nReady in %.1fs. Press Ctrl-C to stop.\n", took.Seconds())
}

// readyText is what `bowline up` prints when it is ready, up to the line
// with the time it took; bowline is how to run this binary from the
// current directory. The README quotes it for the default addresses.
func readyText(r *Ready, bowline string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nbowline is running.\n\n")
	fmt.Fprintf(&b, "  Web UI:             %s  (JSON API: %s/api/prowjobs)\n", r.URL, r.URL)
	fmt.Fprintf(&b, "  Webhook:            %s\n", r.WebhookURL)
	fmt.Fprintf(&b, "  kubectl:            export KUBECONFIG=%s; kubectl get configrepositories,prowjobs\n", displayPath(r.Kubeconfig))
	fmt.Fprintf(&b, "  Config repository:  %s\n", displayPath(r.ConfigRepository))
	if s := r.Sandbox; s != nil {
		fmt.Fprintf(&b, "  Sandbox forge:      %s  (user %s, token %s)\n", s.URL, s.User, s.Token)
		fmt.Fprintf(&b, "\nOpen a demo pull request:\n\n")
		fmt.Fprintf(&b, "  %s sandbox pr open --url %s --token %s --repo %s \\\n", bowline, s.URL, s.Token, s.DemoRepo)
		fmt.Fprintf(&b, "    --head try-bowline --title 'Try bowline' --file 'NOTES.md=Trying bowline.'\n\n")
		fmt.Fprintf(&b, "Its presubmit pull-hello-test runs the repository's tests; the status shows on the pull request\n")
		fmt.Fprintf(&b, "and the run at %s. Change jobs or plugins with a pull request to %s.\n", r.URL, s.ConfigRepo)
	}
	if r.LogFile != "" {
		fmt.Fprintf(&b, "\nLogs: %s\n", displayPath(r.LogFile))
	}
	return b.String()
}

// selfCommand is how to run this binary from the current directory, for
// commands printed to copy: "bowline" when that is what the PATH finds,
// else its path relative to the current directory (bin/bowline after
// `make run`), else its absolute path.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "bowline"
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return "bowline"
	}
	if found, err := exec.LookPath("bowline"); err == nil {
		if found, err = filepath.EvalSymlinks(found); err == nil && found == exe {
			return "bowline"
		}
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, exe); err == nil && !strings.HasPrefix(rel, "..") {
			exe = rel
			if !strings.Contains(rel, string(filepath.Separator)) {
				exe = "." + string(filepath.Separator) + rel
			}
		}
	}
	return shellQuote(exe)
}

// displayPath shows an absolute path under the current directory relative
// to it, which is shorter and what a person typed.
func displayPath(p string) string {
	if !filepath.IsAbs(p) {
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@=", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// upSandbox is the sandbox forge of `bowline up`.
type upSandbox struct {
	forge    *forge.Forge
	server   *http.Server
	info     *SandboxInfo
	botToken string
}

func (s *upSandbox) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.server.Shutdown(ctx)
	_ = s.forge.Close()
}
