package configpush_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/automation"
	"github.com/bowline-ci/bowline/automation/configpush"
	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

var env *envtest.Env

func TestMain(m *testing.M) { envtest.Main(m, &env) }

func TestNormalizeURL(t *testing.T) {
	const want = "github.com/acme/config"
	tests := []struct {
		in, want string
	}{
		{"https://github.com/acme/config", want},
		{"https://github.com/acme/config.git", want},
		{"https://github.com/Acme/Config/", want},
		{"http://github.com/acme/config", want},
		{"https://token:secret@github.com/acme/config.git", want},
		{"ssh://git@github.com/acme/config.git", want},
		{"ssh://git@github.com:22/acme/config", want},
		{"git@github.com:acme/config.git", want},
		{"git://github.com/acme/config.git", want},
		{"https://api.github.com/repos/acme/config", want},
		{"https://github.example.com/acme/config", "github.example.com/acme/config"},
		{"file:///srv/config", ""},
		{"/srv/config", ""},
		{"", ""},
		{"not a url", ""},
	}
	for _, tc := range tests {
		if got := configpush.NormalizeURL(tc.in); got != tc.want {
			t.Errorf("NormalizeURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

type noPlugins struct{}

func (noPlugins) Enablement() plugin.Enablement { return nil }

type done struct {
	plugin.Plugin
	ch chan error
}

func (d done) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	err := d.Plugin.Handle(ctx, log, ev)
	d.ch <- err
	return err
}

// TestPushRequestsReconcile pushes to a config repository on the sandbox
// forge and checks that exactly the ConfigRepositories following that
// repository and branch are annotated.
func TestPushRequestsReconcile(t *testing.T) {
	ctx := t.Context()
	ns := env.Namespace(t)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	h := done{Plugin: configpush.New(env.Client, func() time.Time { return now }), ch: make(chan error, 10)}
	srv, err := automation.NewServer(automation.DefaultOptions(), automation.Deps{
		Always: []plugin.Plugin{h}, Enablement: noPlugins{},
		Secrets: automation.Secrets{"*": {[]byte("s")}}, Log: testr.New(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(c)
	})
	seed, err := forge.ParseSeed(fmt.Appendf(nil, `
users: [{login: alice}]
orgs: [{login: acme, admins: [alice]}]
repos:
- name: acme/config
  files: {config.yaml: "{}\n"}
  hooks: [{url: "%s", secret: s}]
`, hs.URL+automation.HookPath))
	if err != nil {
		t.Fatal(err)
	}
	fg := forgetest.StartSeed(t, seed, forge.Options{})

	mk := func(name, url string, ref *v1alpha1.GitRef) {
		cr := &v1alpha1.ConfigRepository{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: v1alpha1.ConfigRepositorySpec{URL: url, Ref: ref}}
		if err := env.Client.Create(ctx, cr); err != nil {
			t.Fatal(err)
		}
	}
	mk("follows-main", fg.URL+"/acme/config.git", nil)
	mk("follows-main-scp", "git@"+hostOf(fg.URL)+":acme/config", &v1alpha1.GitRef{Branch: "main"})
	mk("follows-release", fg.URL+"/acme/config", &v1alpha1.GitRef{Branch: "release"})
	mk("pinned", fg.URL+"/acme/config", &v1alpha1.GitRef{Commit: "0123456789abcdef0123456789abcdef01234567"})
	mk("other-repo", fg.URL+"/acme/other", nil)

	if _, err := fg.As("alice").Push(ctx, "acme/config", "main", map[string][]byte{"config.yaml": []byte("a: 1\n")}, "change"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.ch:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("push not handled within 30s")
	}
	want := map[string]bool{"follows-main": true, "follows-main-scp": true}
	for _, name := range []string{"follows-main", "follows-main-scp", "follows-release", "pinned", "other-repo"} {
		var cr v1alpha1.ConfigRepository
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &cr); err != nil {
			t.Fatal(err)
		}
		got, ok := cr.Annotations[v1alpha1.ReconcileRequestedAnnotation]
		if ok != want[name] {
			t.Errorf("%s: annotated %v, want %v", name, ok, want[name])
		}
		if ok && got != now.Format(time.RFC3339Nano) {
			t.Errorf("%s: annotation %q", name, got)
		}
	}
}

func hostOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		panic(err)
	}
	return p.Hostname()
}
