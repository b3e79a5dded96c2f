package automation

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"sigs.k8s.io/yaml"
)

// SecretSource returns the HMAC secrets a delivery for org/repo may be
// signed with. Any of them validates the delivery.
type SecretSource interface {
	Secrets(org, repo string) [][]byte
}

// Secrets are webhook secrets by scope: "*" (global), "org" or "org/repo".
// The most specific scope that has secrets applies: a repository with its
// own secret is not validated with its org's or the global one.
type Secrets map[string][][]byte

// Secrets implements SecretSource.
func (s Secrets) Secrets(org, repo string) [][]byte {
	if repo != "" {
		if v := s[org+"/"+repo]; len(v) > 0 {
			return v
		}
	}
	if org != "" {
		if v := s[org]; len(v) > 0 {
			return v
		}
	}
	return s["*"]
}

// AllSecrets returns every secret, so that a delivery's signature can be
// computed under each while its body is read.
func (s Secrets) AllSecrets() [][]byte {
	var out [][]byte
	for _, v := range s {
		out = append(out, v...)
	}
	return out
}

// Scopes lists the scopes that have secrets, sorted: "*", orgs and
// org/repo names.
func (s Secrets) Scopes() []string {
	var out []string
	for scope, v := range s {
		if len(v) > 0 {
			out = append(out, scope)
		}
	}
	slices.Sort(out)
	return out
}

type secretEntry struct {
	Value     string    `json:"value"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// ParseSecrets reads a secret file: either a single token (the global
// secret) or Prow's YAML map of scope to [{value, created_at}].
func ParseSecrets(data []byte) (Secrets, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("the HMAC secret file is empty")
	}
	var m map[string][]secretEntry
	if err := yaml.UnmarshalStrict(trimmed, &m); err != nil || len(m) == 0 {
		// Not the map form: the whole file is one global token. The parse
		// error is not returned, as it could quote the token.
		return Secrets{"*": {trimmed}}, nil
	}
	out := Secrets{}
	for scope, entries := range m {
		for i, e := range entries {
			if e.Value == "" {
				return nil, fmt.Errorf("HMAC secret %d of %q has no value", i, scope)
			}
			out[scope] = append(out[scope], []byte(e.Value))
		}
	}
	return out, nil
}

// SecretFile is a SecretSource read from a file, re-read when the file
// changes (a rotated Kubernetes Secret, for one).
type SecretFile struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	secrets Secrets
}

// NewSecretFile reads path.
func NewSecretFile(path string) (*SecretFile, error) {
	f := &SecretFile{path: path}
	if err := f.reload(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *SecretFile) reload() error {
	st, err := os.Stat(f.path)
	if err != nil {
		return fmt.Errorf("read HMAC secret file: %w", err)
	}
	if st.ModTime().Equal(f.modTime) && st.Size() == f.size && f.secrets != nil {
		return nil
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		return fmt.Errorf("read HMAC secret file: %w", err)
	}
	s, err := ParseSecrets(data)
	if err != nil {
		return err
	}
	f.secrets, f.modTime, f.size = s, st.ModTime(), st.Size()
	return nil
}

// AllSecrets returns every secret in the file.
func (f *SecretFile) AllSecrets() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.reload()
	return f.secrets.AllSecrets()
}

// Scopes lists the file's scopes (Secrets.Scopes).
func (f *SecretFile) Scopes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.reload()
	return f.secrets.Scopes()
}

// Secrets implements SecretSource. When the file cannot be re-read, the
// secrets last read stay in use.
func (f *SecretFile) Secrets(org, repo string) [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.reload()
	return f.secrets.Secrets(org, repo)
}
