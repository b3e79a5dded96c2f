package gitstore

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cgi"
	"sort"
	"strings"
	"sync"

	"github.com/go-logr/logr"
)

// Handler serves the repositories over git's smart HTTP protocol (v0, v1
// and v2) at /{owner}/{repo}.git/info/refs, /git-upload-pack and
// /git-receive-pack; the ".git" suffix is optional, as on GitHub. Mount it
// under a prefix with http.StripPrefix.
//
// auth decides whether the request may read (clone, fetch) or, with write
// set, push; nil allows everything. It gets the request untouched, so it can read Basic
// credentials (GitHub's convention: any user name, the token as password).
// A refused request gets 401 with a WWW-Authenticate: Basic challenge, so
// the git CLI asks its credential helper and go-git reports
// ErrAuthenticationRequired. Unknown repositories are 404 after auth, so
// that nothing is revealed to a client that may not read them.
//
// A push holds the repository's write lock for the whole receive-pack, so
// it never interleaves with API writes such as CommitFiles or Merge. The
// ref updates are computed by comparing the refs before and after. onPush
// (if not nil) is then called with them, synchronously, after the lock is
// released and before ServeHTTP returns: the response body is written but
// the response is not complete, so a pushing client returns only after
// onPush has returned. It is not called when the push changed nothing. Its
// context carries the request's values but is not cancelled when the client
// goes away. Neither auth nor onPush runs under a store lock, so both may
// call the Store and take locks of their own.
//
// The protocol itself is git's own `git http-backend` run as a CGI
// program, so every feature and edge of the protocol behaves as with git
// behind a web server: protocol v2, shallow and partial clones, push
// options, atomic pushes, chunked and gzip-encoded request bodies.
func (s *Store) Handler(auth func(r *http.Request, owner, repo string, write bool) bool, onPush func(ctx context.Context, owner, repo string, updates []RefUpdate)) http.Handler {
	return &gitHandler{s: s, auth: auth, onPush: onPush}
}

type gitHandler struct {
	s      *Store
	auth   func(r *http.Request, owner, repo string, write bool) bool
	onPush func(ctx context.Context, owner, repo string, updates []RefUpdate)
}

const (
	serviceUpload  = "git-upload-pack"
	serviceReceive = "git-receive-pack"
)

func (h *gitHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	owner, name, tail, ok := splitGitPath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	var service string
	switch tail {
	case "info/refs":
		service = r.URL.Query().Get("service")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
	case serviceUpload, serviceReceive:
		service = tail
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
	}
	if service != serviceUpload && service != serviceReceive {
		// Only the smart protocol is served.
		http.Error(w, "smart HTTP protocol required", http.StatusForbidden)
		return
	}
	write := service == serviceReceive
	if h.auth != nil && !h.auth(r, owner, name, write) {
		w.Header().Set("WWW-Authenticate", `Basic realm="bowline sandbox"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	if !write || tail == "info/refs" {
		// Reading, or advertising refs before a push: receive-pack checks
		// the advertised old values when it updates, so no lock is needed
		// beyond keeping the repository in place.
		rp, release, err := h.s.read(owner, name)
		if err != nil {
			http.Error(w, "repository not found", http.StatusNotFound)
			return
		}
		defer release()
		h.serveCGI(w, r, rp.name, tail)
		return
	}
	updates, ok := h.receive(w, r, owner, name, tail)
	if ok && len(updates) > 0 && h.onPush != nil {
		h.onPush(context.WithoutCancel(r.Context()), owner, name, updates)
	}
}

// receive runs receive-pack under the repository's write lock and returns
// the ref updates it made.
func (h *gitHandler) receive(w http.ResponseWriter, r *http.Request, owner, name, tail string) ([]RefUpdate, bool) {
	rp, release, err := h.s.write(owner, name)
	if err != nil {
		http.Error(w, "repository not found", http.StatusNotFound)
		return nil, false
	}
	defer release()
	ctx := context.WithoutCancel(r.Context())
	before, err := rp.listRefs(ctx, "")
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return nil, false
	}
	h.serveCGI(w, r, rp.name, tail)
	after, err := rp.listRefs(ctx, "")
	if err != nil {
		logr.FromContextOrDiscard(r.Context()).Error(err, "Cannot list refs after push", "repo", rp.name)
		return nil, false
	}
	return refUpdates(before, after), true
}

// refUpdates lists the differences between two ref snapshots, sorted by ref.
func refUpdates(before, after map[string]string) []RefUpdate {
	var updates []RefUpdate
	for ref, old := range before {
		if n := after[ref]; n != old {
			updates = append(updates, RefUpdate{Ref: ref, Old: old, New: n})
		}
	}
	for ref, n := range after {
		if _, ok := before[ref]; !ok {
			updates = append(updates, RefUpdate{Ref: ref, New: n})
		}
	}
	sort.Slice(updates, func(i, j int) bool { return updates[i].Ref < updates[j].Ref })
	return updates
}

// splitGitPath splits /{owner}/{repo}[.git]/{tail}.
func splitGitPath(p string) (owner, name, tail string, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 3)
	if len(parts) != 3 {
		return "", "", "", false
	}
	owner, name, tail = parts[0], strings.TrimSuffix(parts[1], ".git"), parts[2]
	if !validOwner(owner) || !validName(name) {
		return "", "", "", false
	}
	switch tail {
	case "info/refs", serviceUpload, serviceReceive:
		return owner, name, tail, true
	}
	return "", "", "", false
}

// serveCGI hands the request to git http-backend for repository
// owner/name ("owner/name"), addressed by its canonical path.
func (h *gitHandler) serveCGI(w http.ResponseWriter, r *http.Request, repoName, tail string) {
	req := r.Clone(r.Context())
	req.URL.Path = "/" + repoName + ".git/" + tail
	req.URL.RawPath = ""
	// The credentials stay out of the CGI environment.
	req.Header.Del("Authorization")
	env := append([]string{
		"GIT_PROJECT_ROOT=" + h.s.root,
		"GIT_HTTP_EXPORT_ALL=1",
	}, h.s.env...)
	if p := r.Header.Get("Git-Protocol"); p != "" {
		env = append(env, "GIT_PROTOCOL="+p)
	}
	var stderr limitedBuffer
	cgiHandler := &cgi.Handler{
		Path:   h.s.gitPath,
		Args:   []string{"http-backend"},
		Dir:    h.s.root,
		Env:    env,
		Stderr: &stderr,
	}
	cgiHandler.ServeHTTP(w, req)
	if msg := strings.TrimSpace(stderr.String()); msg != "" {
		logr.FromContextOrDiscard(r.Context()).Info("Git http-backend wrote to stderr", "repo", repoName, "service", tail, "stderr", msg)
	}
}

// limitedBuffer keeps the first maxStderr bytes written to it. The CGI
// handler writes from its own goroutine, hence the lock.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxStderr - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
