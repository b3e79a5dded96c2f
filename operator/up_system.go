package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/reconcilers/merge"
	"github.com/bowline-ci/bowline/reconcilers/prowjob/local"
	"github.com/bowline-ci/bowline/schema/snapshot"
	ghclient "github.com/bowline-ci/bowline/scm/github"
)

// upSystem is every role of bowline running in this process.
type upSystem struct {
	// ctx ends when the roles stop.
	ctx    context.Context
	cancel context.CancelFunc
	done   chan error
}

// stop ends the roles and waits for them.
func (s *upSystem) stop() {
	s.cancel()
	<-s.done
}

// wait runs until ctx ends (Ctrl-C, SIGTERM) or the roles fail, then stops
// them.
func (s *upSystem) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		s.cancel()
		return <-s.done
	case err := <-s.done:
		s.cancel()
		return err
	}
}

// startSystem runs every role with the local agent, the webhook server and
// the JSON API on o.Addr, against the local control plane.
func startSystem(ctx context.Context, log logr.Logger, cfg *rest.Config, scheme *runtime.Scheme, o *UpOptions, ghOpts *ghclient.Options, dataDir, secret string, sb *upSandbox, web net.Listener) (*upSystem, error) {
	op := &OperatorOptions{
		Components:      []string{"all"},
		MetricsAddr:     "0",
		ProbeAddr:       "0",
		ShutdownTimeout: 8 * time.Second,
		DataDir:         filepath.Join(dataDir, "git"),
		Roles: RoleOptions{
			ConfigRepository: upNamespace + "/config",
			ProwJobNamespace: upNamespace,
			ArtifactsBucket:  filepath.Join(dataDir, "artifacts"),
			JobURLTemplate:   "http://" + web.Addr().String() + "/runs/{{.Namespace}}/{{.Name}}",
			Hook:             automation.DefaultOptions(),
		},
	}
	op.Roles.Hook.Addr = web.Addr().String()
	op.Roles.Hook.GracePeriod = 5 * time.Second
	if sb != nil {
		if err := sb.webLogin(&op.Roles.Web, "http://"+web.Addr().String()); err != nil {
			return nil, err
		}
	}
	op.Roles.Jobs.Workers = 4
	op.Roles.Reporter.Workers = 4
	// The sandbox recomputes mergeability at once: no need for Tide's
	// pauses between merges.
	op.Roles.Merge = merge.Options{StatusURL: "http://" + web.Addr().String() + "/pr",
		Workers: merge.DefaultMaxGoroutines, MergeDelay: time.Second, RetryDelay: time.Second}

	gh, err := githubClient(ghOpts, sb)
	if err != nil {
		return nil, err
	}
	if sb != nil {
		op.Roles.Reporter.BotLogin = sandboxBot
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 200, 400
	ctrl.SetLogger(log)
	mgr, err := op.newManager(cfg, scheme, log)
	if err != nil {
		return nil, err
	}
	workspaces, err := local.WorkspaceRoot(dataDir)
	if err != nil {
		return nil, err
	}
	env := &roleEnv{
		mgr:         mgr,
		log:         log,
		stores:      &snapshot.Stores{},
		github:      gh,
		hookSecrets: automation.Secrets{"*": {[]byte(secret)}},
		creator:     localAgent{Client: mgr.GetClient()},
		listen:      preBound(web),
		local: &local.Options{
			Root:    workspaces,
			Bucket:  op.Roles.ArtifactsBucket,
			Secrets: upSecrets(secret, ghOpts, cfg),
		},
	}
	if sb != nil {
		env.local.GitHubHost = sb.info.URL
		// The sandbox is bowline's own: its orgs are applied without asking.
		env.confirmOrgs = true
	} else if !o.AllowUntrustedPulls {
		// Jobs run as this user: code of strangers does not run here
		// unless asked for (docs/security.md).
		env.local.Admit = local.TrustedAuthorsOnly(local.GitHubTrust(gh.ForOrg))
	}
	if err := op.setupComponents(ctx, env); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &upSystem{ctx: runCtx, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- mgr.Start(runCtx) }()
	return s, nil
}

// upSecrets are the credentials bowline up holds, censored from the logs
// and artifacts of the jobs it runs as the same user.
func upSecrets(webhook string, gh *ghclient.Options, cfg *rest.Config) []string {
	out := []string{webhook, string(cfg.KeyData), cfg.BearerToken, cfg.Password}
	if gh != nil {
		out = append(out, string(gh.Token), string(gh.AppPrivateKey))
	}
	return out
}

// githubOptions reads the GitHub credentials of --github-token-file or
// --github-app-id and --github-app-key-file; nil means none (the sandbox).
func (o *UpOptions) githubOptions() (*ghclient.Options, error) {
	switch {
	case o.GitHubTokenFile != "":
		tok, err := readTokenFile(o.GitHubTokenFile)
		if err != nil {
			return nil, err
		}
		return &ghclient.Options{BaseURL: o.GitHubEndpoint, Token: ghclient.Secret(tok)}, nil
	case o.GitHubAppID != 0:
		b, err := os.ReadFile(o.GitHubAppKeyFile)
		if err != nil {
			return nil, fmt.Errorf("--github-app-key-file: %w", err)
		}
		if len(strings.TrimSpace(string(b))) == 0 {
			return nil, fmt.Errorf("--github-app-key-file %s is empty: put the GitHub App's private key (PEM) in it", o.GitHubAppKeyFile)
		}
		return &ghclient.Options{BaseURL: o.GitHubEndpoint, AppID: o.GitHubAppID, AppPrivateKey: ghclient.Secret(b)}, nil
	}
	return nil, nil
}

// githubClient talks to the sandbox forge as bowline's bot, or to GitHub
// with the given credentials.
func githubClient(gh *ghclient.Options, sb *upSandbox) (*ghclient.Client, error) {
	switch {
	case sb != nil:
		return newGitHubClient(ghclient.Options{BaseURL: sb.info.URL + "/", Token: ghclient.Secret(sb.botToken)})
	case gh != nil:
		return newGitHubClient(*gh)
	}
	return nil, errors.New("no GitHub credentials and no sandbox")
}

// preBound serves ln when the roles listen on its address, so that the
// address `bowline up` checked at start is the one it serves; other
// addresses are listened on as usual.
func preBound(ln net.Listener) func(network, addr string) (net.Listener, error) {
	var once sync.Once
	return func(network, addr string) (net.Listener, error) {
		var got net.Listener
		if addr == ln.Addr().String() {
			once.Do(func() { got = ln })
		}
		if got != nil {
			return got, nil
		}
		return net.Listen(network, addr)
	}
}
