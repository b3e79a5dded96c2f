package clonerefs

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/bowline-ci/bowline/podutils"
)

// gitServer serves the bare repositories under its root over git's smart
// HTTP protocol (git http-backend) and records the Authorization header of
// every request it gets.
type gitServer struct {
	*httptest.Server
	root string

	mu    sync.Mutex
	auths []string
	hits  int
}

func newGitServer(t *testing.T) *gitServer {
	t.Helper()
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	s := &gitServer{root: t.TempDir()}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(execPath)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + s.root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits++
		if a := r.Header.Get("Authorization"); a != "" {
			s.auths = append(s.auths, a)
		}
		s.mu.Unlock()
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// publish makes a bare copy of the repository in dir at <root>/<name>.git.
func (s *gitServer) publish(t *testing.T, dir, name string) {
	t.Helper()
	dst := filepath.Join(s.root, name+".git")
	if out, err := exec.Command("git", "clone", "--quiet", "--mirror", dir, dst).CombinedOutput(); err != nil {
		t.Fatalf("publish %s: %v\n%s", name, err, out)
	}
}

func (s *gitServer) seen() (hits int, auths []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits, append([]string(nil), s.auths...)
}

// TestTokenNeverReachesSubmoduleHosts is the attack of a pull request
// whose .gitmodules points at a host of its author's: the clone token must
// reach the forge and nothing else, even though the submodules are cloned.
func TestTokenNeverReachesSubmoduleHosts(t *testing.T) {
	isolateGit(t)
	const token = "ghp-clone-token-s3cr3t"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	forge := newGitServer(t)
	attacker := newGitServer(t)

	// A submodule on the attacker's host, and one on the forge itself.
	sub := newOrigin(t)
	subSHA := sub.git("rev-parse", "HEAD")
	attacker.publish(t, sub.dir, "loot/sub")
	forge.publish(t, sub.dir, "acme/lib")

	o := newOrigin(t)
	o.commit(".gitmodules", fmt.Sprintf("[submodule \"evil\"]\n\tpath = evil\n\turl = %s/loot/sub.git\n"+
		"[submodule \"lib\"]\n\tpath = lib\n\turl = %s/acme/lib.git\n", attacker.URL, forge.URL), "base with submodules")
	o.git("checkout", "--quiet", "-b", "pr1")
	o.git("update-index", "--add", "--cacheinfo", "160000,"+subSHA+",evil")
	o.git("update-index", "--add", "--cacheinfo", "160000,"+subSHA+",lib")
	o.git("commit", "--quiet", "-m", "add submodules")
	head := o.git("rev-parse", "HEAD")
	o.git("update-ref", "refs/pull/1/head", head)
	o.git("checkout", "--quiet", "main")
	forge.publish(t, o.dir, "acme/widgets")

	root := t.TempDir()
	records, err := Run(context.Background(), Options{
		SrcRoot: root, Log: filepath.Join(root, "clone.json"), OAuthTokenFile: tokenFile,
		GitHubHost: forge.URL,
		GitRefs: []podutils.Refs{{Org: "acme", Repo: "widgets", BaseRef: "main",
			Pulls: []podutils.Pull{{Number: 1, SHA: head}}}},
	})
	if err != nil || Failed(records) {
		t.Fatalf("clone: %v\n%s", err, FormatLog(records))
	}
	for _, p := range []string{"evil/a.txt", "lib/a.txt"} {
		if _, err := os.Stat(filepath.Join(root, "src/github.com/acme/widgets", p)); err != nil {
			t.Errorf("submodule file %s not cloned: %v", p, err)
		}
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("x-access-token:"+token))
	hits, auths := attacker.seen()
	if hits == 0 {
		t.Fatal("the attacker's host was never asked: the test proves nothing")
	}
	if len(auths) > 0 {
		t.Errorf("the submodule host received credentials in %d requests", len(auths))
	}
	_, forgeAuths := forge.seen()
	if len(forgeAuths) == 0 {
		t.Error("the forge never received the token")
	}
	for _, a := range forgeAuths {
		if a != want {
			t.Error("the forge received another Authorization header than the token's")
		}
	}
	raw, _ := os.ReadFile(filepath.Join(root, "clone.json"))
	if strings.Contains(string(raw), token) || strings.Contains(string(raw), want[len("Basic "):]) {
		t.Error("the clone records show the token")
	}
}

// sshServer is an SSH server with a host key of its own that records
// whether a client got as far as authenticating, which a client does only
// after it has accepted the host's key.
type sshServer struct {
	addr    string
	hostKey ssh.PublicKey

	mu    sync.Mutex
	auths int
}

func newSSHServer(t *testing.T) *sshServer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	s := &sshServer{hostKey: signer.PublicKey()}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(ssh.ConnMetadata, ssh.PublicKey) (*ssh.Permissions, error) {
			return nil, fmt.Errorf("no access")
		},
		AuthLogCallback: func(ssh.ConnMetadata, string, error) {
			s.mu.Lock()
			s.auths++
			s.mu.Unlock()
		},
	}
	cfg.AddHostKey(signer)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s.addr = l.Addr().String()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				// The handshake fails one way or another; what matters is
				// whether authentication was attempted.
				_, _, _, _ = ssh.NewServerConn(c, cfg)
			}()
		}
	}()
	return s
}

func (s *sshServer) authAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

// knownHostsLine is the server's entry in a known_hosts file.
func (s *sshServer) knownHostsLine(key ssh.PublicKey) string {
	host, port, _ := net.SplitHostPort(s.addr)
	return fmt.Sprintf("[%s]:%s %s", host, port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))))
}

// TestUnknownSSHHostsAreRefused: an SSH host whose key is not known (a
// submodule host of a pull request's choosing, a man in the middle) never
// gets as far as seeing the clone's keys.
func TestUnknownSSHHostsAreRefused(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Fatalf("this test needs the ssh client: %v", err)
	}
	isolateGit(t)
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	_, clientKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(clientKey, "clonerefs test")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	otherKey, _ := ssh.NewSignerFromKey(other)

	tests := []struct {
		name         string
		fingerprints func(*sshServer) []string
		wantAuth     bool
	}{
		{name: "no fingerprints: unknown host", fingerprints: func(*sshServer) []string { return nil }},
		{name: "fingerprints of another key", fingerprints: func(s *sshServer) []string {
			return []string{s.knownHostsLine(otherKey.PublicKey())}
		}},
		{name: "the host's fingerprint", fingerprints: func(s *sshServer) []string {
			return []string{s.knownHostsLine(s.hostKey)}
		}, wantAuth: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSSHServer(t)
			root := t.TempDir()
			records, err := Run(context.Background(), Options{
				SrcRoot: root, Log: filepath.Join(root, "clone.json"),
				KeyFiles: []string{keyFile}, HostFingerprints: tt.fingerprints(srv),
				GitRefs: []podutils.Refs{{Org: "acme", Repo: "widgets", BaseRef: "main",
					CloneURI: "ssh://git@" + srv.addr + "/acme/widgets.git"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			// The server refuses every key, so the clone fails either way.
			if !Failed(records) {
				t.Fatalf("clone succeeded against a server that has no repository:\n%s", FormatLog(records))
			}
			log := FormatLog(records)
			if got := srv.authAttempts() > 0; got != tt.wantAuth {
				t.Errorf("authentication attempted = %v, want %v\n%s", got, tt.wantAuth, log)
			}
			if !tt.wantAuth && !strings.Contains(log, "Host key verification failed") {
				t.Errorf("the clone log does not say the host key was refused:\n%s", log)
			}
		})
	}
}
