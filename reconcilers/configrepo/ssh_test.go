package configrepo

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// sshServer serves the forge's repositories to git over ssh, accepting one
// client key, as a forge's ssh endpoint does.
type sshServer struct {
	addr     string
	hostKey  ssh.PublicKey
	identity []byte // the accepted client's private key, PEM
}

func newSSHServer(t *testing.T, f *forge) *sshServer {
	t.Helper()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	clientPub, clientPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(clientPriv, "")
	if err != nil {
		t.Fatal(err)
	}
	allowed, err := ssh.NewPublicKey(clientPub)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if string(k.Marshal()) == string(allowed.Marshal()) {
			return nil, nil
		}
		return nil, errors.New("unknown key")
	}}
	cfg.AddHostKey(hostSigner)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serveSSH(c, cfg, f.root)
		}
	}()
	return &sshServer{addr: l.Addr().String(), hostKey: hostSigner.PublicKey(), identity: pem.EncodeToMemory(block)}
}

// serveSSH runs git-upload-pack for each exec request of one connection.
func serveSSH(c net.Conn, cfg *ssh.ServerConfig, root string) {
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer ch.Close()
			for req := range creqs {
				if req.Type != "exec" {
					_ = req.Reply(req.Type == "env", nil)
					continue
				}
				var payload struct{ Command string }
				_ = ssh.Unmarshal(req.Payload, &payload)
				service, arg, _ := strings.Cut(payload.Command, " ")
				if service != "git-upload-pack" {
					_ = req.Reply(false, nil)
					return
				}
				_ = req.Reply(true, nil)
				dir := filepath.Join(root, filepath.Clean("/"+strings.Trim(arg, "'\"")))
				cmd := exec.Command("git", "upload-pack", dir)
				cmd.Stdin, cmd.Stdout, cmd.Stderr = ch, ch, ch.Stderr()
				status := uint32(0)
				if err := cmd.Run(); err != nil {
					status = 1
				}
				_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
				return
			}
		}()
	}
}

func (s *sshServer) knownHosts(key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, key)
}

// TestSSH fetches over ssh with the identity and known_hosts of the
// referenced Secret; an unknown host key fails the fetch without stalling.
func TestSSH(t *testing.T) {
	ns := env.Namespace(t)
	f := newForge(t, "")
	sha1 := f.create(t, "config", validConfig("1"))
	srv := newSSHServer(t, f)
	_, otherPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ssh.NewSignerFromKey(otherPriv)
	if err != nil {
		t.Fatal(err)
	}
	newSecret(t, ns, "ssh", map[string]string{"identity": string(srv.identity), "known_hosts": srv.knownHosts(srv.hostKey)})
	newSecret(t, ns, "spoofed", map[string]string{"identity": string(srv.identity), "known_hosts": srv.knownHosts(other.PublicKey())})
	startOperator(t, ns, t.TempDir())
	url := "ssh://git@" + srv.addr + "/" + owner + "/config.git"
	good := newRepo(t, ns, "ssh", url, withSecret("ssh"))
	spoofed := newRepo(t, ns, "spoofed", url, withSecret("spoofed"))

	eventually(t, 30*time.Second, func(g Gomega) { readyAt(g, get(g, good), rev(sha1)) })
	eventually(t, 30*time.Second, func(g Gomega) {
		r := get(g, spoofed)
		ready := condition(r, v1alpha1.ConditionReady)
		g.Expect(ready).NotTo(BeNil())
		g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(ready.Reason).To(Equal(v1alpha1.ReasonFetchFailed))
		g.Expect(ready.Message).To(ContainSubstring("key mismatch"))
		g.Expect(condition(r, v1alpha1.ConditionStalled)).To(BeNil())
		g.Expect(ready.Message).NotTo(ContainSubstring("PRIVATE KEY"))
	})
}
