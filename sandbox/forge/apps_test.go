package forge_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
)

const appID, installationID = 42, 4242

// appEnv starts a forge with a GitHub App installed on acme and returns
// go-github clients authenticated as the app (JWT) and as its
// installation, both through ghinstallation as a real deployment would.
func appEnv(t *testing.T) (env *forgetest.Env, hooks *forgetest.Receiver, app, inst *github.Client) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := forge.ParseSeed([]byte(seedYAML))
	if err != nil {
		t.Fatal(err)
	}
	seed.Apps = []forge.SeedApp{{ID: appID, Slug: "bowline", Owner: "acme",
		PublicKey:     string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		Installations: []forge.SeedInstallation{{ID: installationID, Account: "acme"}}}}
	hooks = forgetest.NewReceiver(t, hookSecret)
	seed.Orgs[0].Hooks = []forge.SeedHook{{URL: hooks.URL, Secret: hookSecret, Events: []string{"check_run", "issues"}}}
	env = forgetest.StartSeed(t, seed, forge.Options{})
	atr := ghinstallation.NewAppsTransportFromPrivateKey(env.Server.Client().Transport, appID, key)
	atr.BaseURL = env.URL
	itr := ghinstallation.NewFromAppsTransport(atr, installationID)
	itr.BaseURL = env.URL
	base := env.URL + "/"
	app, err = github.NewClient(github.WithTransport(atr), github.WithURLs(&base, &base))
	if err != nil {
		t.Fatal(err)
	}
	inst, err = github.NewClient(github.WithTransport(itr), github.WithURLs(&base, &base))
	if err != nil {
		t.Fatal(err)
	}
	return env, hooks, app, inst
}

