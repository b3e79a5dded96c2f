package configrepo

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-billy/v5/memfs"
	"github.com/go-git/go-billy/v5/util"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"

	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestAuthFor(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	identity := string(pem.EncodeToMemory(block))
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	knownHosts := "example.com " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	secret := func(kv ...string) *corev1.Secret {
		s := &corev1.Secret{Data: map[string][]byte{}}
		for i := 0; i < len(kv); i += 2 {
			s.Data[kv[i]] = []byte(kv[i+1])
		}
		return s
	}
	tests := []struct {
		name    string
		url     string
		secret  *corev1.Secret
		want    string // the auth type, "" for none
		wantErr string
	}{
		{name: "no secret", url: "https://example.com/c.git"},
		{name: "token", url: "https://example.com/c.git", secret: secret("token", "abc\n"), want: "http-basic-auth"},
		{name: "username and password", url: "https://example.com/c.git", secret: secret("username", "u", "password", "p"), want: "http-basic-auth"},
		{name: "https without keys", url: "https://example.com/c.git", secret: secret("username", "u"), wantErr: `"token", or "username" and "password"`},
		{name: "ssh", url: "ssh://git@example.com/c.git", secret: secret("identity", identity, "known_hosts", knownHosts), want: gitssh.PublicKeysName},
		{name: "scp form", url: "git@example.com:org/c.git", secret: secret("identity", identity, "known_hosts", knownHosts), want: gitssh.PublicKeysName},
		{name: "ssh without known_hosts", url: "ssh://git@example.com/c.git", secret: secret("identity", identity), wantErr: `"identity" and "known_hosts"`},
		{name: "token over plain http", url: "http://git.example.com/c.git", secret: secret("token", "abc"), wantErr: "plain http://"},
		{name: "password over plain http", url: "http://10.0.0.8/c.git", secret: secret("username", "u", "password", "p"), wantErr: "plain http://"},
		{name: "token over http to loopback", url: "http://127.0.0.1:3000/c.git", secret: secret("token", "abc"), want: "http-basic-auth"},
		{name: "token over http to localhost", url: "http://localhost:3000/c.git", secret: secret("token", "abc"), want: "http-basic-auth"},
		{name: "token over http to IPv6 loopback", url: "http://[::1]:3000/c.git", secret: secret("token", "abc"), want: "http-basic-auth"},
		{name: "ssh with a bad key", url: "ssh://git@example.com/c.git", secret: secret("identity", "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key\n", "known_hosts", knownHosts), wantErr: "not a usable private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			auth, err := authFor(tt.url, tt.secret, filepath.Join(t.TempDir(), "git", "x.known_hosts"))
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "not-a-key") {
					t.Errorf("error shows the key: %v", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			got := ""
			if auth != nil {
				got = auth.Name()
			}
			if got != tt.want {
				t.Fatalf("auth %q, want %q", got, tt.want)
			}
			if b, ok := auth.(*githttp.BasicAuth); ok && tt.name == "token" && b.Password != "abc" {
				t.Errorf("token %q not trimmed", b.Password)
			}
			if s := fmt.Sprint(auth); strings.Contains(s, "abc") || strings.Contains(s, "PRIVATE") {
				t.Errorf("auth prints a secret: %s", s)
			}
		})
	}
}

func TestMaskURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/c.git", "https://example.com/c.git"},
		{"https://user:s3cret@example.com/c.git", "https://%2A%2A%2A@example.com/c.git"},
		{"https://tok3n@example.com/c.git", "https://%2A%2A%2A@example.com/c.git"},
		{"git@example.com:org/c.git", "git@example.com:org/c.git"},
		{"/srv/git/c.git", "/srv/git/c.git"},
	}
	for _, tt := range tests {
		if got := MaskURL(tt.in); got != tt.want {
			t.Errorf("MaskURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	base := errors.New("boom")
	err := maskError(fmt.Errorf("fetch from %s: %w", "https://u:s3cret@example.com/c.git", base), "https://u:s3cret@example.com/c.git")
	if strings.Contains(err.Error(), "s3cret") || !errors.Is(err, base) {
		t.Errorf("maskError = %q (unwraps to base: %v)", err, errors.Is(err, base))
	}
}

func TestRefName(t *testing.T) {
	tests := []struct {
		ref        *v1alpha1.GitRef
		kind, name string
	}{
		{nil, "branch", "main"},
		{&v1alpha1.GitRef{}, "branch", "main"},
		{&v1alpha1.GitRef{Branch: "release"}, "branch", "release"},
		{&v1alpha1.GitRef{Tag: "v1"}, "tag", "v1"},
		{&v1alpha1.GitRef{Commit: strings.Repeat("a", 40)}, "commit", strings.Repeat("a", 40)},
	}
	for _, tt := range tests {
		kind, name := refName(tt.ref)
		if kind != tt.kind || name != tt.name {
			t.Errorf("refName(%+v) = %s %s, want %s %s", tt.ref, kind, name, tt.kind, tt.name)
		}
	}
}

// commitFiles makes an in-memory repository with one commit of files.
func commitFiles(t *testing.T, files map[string]string) (*git.Repository, *object.Commit) {
	t.Helper()
	fsys := memfs.New()
	repo, err := git.Init(memory.NewStorage(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := util.WriteFile(fsys, name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	sig := &object.Signature{Name: "T", Email: "t@example.com", When: time.Now()}
	h, err := wt.Commit("files", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	c, err := repo.CommitObject(h)
	if err != nil {
		t.Fatal(err)
	}
	return repo, c
}

func TestReadTreeLimits(t *testing.T) {
	files := map[string]string{
		"config/prow/config.yaml": "plank: {}\n",
		"config/jobs/a.yaml":      strings.Repeat("#", 100) + "\n",
		"config/jobs/b.yaml":      "periodics: []\n",
		"config/bowline/a.yaml":   "x: 1\n",
		"config/bowline/b/c.yaml": "x: 2\n",
		"other/big.bin":           strings.Repeat("x", 5000),
	}
	repo, c := commitFiles(t, files)
	paths := []string{"config/prow/config.yaml", "config/jobs"}
	tests := []struct {
		name    string
		limits  Limits
		wantErr string
	}{
		{name: "within the defaults"},
		{name: "too many files", limits: Limits{MaxFiles: 2}, wantErr: "more than 2 files"},
		{name: "a file too large", limits: Limits{MaxFileBytes: 50}, wantErr: "config/jobs/a.yaml: 101 bytes is larger than the 50 bytes"},
		{name: "too many bytes", limits: Limits{MaxBytes: 110}, wantErr: "more than 110 bytes"},
		{name: "files outside the paths do not count", limits: Limits{MaxFiles: 3, MaxBytes: 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys, _, err := readTree(repo, c, paths, nil, tt.limits)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := fs.Stat(fsys, "config/jobs/b.yaml"); err != nil {
					t.Errorf("config/jobs/b.yaml not read: %v", err)
				}
				return
			}
			var tooLarge errTooLarge
			if !errors.As(err, &tooLarge) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want a limit error containing %q", err, tt.wantErr)
			}
		})
	}
	for dir, want := range map[string]int{"config/bowline": 2, "config/prow/config.yaml": 1, "absent": 0} {
		if n, err := countFiles(c, dir); err != nil || n != want {
			t.Errorf("countFiles(%s) = %d, %v; want %d", dir, n, err, want)
		}
	}
}
