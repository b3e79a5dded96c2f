package clonerefs

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bowline-ci/bowline/podutils"
)

// auth is what git needs to reach private repositories, and what must never
// be shown in the records.
type auth struct {
	token string
	// forge is the base URL (scheme://host[:port]/) the token belongs to:
	// git sends it to that address and nowhere else, so that a submodule
	// or a redirect elsewhere never receives it.
	forge   string
	env     []string
	tempDir string
}

func newAuth(o Options) (*auth, error) {
	a := &auth{env: []string{"GIT_TERMINAL_PROMPT=0"}, forge: forgeURL(o.GitHubHost)}
	if o.OAuthTokenFile != "" {
		b, err := os.ReadFile(o.OAuthTokenFile)
		if err != nil {
			return nil, fmt.Errorf("read the OAuth token file: %w", err)
		}
		a.token = strings.TrimSpace(string(b))
	}
	ssh, err := a.sshCommand(o)
	if err != nil {
		a.cleanup()
		return nil, err
	}
	a.env = append(a.env, "GIT_SSH_COMMAND="+ssh)
	return a, nil
}

// sshCommand is the ssh that git runs. Host keys are always checked, as
// Prow's clonerefs does: against the configured fingerprints when there are
// some, else against ssh's own known hosts files. A host whose key is
// unknown or different is refused, so that a pull request pointing a
// submodule at a host of its choosing, or a network attacker, never gets to
// talk to the keys.
func (a *auth) sshCommand(o Options) (string, error) {
	ssh := []string{"ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"}
	keys, err := keyFiles(o.KeyFiles)
	if err != nil {
		return "", err
	}
	for _, k := range keys {
		ssh = append(ssh, "-i", shellQuote(k))
	}
	if len(keys) > 0 {
		ssh = append(ssh, "-o", "IdentitiesOnly=yes")
	}
	if len(o.HostFingerprints) > 0 {
		dir, err := os.MkdirTemp("", "clonerefs-ssh")
		if err != nil {
			return "", fmt.Errorf("write known hosts: %w", err)
		}
		a.tempDir = dir
		known := filepath.Join(dir, "known_hosts")
		if err := os.WriteFile(known, []byte(strings.Join(o.HostFingerprints, "\n")+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("write known hosts: %w", err)
		}
		ssh = append(ssh, "-o", shellQuote("UserKnownHostsFile="+known), "-o", "GlobalKnownHostsFile=/dev/null")
	}
	return strings.Join(ssh, " "), nil
}

// shellQuote quotes s for the shell git runs GIT_SSH_COMMAND with.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == '=' || r == ':' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// forgeURL is the base URL of the forge host: host may carry a scheme
// (http://127.0.0.1:3000) and defaults to github.com over https.
func forgeURL(host string) string {
	if host == "" {
		host = "github.com"
	}
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	u, err := url.Parse(host)
	if err != nil || u.Host == "" {
		return strings.TrimSuffix(host, "/") + "/"
	}
	return u.Scheme + "://" + u.Host + "/"
}

// keyFiles expands directories (mounted Secrets) into the key files they
// hold, leaving out the hidden entries Kubernetes adds to a Secret volume.
func keyFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("SSH key: %w", err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("SSH keys: %w", err)
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") {
				out = append(out, filepath.Join(p, e.Name()))
			}
		}
	}
	return out, nil
}

func (a *auth) cleanup() {
	if a.tempDir != "" {
		os.RemoveAll(a.tempDir)
	}
}

// censor removes the token, and the header made from it, from text that
// goes into the records.
func (a *auth) censor(s string) string {
	if a.token == "" {
		return s
	}
	s = strings.ReplaceAll(s, a.header(), "CENSORED")
	return strings.ReplaceAll(s, a.token, "CENSORED")
}

// header is the basic-auth credential git sends with the token.
func (a *auth) header() string {
	return base64.StdEncoding.EncodeToString([]byte("x-access-token:" + a.token))
}

// configArgs are the `git -c` settings every command gets. The token goes
// in an HTTP header, not in the remote's address, so that it is written
// neither to .git/FETCH_HEAD nor into error messages; and the header is
// scoped to the forge's URL (http.<url>.extraHeader), so that git sends it
// only there: never to the host of a submodule a pull request adds, nor to
// any other host.
func (a *auth) configArgs() []string {
	if a.token == "" {
		return nil
	}
	return []string{"-c", "http." + a.forge + ".extraHeader=Authorization: Basic " + a.header()}
}

// remote is the address git fetches from: clone_uri, else the repository
// link, else https://<host>/<org>/<repo>.git (<host> may carry its own
// scheme, as the sandbox forge's http://127.0.0.1:3000 does).
func (a *auth) remote(o Options, r podutils.Refs) string {
	addr := r.CloneURI
	if addr == "" && r.RepoLink != "" {
		addr = strings.TrimSuffix(r.RepoLink, "/") + ".git"
	}
	if addr == "" {
		host := o.GitHubHost
		if host == "" {
			host = "github.com"
		}
		if !strings.Contains(host, "://") {
			host = "https://" + host
		}
		addr = fmt.Sprintf("%s/%s/%s.git", strings.TrimSuffix(host, "/"), r.Org, r.Repo)
	}
	return addr
}