func TestGitHubApp(t *testing.T) {
	env, hooks, app, inst := appEnv(t)
	ctx := t.Context()
	a := must[*github.App](t)(app.Apps.Get(ctx, ""))
	if a.GetID() != appID || a.GetSlug() != "bowline" {
		t.Fatalf("app %+v", a)
	}
	ins := must[[]*github.Installation](t)(app.Apps.ListInstallations(ctx, nil))
	if len(ins) != 1 || ins[0].GetAccount().GetLogin() != "acme" {
		t.Fatalf("installations %v", ins)
	}
	if got := must[*github.Installation](t)(app.Apps.GetOrganizationInstallation(ctx, "acme")); got.GetID() != installationID {
		t.Fatalf("org installation %d", got.GetID())
	}
	if got := must[*github.Installation](t)(app.Apps.GetRepositoryInstallation(ctx, "acme", "widgets")); got.GetID() != installationID {
		t.Fatalf("repo installation %d", got.GetID())
	}
	_, resp, err := app.Apps.GetOrganizationInstallation(ctx, "nobody")
	if got := status(t, resp, err); got != http.StatusNotFound {
		t.Fatalf("no installation = %d, want 404", got)
	}
	tok := must[*github.InstallationToken](t)(app.Apps.CreateInstallationToken(ctx, installationID, nil))
	if tok.GetToken() == "" || time.Until(tok.GetExpiresAt().Time) < 50*time.Minute {
		t.Fatalf("token expires %v", tok.GetExpiresAt())
	}
	// A user token cannot call /app; the JWT cannot call the rest.
	_, resp, err = env.Client(t, "alice-token").Apps.Get(ctx, "")
	if got := status(t, resp, err); got != http.StatusUnauthorized {
		t.Fatalf("user token on /app = %d, want 401", got)
	}
	_, resp, err = app.Repositories.Get(ctx, "acme", "secret")
	if got := status(t, resp, err); got != http.StatusForbidden {
		t.Fatalf("JWT on a repository = %d, want 403", got)
	}

	// The installation acts on the org's repositories as the bot user.
	repos := must[*github.ListRepositories](t)(inst.Apps.ListRepos(ctx, nil))
	if repos.GetTotalCount() != 2 {
		t.Fatalf("installation repositories %d", repos.GetTotalCount())
	}
	iss := must[*github.Issue](t)(inst.Issues.Create(ctx, "acme", "secret", &github.IssueRequest{Title: github.Ptr("From the app"), Labels: &[]string{"bot"}}))
	if iss.GetUser().GetLogin() != "bowline[bot]" || iss.GetUser().GetType() != "Bot" || len(iss.Labels) != 1 {
		t.Fatalf("issue by the app %+v", iss.GetUser())
	}
	opened := hooks.WaitFor("issues", "opened", wait).Parsed.(*github.IssuesEvent)
	if opened.GetInstallation().GetID() != installationID {
		t.Fatalf("payload installation %d, want %d", opened.GetInstallation().GetID(), installationID)
	}

	// Check runs: only apps may write them.
	main := must[*github.Reference](t)(inst.Git.GetRef(ctx, "acme", "widgets", "heads/main"))
	sha := main.GetObject().GetSHA()
	_, resp, err = env.Client(t, "alice-token").Checks.CreateCheckRun(ctx, "acme", "widgets", github.CreateCheckRunOptions{Name: "ci", HeadSHA: sha})
	if got := status(t, resp, err); got != http.StatusForbidden {
		t.Fatalf("user creates a check run = %d, want 403", got)
	}
	cr := must[*github.CheckRun](t)(inst.Checks.CreateCheckRun(ctx, "acme", "widgets", github.CreateCheckRunOptions{
		Name: "ci/unit", HeadSHA: sha, Status: github.Ptr("in_progress"), DetailsURL: github.Ptr("http://ci/1")}))
	if cr.GetStatus() != "in_progress" || cr.GetApp().GetID() != appID {
		t.Fatalf("check run %+v", cr)
	}
	cr = must[*github.CheckRun](t)(inst.Checks.UpdateCheckRun(ctx, "acme", "widgets", cr.GetID(), github.UpdateCheckRunOptions{
		Conclusion: github.Ptr("success"), Output: &github.CheckRunOutput{Title: github.Ptr("ok"), Summary: github.Ptr("all good")}}))
	if cr.GetStatus() != "completed" || cr.GetConclusion() != "success" || cr.GetName() != "ci/unit" || cr.GetCompletedAt().IsZero() {
		t.Fatalf("updated check run %+v", cr)
	}
	completed := hooks.WaitFor("check_run", "completed", wait).Parsed.(*github.CheckRunEvent)
	if completed.GetCheckRun().GetConclusion() != "success" || completed.GetCheckRun().GetHeadSHA() != sha {
		t.Fatalf("check_run completed %+v", completed.GetCheckRun())
	}
	must[*github.CheckRun](t)(inst.Checks.CreateCheckRun(ctx, "acme", "widgets", github.CreateCheckRunOptions{Name: "ci/lint", HeadSHA: sha}))
	list := must[*github.ListCheckRunsResults](t)(env.Client(t, "").Checks.ListCheckRunsForRef(ctx, "acme", "widgets", "main", nil))
	if list.GetTotal() != 2 {
		t.Fatalf("check runs %d", list.GetTotal())
	}
	one := must[*github.ListCheckRunsResults](t)(env.Client(t, "").Checks.ListCheckRunsForRef(ctx, "acme", "widgets", sha, &github.ListCheckRunsOptions{CheckName: github.Ptr("ci/unit")}))
	if one.GetTotal() != 1 || one.CheckRuns[0].GetConclusion() != "success" {
		t.Fatalf("filtered check runs %+v", one)
	}
}

func TestInstallationTokenExpires(t *testing.T) {
	var clock atomic.Pointer[time.Time]
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock.Store(&start)
	set := func(t time.Time) { clock.Store(&t) }
	seed, err := forge.ParseSeed([]byte(seedYAML))
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	seed.Apps = []forge.SeedApp{{ID: appID, Slug: "bowline", PublicKey: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		Installations: []forge.SeedInstallation{{ID: installationID, Account: "acme"}}}}
	env := forgetest.StartSeed(t, seed, forge.Options{Now: func() time.Time { return *clock.Load() }})
	// Mint a token with the app's JWT at the forge's time.
	atr := ghinstallation.NewAppsTransportFromPrivateKey(env.Server.Client().Transport, appID, key)
	atr.BaseURL = env.URL
	// ghinstallation signs with the wall clock; move the forge's clock there.
	set(time.Now())
	base := env.URL + "/"
	app, err := github.NewClient(github.WithTransport(atr), github.WithURLs(&base, &base))
	if err != nil {
		t.Fatal(err)
	}
	tok := must[*github.InstallationToken](t)(app.Apps.CreateInstallationToken(t.Context(), installationID, nil))
	c := env.Client(t, tok.GetToken())
	must[*github.Repository](t)(c.Repositories.Get(t.Context(), "acme", "secret"))
	set(time.Now().Add(2 * time.Hour))
	_, resp, err := c.Repositories.Get(t.Context(), "acme", "secret")
	if got := status(t, resp, err); got != http.StatusUnauthorized {
		t.Fatalf("expired token = %d, want 401", got)
	}
}
