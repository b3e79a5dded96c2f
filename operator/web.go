package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/trigger"
	"github.com/bowline-ci/bowline/reconcilers/merge"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/web/api"
	"github.com/bowline-ci/bowline/web/ui"
)

// newWebHandler is the web role: the JSON API over the runs in
// config.yaml's prowjob_namespace, and the web UI (the merge pools' /pr
// pages among its pages, as JSON to clients that do not ask for HTML).
// With GitHub credentials it reruns and aborts jobs for the users
// deck.rerun_auth_configs allow: API callers prove who they are with their
// own GitHub token, UI users by logging in with GitHub (--github-oauth-config-file).
func (o *OperatorOptions) newWebHandler(ctx context.Context, env *roleEnv) (http.Handler, error) {
	h := &api.Handler{
		Client:    env.mgr.GetClient(),
		APIReader: env.mgr.GetAPIReader(),
		Artifacts: &api.BlobArtifacts{DefaultBucket: o.Roles.ArtifactsBucket},
		Config:    func() api.Config { return api.ConfigFrom(env.current(), o.Roles.ProwJobNamespace) },
	}
	identify := api.GitHubIdentity{}.Identify
	var members api.Membership
	if env.github != nil {
		trust := trigger.New(trigger.FromSnapshot(env.store, ""), func(_ context.Context, org string) (*trigger.GitHub, error) {
			c, err := env.github.ForOrg(org)
			if err != nil {
				return nil, err
			}
			return trigger.FromClient(c), nil
		}, nil, o.Roles.Reporter.BotLogin)
		identify = api.GitHubIdentity{BaseURL: env.github.BaseURL()}.Identify
		members = api.GitHubMembership{ForOrg: env.github.ForOrg}
		h.Rerun = &api.Reruns{
			Creator:            env.creator,
			Status:             env.mgr.GetClient(),
			Identify:           identify,
			Members:            members,
			TrustedPullRequest: trust.TrustedPullRequest,
		}
	}
	key, err := o.Roles.configRepositoryKey()
	if err != nil {
		return nil, err
	}
	page := &ui.Handler{
		API:              h,
		Client:           env.mgr.GetClient(),
		ConfigRepository: key,
		Settings: func() ui.Settings {
			if set := env.current(); set != nil && set.Config != nil {
				return ui.Settings{LinkURL: set.Config.GitHubOptions.LinkURLFromConfig}
			}
			return ui.Settings{}
		},
		PRStatus: &merge.PRPage{Client: env.mgr.GetClient()},
		Events:   &ui.Broker{Hidden: h.Hidden},
	}
	switch {
	case env.hook != nil:
		hook := env.hook
		page.PluginHelp = func(ctx context.Context) (*plugin.ProwHelp, error) {
			help := hook.ProwHelp(ctx)
			return &help, nil
		}
	case o.Roles.Web.HookURL != "":
		page.PluginHelp = ui.RemotePluginHelp(o.Roles.Web.HookURL, nil)
	}
	informer, err := env.mgr.GetCache().GetInformer(ctx, &v1alpha1.ProwJob{})
	if err != nil {
		return nil, fmt.Errorf("watch ProwJobs for the web UI: %w", err)
	}
	if _, err := informer.AddEventHandler(page.Events); err != nil {
		return nil, fmt.Errorf("watch ProwJobs for the web UI: %w", err)
	}
	// Live pages' streams end at shutdown, or the server would wait for
	// them.
	if err := env.mgr.Add(closeOnStop(page.Events.Close)); err != nil {
		return nil, err
	}
	if o.Roles.Web.LoginEnabled() {
		cfg, secret, err := o.Roles.Web.Load()
		if err != nil {
			return nil, err
		}
		if members == nil && len(o.Roles.Web.LoginOrgs) > 0 {
			return nil, fmt.Errorf("--web-login-orgs needs GitHub credentials to check memberships")
		}
		page.Auth = &ui.Auth{OAuth: *cfg, GitHubURL: o.Roles.Web.GitHubURL, Identify: identify, CookieSecret: secret,
			RequireLogin: o.Roles.Web.RequireLogin, Orgs: o.Roles.Web.LoginOrgs, Members: members, Log: env.log.WithName("web")}
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", h)
	mux.Handle(api.ProwJobsJSPath, h)
	mux.Handle("/", page)
	return page.Auth.Gate(mux), nil
}

// closeOnStop calls itself when the manager stops, on every replica.
type closeOnStop func()

func (c closeOnStop) Start(ctx context.Context) error {
	<-ctx.Done()
	c()
	return nil
}

// NeedLeaderElection is false: every replica serves pages.
func (closeOnStop) NeedLeaderElection() bool { return false }

// webLogin registers the web UI as an OAuth app of the sandbox forge, so
// that `bowline up` logs users in against the sandbox as a cluster install
// does against GitHub. The app's secret and the cookie secret are new at
// each start: logins do not outlive the process.
func (s *upSandbox) webLogin(o *ui.Options, webURL string) error {
	app := forge.OAuthApp{ClientID: "bowline-web", ClientSecret: rand.Text(), Name: "bowline web UI",
		CallbackURL: webURL + ui.CallbackPath}
	if err := s.forge.RegisterOAuthApp(app); err != nil {
		return fmt.Errorf("register the web UI with the sandbox forge: %w", err)
	}
	o.OAuth = &ui.OAuthConfig{ClientID: app.ClientID, ClientSecret: app.ClientSecret, RedirectURL: app.CallbackURL}
	o.CookieSecret = []byte(rand.Text() + rand.Text())
	o.GitHubURL = s.info.URL
	return nil
}
