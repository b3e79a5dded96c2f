package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/reconcilers/prowjob/local"
	"github.com/bowline-ci/bowline/schema/snapshot"
	ghclient "github.com/bowline-ci/bowline/scm/github"
)

// upSystem is every role of bowline running in this process.
type upSystem struct {
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
func startSystem(ctx context.Context, log logr.Logger, cfg *rest.Config, scheme *runtime.Scheme, o *UpOptions, dataDir, secret string, sb *upSandbox) (*upSystem, error) {
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
			JobURLTemplate:   "http://" + o.Addr + "/api/prowjobs/{{.Namespace}}/{{.Name}}/log",
			Hook:             automation.DefaultOptions(),
		},
	}
	op.Roles.Hook.Addr = o.Addr
	op.Roles.Hook.GracePeriod = 5 * time.Second
	op.Roles.Jobs.Workers = 4
	op.Roles.Reporter.Workers = 4

	gh, err := o.githubClient(sb)
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
	env := &roleEnv{
		mgr:         mgr,
		log:         log,
		stores:      &snapshot.Stores{},
		github:      gh,
		hookSecrets: automation.Secrets{"*": {[]byte(secret)}},
		creator:     localAgent{Client: mgr.GetClient()},
		local: &local.Options{
			Root:   filepath.Join(dataDir, "workspaces"),
			Bucket: op.Roles.ArtifactsBucket,
		},
	}
	if sb != nil {
		env.local.GitHubHost = sb.info.URL
	}
	if err := op.setupComponents(ctx, env); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &upSystem{cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- mgr.Start(runCtx) }()
	return s, nil
}

// githubClient talks to the sandbox forge as bowline's bot, or to GitHub
// with the given credentials.
func (o *UpOptions) githubClient(sb *upSandbox) (*ghclient.Client, error) {
	opts := ghclient.Options{}
	switch {
	case sb != nil:
		opts.BaseURL = sb.info.URL + "/"
		opts.Token = ghclient.Secret(sb.botToken)
	case o.GitHubTokenFile != "":
		b, err := os.ReadFile(o.GitHubTokenFile)
		if err != nil {
			return nil, err
		}
		opts.Token = ghclient.Secret(strings.TrimSpace(string(b)))
	case o.GitHubAppID != 0:
		b, err := os.ReadFile(o.GitHubAppKeyFile)
		if err != nil {
			return nil, err
		}
		opts.AppID = o.GitHubAppID
		opts.AppPrivateKey = ghclient.Secret(b)
	default:
		return nil, errors.New("no GitHub credentials and no sandbox")
	}
	return newGitHubClient(opts)
}
