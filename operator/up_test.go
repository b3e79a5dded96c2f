package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	ghclient "github.com/bowline-ci/bowline/scm/github"
)

func TestLockDataDir(t *testing.T) {
	dir := t.TempDir()
	first, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockDataDir(dir)
	if err == nil {
		t.Fatal("a second lock of the same data directory succeeded")
	}
	for _, want := range []string{dir, "in use by another bowline up", "--data-dir", "process"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	first.Release()
	again, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again.Release()
}

func TestListenFlagBusy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = listenFlag("--addr", ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "another program is using that address") || !strings.Contains(err.Error(), "pass --addr") {
		t.Fatalf("error %v, want one saying the address is in use and to pass --addr", err)
	}
}

// gitRepo makes a git repository in dir with one commit on branch.
func gitRepo(t *testing.T, dir, branch string) {
	t.Helper()
	run := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "config", "prow"), 0o755); err != nil {
		t.Fatal(err)
	}
	run("init", "--quiet", "--initial-branch="+branch)
	if err := os.WriteFile(filepath.Join(dir, "config", "prow", "config.yaml"), []byte("prowjob_namespace: default\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("add", ".")
	run("commit", "--quiet", "-m", "Config")
}

func TestResolveConfigRepo(t *testing.T) {
	root := t.TempDir()
	master := filepath.Join(root, "master")
	gitRepo(t, master, "master")
	unborn := filepath.Join(root, "unborn")
	if err := os.MkdirAll(unborn, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("git", "init", "--quiet", unborn).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	plain := filepath.Join(root, "plain")
	if err := os.MkdirAll(filepath.Join(plain, "config", "prow"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "file.yaml")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(root, "data")
	forge := forgetest.Start(t, `
users: [{login: alice, token: alice-token}]
orgs: [{login: acme, admins: [alice]}]
repos: [{name: acme/ci-config, files: {config/prow/config.yaml: "plank: {}\n"}}]
`)
	remote := forge.URL + "/acme/ci-config.git"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nobody := "http://" + ln.Addr().String() + "/acme/ci-config.git"
	ln.Close()

	tests := []struct {
		name       string
		repo       string
		branch     string
		wantURL    string
		wantBranch string
		wantMirror bool
		wantErr    []string
	}{
		{name: "missing directory", repo: filepath.Join(root, "nope"), wantErr: []string{"does not exist", "--config-repo"}},
		{name: "a file", repo: file, wantErr: []string{"is a file", "directory"}},
		{name: "repository on master", repo: master, wantURL: master, wantBranch: "master"},
		{name: "file URL", repo: "file://" + master, wantURL: master, wantBranch: "master"},
		{name: "named branch exists", repo: master, branch: "master", wantURL: master, wantBranch: "master"},
		{name: "named branch missing", repo: master, branch: "main", wantErr: []string{"no branch main", "it has master", "--config-branch"}},
		{name: "no commits", repo: unborn, wantErr: []string{"no commits yet", "git commit"}},
		{name: "plain directory is watched", repo: plain, wantURL: filepath.Join(data, "config-dir.git"), wantBranch: "main", wantMirror: true},
		{name: "plain directory has no branches", repo: plain, branch: "release", wantErr: []string{"plain directory", "--config-branch"}},
		{name: "remote", repo: remote, wantURL: remote, wantBranch: "main"},
		{name: "remote branch missing", repo: remote, branch: "prod", wantErr: []string{"has no branch prod (it has main)", "--config-branch"}},
		{name: "remote unreachable", repo: nobody, wantErr: []string{"the config repository " + nobody + " cannot be fetched", "connection refused", "check --config-repo"}},
		{name: "ssh is taken as given", repo: "git@github.com:acme/ci-config.git", branch: "prod", wantURL: "git@github.com:acme/ci-config.git", wantBranch: "prod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &UpOptions{ConfigRepo: tt.repo, ConfigBranch: tt.branch}
			src, err := o.resolveConfigRepo(context.Background(), data)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want one mentioning %q", tt.wantErr)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error spans several lines: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if src.URL != tt.wantURL || src.Branch != tt.wantBranch || (src.mirror != nil) != tt.wantMirror {
				t.Errorf("got %s@%s mirror=%v, want %s@%s mirror=%v", src.URL, src.Branch, src.mirror != nil, tt.wantURL, tt.wantBranch, tt.wantMirror)
			}
		})
	}
}

func TestDirMirror(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	data := filepath.Join(src, ".data") // bowline run from inside the config directory
	write := func(name, content string) {
		p := filepath.Join(src, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("config/prow/config.yaml", "prowjob_namespace: default\n")
	write(".data/etcd/member", "not configuration")
	m := &dirMirror{src: src, gitDir: filepath.Join(data, "config-dir.git"), exclude: data}
	head := func() string {
		out, err := exec.Command("git", "--git-dir", m.gitDir, "rev-parse", "main").Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	files := func() string {
		out, err := exec.Command("git", "--git-dir", m.gitDir, "ls-tree", "-r", "--name-only", "main").Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}

	changed, err := m.sync(ctx)
	if err != nil || !changed {
		t.Fatalf("first sync: changed=%v err=%v, want a commit", changed, err)
	}
	first := head()
	if got := files(); got != "config/prow/config.yaml" {
		t.Errorf("committed %q, want only the configuration (the data directory left out)", got)
	}
	if changed, err := m.sync(ctx); err != nil || changed {
		t.Errorf("sync without changes: changed=%v err=%v, want nothing", changed, err)
	}
	write("config/jobs/a.yaml", "periodics: []\n")
	if changed, err := m.sync(ctx); err != nil || !changed {
		t.Fatalf("sync after a change: changed=%v err=%v, want a commit", changed, err)
	}
	if head() == first {
		t.Error("a changed directory made no new commit")
	}
	// A restart starts with no fingerprint: the same files commit nothing.
	again := &dirMirror{src: src, gitDir: m.gitDir, exclude: data}
	before := head()
	if _, err := again.sync(ctx); err != nil {
		t.Fatal(err)
	}
	if head() != before {
		t.Error("a restart committed unchanged files")
	}
	if entries, err := os.ReadDir(src); err != nil || len(entries) != 2 {
		t.Errorf("the watched directory was written to: %v %v", entries, err)
	}
}

func TestConfigReady(t *testing.T) {
	repo := func(status metav1.ConditionStatus, reason string, gen, observed int64, handled string) *v1alpha1.ConfigRepository {
		r := &v1alpha1.ConfigRepository{ObjectMeta: metav1.ObjectMeta{Generation: gen}}
		r.Spec.URL = "https://example.com/ci.git"
		r.Status.LastHandledReconcileAt = handled
		if reason != "" {
			r.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: status, Reason: reason, Message: "the message", ObservedGeneration: observed}}
		}
		return r
	}
	tests := []struct {
		name    string
		repo    *v1alpha1.ConfigRepository
		wantErr string
	}{
		{name: "no status", repo: repo("", "", 1, 0, ""), wantErr: errNotYet.Error()},
		{name: "ready", repo: repo(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, 1, 1, "t1")},
		{name: "ready before the request was handled", repo: repo(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, 1, 1, "")},
		{name: "ready for an older generation", repo: repo(metav1.ConditionTrue, v1alpha1.ReasonSucceeded, 2, 1, "t1"), wantErr: errNotYet.Error()},
		{name: "a failure of an earlier run", repo: repo(metav1.ConditionFalse, v1alpha1.ReasonFetchFailed, 1, 1, "t0"), wantErr: errNotYet.Error()},
		{name: "fetch failed", repo: repo(metav1.ConditionFalse, v1alpha1.ReasonFetchFailed, 1, 1, "t1"), wantErr: "cannot be fetched: the message"},
		{name: "authentication failed", repo: repo(metav1.ConditionFalse, v1alpha1.ReasonAuthenticationFailed, 1, 1, "t1"), wantErr: "cannot be fetched"},
		{name: "invalid", repo: repo(metav1.ConditionFalse, v1alpha1.ReasonValidationFailed, 1, 1, "t1"), wantErr: "is invalid: the message"},
		{name: "progressing", repo: repo(metav1.ConditionFalse, v1alpha1.ReasonProgressing, 1, 1, "t1"), wantErr: errNotYet.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := configReady(tt.repo, "t1")
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("error %v, want ready", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}

const credentialsSeed = `
users:
- {login: full, token: full-token}
- {login: narrow, token: narrow-token, scopes: [repo]}
- {login: public, token: public-token, scopes: [public_repo, read:org]}
- {login: none, token: none-token, scopes: []}
`

func TestCheckGitHubCredentials(t *testing.T) {
	env := forgetest.Start(t, credentialsSeed)
	src := githubSource{TokenFile: "token.txt", TokenFlag: "--github-token-file"}
	tests := []struct {
		name    string
		token   string
		wantErr []string
	}{
		{name: "default scopes", token: "full-token"},
		{name: "public_repo counts for repo", token: "public-token"},
		{name: "missing read:org", token: "narrow-token", wantErr: []string{"token.txt", "user narrow", "lacks the scopes read:org", "it has: repo"}},
		{name: "no scopes", token: "none-token", wantErr: []string{"lacks the scopes repo, read:org", "it has: none"}},
		{name: "invalid token", token: "wrong", wantErr: []string{"GitHub rejected the token in token.txt", "401", "repo and read:org"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := checkGitHubCredentials(context.Background(), &out, ghclient.Options{BaseURL: env.URL + "/", Token: ghclient.Secret(tt.token)}, src)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error mentioning %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), tt.token) && tt.token != "" {
				t.Errorf("error %q quotes the token", err)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		err = checkGitHubCredentials(context.Background(), &bytes.Buffer{}, ghclient.Options{BaseURL: "http://" + addr + "/", Token: "x", MaxRetries: -1}, src)
		if err == nil || !strings.Contains(err.Error(), "cannot reach GitHub") {
			t.Errorf("error %v, want one saying GitHub cannot be reached", err)
		}
	})
}

func TestVerifyNeedsCredentials(t *testing.T) {
	c, err := ghclient.New(ghclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(context.Background()); err == nil {
		t.Fatal("an anonymous client verified")
	}
}

func TestCheckGitHubAppCredentials(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	full := map[string]string{"contents": "write", "issues": "write", "pull_requests": "write", "statuses": "write", "members": "read", "metadata": "read"}
	tests := []struct {
		name          string
		permissions   map[string]string
		installations []forge.SeedInstallation
		wantErr       []string
	}{
		{name: "enough", permissions: full, installations: []forge.SeedInstallation{{ID: 10, Account: "acme"}}},
		{name: "not installed", permissions: full, wantErr: []string{"not installed"}},
		{name: "lacking", permissions: map[string]string{"contents": "read", "issues": "write", "pull_requests": "write"},
			installations: []forge.SeedInstallation{{ID: 10, Account: "acme"}},
			wantErr:       []string{"on acme: contents: write, members: read, statuses: write"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seed := &forge.Seed{
				Users: []forge.SeedUser{{Login: "alice"}},
				Orgs:  []forge.SeedOrg{{Login: "acme", Admins: []string{"alice"}}},
				Apps: []forge.SeedApp{{ID: 7, Slug: "bowline", Owner: "acme", PublicKey: pubPEM,
					Permissions: tt.permissions, Installations: tt.installations}},
			}
			env := forgetest.StartSeed(t, seed, forge.Options{})
			err := checkGitHubCredentials(context.Background(), &bytes.Buffer{},
				ghclient.Options{BaseURL: env.URL + "/", AppID: 7, AppPrivateKey: ghclient.Secret(priv)}, githubSource{AppKeyFile: "app.pem"})
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not mention %q", err, w)
				}
			}
		})
	}
}
