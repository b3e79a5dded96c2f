package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"k8s.io/apimachinery/pkg/types"

	"github.com/bowline-ci/bowline/scm/webhook"
)

// Prober checks a serving role's new pods beyond their own readiness.
type Prober interface {
	// Ping sends the hook role's pods, through their Service, a signed
	// ping delivery as GitHub sends one, and reports an error unless it
	// is answered 200.
	Ping(ctx context.Context, service types.NamespacedName) error
}

// Secrets are the webhook secrets a synthetic delivery is signed with.
type Secrets interface {
	// Scopes lists the scopes with secrets: "*", orgs, org/repo names.
	Scopes() []string
	// Secrets returns a scope's secrets ("", "" for "*").
	Secrets(org, repo string) [][]byte
}

// HookPinger is the Prober of the hook role: a signed ping to
// http://<service>.<namespace>.svc/hook, the path GitHub's deliveries take.
type HookPinger struct {
	// Secrets sign the ping, as GitHub signs deliveries.
	Secrets Secrets
	// Client sends it; nil means a client with a 10-second timeout.
	Client *http.Client
	// URL overrides where a Service's hook is reached; nil means the
	// Service's cluster DNS name on port 80.
	URL func(service types.NamespacedName) string
}

// Ping implements Prober.
func (p *HookPinger) Ping(ctx context.Context, svc types.NamespacedName) error {
	body, secret, err := p.payload()
	if err != nil {
		return err
	}
	url := fmt.Sprintf("http://%s.%s.svc/hook", svc.Name, svc.Namespace)
	if p.URL != nil {
		url = p.URL(svc)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.HeaderEvent, "ping")
	req.Header.Set(webhook.HeaderDelivery, "bowline-deploy-"+uuid.NewString())
	req.Header.Set(webhook.HeaderSignature, webhook.Sign(secret, body))
	c := p.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("the signed ping to %s failed: %w", url, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the signed ping to %s was answered %s: %s", url, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// payload is a ping delivery in the shape GitHub sends, for a scope that
// has a secret: the global one when there is one, otherwise an org's or a
// repository's, named in the payload so that the hook picks its secret.
func (p *HookPinger) payload() ([]byte, []byte, error) {
	if p.Secrets == nil {
		return nil, nil, errors.New("no webhook secret to sign a ping with")
	}
	scopes := p.Secrets.Scopes()
	if len(scopes) == 0 {
		return nil, nil, errors.New("no webhook secret to sign a ping with")
	}
	scope := scopes[0]
	ping := map[string]any{
		"zen":     "Keep it logically awesome.",
		"hook_id": 0,
		"hook":    map[string]any{"type": "Organization", "id": 0, "active": true, "events": []string{"*"}, "config": map[string]any{"content_type": "json"}},
	}
	var org, repo string
	switch {
	case scope == "*":
	case strings.Contains(scope, "/"):
		org, repo, _ = strings.Cut(scope, "/")
		ping["repository"] = map[string]any{"name": repo, "full_name": scope, "owner": map[string]any{"login": org}}
	default:
		org = scope
		ping["organization"] = map[string]any{"login": org}
	}
	secrets := p.Secrets.Secrets(org, repo)
	if len(secrets) == 0 {
		return nil, nil, fmt.Errorf("no webhook secret for %s", scope)
	}
	body, err := json.Marshal(ping)
	return body, secrets[0], err
}