// cloner runs the git commands of one refs and records them.
type cloner struct {
	ctx    context.Context
	dir    string
	auth   *auth
	record *Record
}

// git runs one command; on failure the record is marked failed.
func (c *cloner) git(args ...string) (string, error) {
	cmd := exec.CommandContext(c.ctx, "git", append(c.auth.configArgs(), args...)...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), c.auth.env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	rec := Command{
		Command: c.auth.censor("git " + strings.Join(args, " ")),
		Output:  c.auth.censor(out.String()),
	}
	if err != nil {
		rec.Error = c.auth.censor(err.Error())
	}
	c.record.Commands = append(c.record.Commands, rec)
	return out.String(), err
}

// cloneRefs clones one repository, merging its pull requests in order.
func cloneRefs(ctx context.Context, o Options, a *auth, r podutils.Refs) Record {
	start := time.Now()
	rec := Record{Refs: r}
	defer func() { rec.Duration = time.Since(start) }()
	dir := filepath.Join(o.SrcRoot, filepath.FromSlash(r.Path()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		rec.Failed = true
		rec.Commands = append(rec.Commands, Command{Command: "mkdir -p " + dir, Error: err.Error()})
		return rec
	}
	c := &cloner{ctx: ctx, dir: dir, auth: a, record: &rec}
	if err := c.clone(o, r); err != nil {
		rec.Failed = true
		return rec
	}
	sha, err := c.git("rev-parse", "HEAD")
	if err != nil {
		rec.Failed = true
		return rec
	}
	rec.FinalSHA = strings.TrimSpace(sha)
	return rec
}

func (c *cloner) clone(o Options, r podutils.Refs) error {
	remote := c.auth.remote(o, r)
	name, email := o.GitUserName, o.GitUserEmail
	if name == "" {
		name = DefaultGitUserName
	}
	if email == "" {
		email = DefaultGitUserEmail
	}
	steps := [][]string{
		{"init", "--quiet"},
		{"config", "user.name", name},
		{"config", "user.email", email},
	}
	if o.CookiePath != "" {
		steps = append(steps, []string{"config", "http.cookiefile", o.CookiePath})
	}
	var fetch []string
	if r.CloneDepth > 0 {
		fetch = append(fetch, "--depth", strconv.Itoa(r.CloneDepth))
	}
	if r.BloblessFetch {
		fetch = append(fetch, "--filter=blob:none")
	}
	if !r.SkipFetchHead {
		steps = append(steps, append(append([]string{"fetch"}, fetch...), remote, "--tags", "--prune"))
	}
	base := r.BaseRef
	if base == "" {
		base = r.BaseSHA
	}
	steps = append(steps, append(append([]string{"fetch"}, fetch...), remote, base))
	for _, s := range steps {
		if _, err := c.git(s...); err != nil {
			return err
		}
	}

	target := "FETCH_HEAD"
	if r.BaseSHA != "" {
		target = r.BaseSHA
		if _, err := c.git("cat-file", "-e", r.BaseSHA+"^{commit}"); err != nil {
			// Not reachable from the fetched branch (a shallow clone, or the
			// branch moved on): ask for the commit itself.
			if _, err := c.git(append(append([]string{"fetch"}, fetch...), remote, r.BaseSHA)...); err != nil {
				return err
			}
		}
	}
	if len(r.SparseCheckoutFiles) > 0 {
		if _, err := c.git(append([]string{"sparse-checkout", "set", "--no-cone"}, r.SparseCheckoutFiles...)...); err != nil {
			return err
		}
	}
	checkout := [][]string{{"checkout", "--quiet", target}}
	if r.BaseRef != "" {
		checkout = append(checkout,
			[]string{"branch", "--force", r.BaseRef, target},
			[]string{"checkout", "--quiet", r.BaseRef})
	}
	for _, s := range checkout {
		if _, err := c.git(s...); err != nil {
			return err
		}
	}

	if err := c.mergePulls(remote, r); err != nil {
		return err
	}

	if !r.SkipSubmodules {
		if _, err := os.Stat(filepath.Join(c.dir, ".gitmodules")); err == nil {
			if _, err := c.git("submodule", "update", "--init", "--recursive"); err != nil {
				return err
			}
		}
	}
	return nil
}

// mergePulls fetches each pull request and merges it, in order, with a
// merge commit; a conflict leaves the tree clean and fails the clone.
func (c *cloner) mergePulls(remote string, r podutils.Refs) error {
	for _, p := range r.Pulls {
		ref := p.Ref
		if ref == "" {
			ref = fmt.Sprintf("pull/%d/head", p.Number)
		}
		if _, err := c.git("fetch", remote, ref); err != nil {
			return err
		}
		head := p.SHA
		if head == "" {
			head = "FETCH_HEAD"
		}
		msg := fmt.Sprintf("Merge #%d (%s) into %s", p.Number, shortSHA(p.SHA), r.BaseRef)
		if _, err := c.git("merge", "--no-ff", "--no-stat", "-m", msg, head); err != nil {
			// Leave a clean tree behind; the record already says why.
			_, _ = c.git("merge", "--abort")
			return err
		}
	}
	return nil
}

func shortSHA(s string) string {
	if len(s) > 8 {
		return s[:8]
	}
	if s == "" {
		return "head"
	}
	return s
}
