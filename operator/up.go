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
	"path/filepath"
	"strings"
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
	// GitHubTokenFile holds a personal access token for real GitHub.
	GitHubTokenFile string
	// GitHubAppID and GitHubAppKeyFile authenticate as a GitHub App.
	GitHubAppID      int64
	GitHubAppKeyFile string
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

	Log LogOptions
}

// AddFlags registers the flags of `bowline up`.
func (o *UpOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ConfigRepo, "config-repo", "", "path or URL of your config repository; empty starts from the quickstart example")
	fs.StringVar(&o.GitHubTokenFile, "github-token-file", "", "file with a GitHub personal access token; without credentials bowline runs the sandbox forge")
	fs.Int64Var(&o.GitHubAppID, "github-app-id", 0, "GitHub App ID (with --github-app-key-file)")
	fs.StringVar(&o.GitHubAppKeyFile, "github-app-key-file", "", "file with the GitHub App's private key (PEM)")
	fs.StringVar(&o.DataDir, "data-dir", ".data", "directory that keeps state across restarts")
	fs.StringVar(&o.ReadyFile, "ready-file", "", "write what bowline prints when ready to this file, as JSON")
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:8090", "address of the webhook, the JSON API and the web UI")
	fs.StringVar(&o.SandboxAddr, "sandbox-addr", "127.0.0.1:3000", "address of the sandbox forge")
	fs.StringVar(&o.BinDir, "bin-dir", "", "directory with etcd and kube-apiserver; default next to bowline, then ./bin")
	fs.StringVar(&o.LogFile, "log-file", "", "file for the logs; default <data-dir>/bowline.log, - for standard error")
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
		return err
	}
	log, closeLog, logFile, err := o.logger(dataDir)
	if err != nil {
		return err
	}
	defer closeLog()

	binDir := o.BinDir
	if binDir == "" {
		if binDir, err = localcp.FindBinDir(); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "Starting the local control plane…")
	cp, err := localcp.Start(localcp.Options{BinDir: binDir, DataDir: filepath.Join(dataDir, "controlplane")})
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
	ready := &Ready{URL: "http://" + o.Addr, WebhookURL: "http://" + o.Addr + "/hook", Kubeconfig: cp.Kubeconfig, DataDir: dataDir, LogFile: logFile}

	var sb *upSandbox
	if o.sandboxed() {
		fmt.Fprintln(out, "Starting the sandbox forge…")
		if sb, err = startSandbox(ctx, log, dataDir, o.SandboxAddr, ready.WebhookURL, secret, o.ConfigRepo == ""); err != nil {
			return err
		}
		defer sb.Close()
		ready.Sandbox = sb.info
	}

	repoURL, repoSecret, err := o.configRepository(ctx, dataDir, sb)
	if err != nil {
		return err
	}
	ready.ConfigRepository = repoURL

	scheme, err := newScheme()
	if err != nil {
		return err
	}
	c, err := client.New(cp.Config, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	if err := applyConfigRepository(ctx, c, repoURL, repoSecret); err != nil {
		return err
	}

	sys, err := startSystem(ctx, log, cp.Config, scheme, o, dataDir, secret, sb)
	if err != nil {
		return err
	}
	if err := waitConfigReady(ctx, c, 2*time.Minute); err != nil {
		sys.stop()
		return err
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

// configRepository decides the ConfigRepository's URL and credentials:
// --config-repo as given; otherwise the quickstart, as a repository in the
// sandbox, or as a local git repository when bowline talks to real GitHub.
func (o *UpOptions) configRepository(ctx context.Context, dataDir string, sb *upSandbox) (url, token string, err error) {
	switch {
	case o.ConfigRepo != "":
		if abs, err := filepath.Abs(o.ConfigRepo); err == nil && !strings.Contains(o.ConfigRepo, "://") && !strings.Contains(o.ConfigRepo, "@") {
			return abs, "", nil
		}
		if sb == nil && strings.HasPrefix(o.ConfigRepo, "https://") && o.GitHubTokenFile != "" {
			b, err := os.ReadFile(o.GitHubTokenFile)
			if err != nil {
				return "", "", err
			}
			return o.ConfigRepo, strings.TrimSpace(string(b)), nil
		}
		return o.ConfigRepo, "", nil
	case sb != nil:
		return sb.info.URL + "/" + sandboxConfigRepo + ".git", sb.botToken, nil
	default:
		dir := filepath.Join(dataDir, "config-repo")
		if err := initLocalConfigRepo(ctx, dir); err != nil {
			return "", "", err
		}
		return dir, "", nil
	}
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

// applyConfigRepository creates or updates the ConfigRepository "config"
// (and its token Secret) that `bowline up` reconciles.
func applyConfigRepository(ctx context.Context, c client.Client, url, token string) error {
	repo := &v1alpha1.ConfigRepository{ObjectMeta: metav1.ObjectMeta{Name: "config", Namespace: upNamespace}}
	spec := v1alpha1.ConfigRepositorySpec{URL: url, Ref: &v1alpha1.GitRef{Branch: "main"}, Interval: &metav1.Duration{Duration: time.Minute}}
	if token != "" {
		sec := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "config-repo-credentials", Namespace: upNamespace},
			StringData: map[string]string{"token": token},
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

// waitConfigReady waits until the ConfigRepository applied a revision.
func waitConfigReady(ctx context.Context, c client.Client, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	repo := &v1alpha1.ConfigRepository{}
	key := client.ObjectKey{Namespace: upNamespace, Name: "config"}
	for {
		if err := c.Get(ctx, key, repo); err == nil {
			if cond := meta.FindStatusCondition(repo.Status.Conditions, v1alpha1.ConditionReady); cond != nil &&
				cond.Status == metav1.ConditionTrue && cond.ObservedGeneration == repo.Generation {
				return nil
			} else if cond != nil && meta.IsStatusConditionTrue(repo.Status.Conditions, v1alpha1.ConditionStalled) {
				return fmt.Errorf("the config repository is invalid: %s", cond.Message)
			}
		}
		select {
		case <-ctx.Done():
			msg := "no status yet"
			if cond := meta.FindStatusCondition(repo.Status.Conditions, v1alpha1.ConditionReady); cond != nil {
				msg = cond.Message
			}
			return fmt.Errorf("the config repository did not become ready: %s", msg)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func printReady(out io.Writer, r *Ready, took time.Duration) {
	fmt.Fprintf(out, "\nbowline is running.\n\n")
	fmt.Fprintf(out, "  API and web:        %s  (jobs: %s/api/prowjobs)\n", r.URL, r.URL)
	fmt.Fprintf(out, "  Webhook:            %s\n", r.WebhookURL)
	fmt.Fprintf(out, "  kubectl:            export KUBECONFIG=%s; kubectl get configrepositories,prowjobs\n", r.Kubeconfig)
	fmt.Fprintf(out, "  Config repository:  %s\n", r.ConfigRepository)
	if s := r.Sandbox; s != nil {
		fmt.Fprintf(out, "  Sandbox forge:      %s  (user %s, token %s)\n", s.URL, s.User, s.Token)
		fmt.Fprintf(out, "\nOpen a demo pull request:\n\n")
		fmt.Fprintf(out, "  bowline sandbox pr open --url %s --token %s --repo %s \\\n", s.URL, s.Token, s.DemoRepo)
		fmt.Fprintf(out, "    --head try-bowline --title 'Try bowline' --file 'hello.sh=@hello.sh'\n\n")
		fmt.Fprintf(out, "Its presubmit pull-hello-test runs the repository's tests; the status shows on the pull request\n")
		fmt.Fprintf(out, "and the run in %s/api/prowjobs. Change jobs or plugins with a pull request to %s.\n", r.URL, s.ConfigRepo)
	}
	if r.LogFile != "" {
		fmt.Fprintf(out, "\nLogs: %s\n", r.LogFile)
	}
	fmt.Fprintf(out, "\nReady in %.1fs. Press Ctrl-C to stop.\n", took.Seconds())
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
