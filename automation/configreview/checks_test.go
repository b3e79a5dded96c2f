package configreview

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge"
	ghclient "github.com/bowline-ci/bowline/scm/github"
)

// TestCheckRunAnnotations: as a GitHub App, bowline also writes a
// bowline/config check run whose annotations put each error and warning on
// its line; planning the same commit again updates the run without adding
// the annotations twice.
func TestCheckRunAnnotations(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	const appID = 77
	fx := newFixture(t, func(s *forge.Seed) {
		s.Apps = []forge.SeedApp{{ID: appID, Slug: "bowline", Owner: s.Orgs[0].Login,
			PublicKey:     string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
			Installations: []forge.SeedInstallation{{ID: 7700, Account: s.Orgs[0].Login}}}}
	}, func(fx *fixture, o *Options) {
		// bowline's own client, authenticated as the App, as the operator
		// runs it with --github-app-id.
		c, err := ghclient.New(ghclient.Options{BaseURL: fx.forge.URL + "/", AppID: appID,
			AppPrivateKey: ghclient.Secret(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))})
		if err != nil {
			t.Fatal(err)
		}
		o.GitHub = func(_ context.Context, org string) (*github.Client, error) { return c.ForOrg(org) }
		o.CheckRuns, o.BotLogin = true, "bowline[bot]"
	})
	files := quickstart(t)
	bad := strings.Replace(files[jobsFile], "    always_run: true\n", "    always_runn: true\n    decorate: true\n", 1)
	n, ev := fx.openPR("bad", map[string]string{jobsFile: bad})
	for range 2 {
		if err := fx.handle(fx.h, ev); err != nil {
			t.Fatal(err)
		}
	}
	head := ev.GetPullRequest().GetHead().GetSHA()
	owner, name, _ := strings.Cut(fx.repo, "/")
	runs, _, err := fx.gh.Checks.ListCheckRunsForRef(fx.ctx, owner, name, head, &github.ListCheckRunsOptions{Filter: github.Ptr("all")})
	if err != nil {
		t.Fatal(err)
	}
	if runs.GetTotal() != 1 {
		t.Fatalf("%d check runs, want 1", runs.GetTotal())
	}
	run := runs.CheckRuns[0]
	if run.GetName() != Context || run.GetConclusion() != "failure" || !strings.HasPrefix(run.GetOutput().GetTitle(), "Refused: 1 error") ||
		!strings.Contains(run.GetOutput().GetSummary(), "bowline plan: refused") {
		t.Fatalf("check run %+v, output %+v", run, run.GetOutput())
	}
	anns, _, err := fx.gh.Checks.ListCheckRunAnnotations(fx.ctx, owner, name, run.GetID(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range anns {
		got = append(got, a.GetAnnotationLevel()+" "+a.GetPath()+":"+strconv.Itoa(a.GetStartLine())+" "+a.GetMessage())
	}
	want := []string{
		"failure " + jobsFile + ":6 unknown field \"always_runn\", did you mean \"always_run\"?",
		"warning " + jobsFile + ":8 key \"decorate\" is given twice in this mapping (first on line 7): this later value wins, as in Prow",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("annotations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The comment is the App's.
	if cs := fx.comments(n); len(cs) != 1 || cs[0].GetUser().GetLogin() != "bowline[bot]" {
		t.Fatalf("plan comments %+v", cs)
	}
}
