package automation

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/go-logr/logr"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/scm/webhook"
)

// ExternalPlugin is one entry of plugins.yaml's external_plugins: a plugin
// served over HTTP that receives the webhooks of the repositories it is
// listed for.
type ExternalPlugin struct {
	// Name names it in logs and metrics.
	Name string
	// Endpoint is where deliveries are POSTed (default http://<name>).
	Endpoint string
	// Events are the event types it receives; empty means all.
	Events []string
}

// ExternalPlugins is implemented by an enablement that knows
// external_plugins (PluginsFromSnapshot's does).
type ExternalPlugins interface {
	// ExternalPluginsFor lists the external plugins of org/repo: the org's
	// entry followed by the repository's, as Prow's hook merges them.
	ExternalPluginsFor(org, repo string) []ExternalPlugin
}

// forwardedHeaders are the request headers an external plugin receives, as
// GitHub sent them: Prow's hook passes on the original request's headers,
// so that the plugin checks the same signature with the same secret.
var forwardedHeaders = []string{
	webhook.HeaderEvent, webhook.HeaderDelivery, webhook.HeaderSignature, "X-Hub-Signature",
	"Content-Type", "User-Agent",
	"X-GitHub-Hook-ID", "X-GitHub-Hook-Installation-Target-ID", "X-GitHub-Hook-Installation-Target-Type",
}

// externalsFor lists the external plugins that want an event: listed for
// its org or repository, and either naming its type or no type at all.
func externalsFor(en plugin.Enablement, org, repo, eventType string) []ExternalPlugin {
	src, ok := en.(ExternalPlugins)
	if !ok || org == "" {
		return nil
	}
	var out []ExternalPlugin
	for _, ep := range src.ExternalPluginsFor(org, repo) {
		if len(ep.Events) == 0 || slices.Contains(ep.Events, eventType) {
			out = append(out, ep)
		}
	}
	return out
}

// forward is an external plugin handling one delivery: it POSTs the body
// GitHub sent, with GitHub's headers, to the plugin's endpoint. As a
// plugin.Plugin it gets the server's retries, timeout and metrics.
type forward struct {
	ExternalPlugin
	client *http.Client
	body   []byte
	header http.Header
}

func (f forward) Name() string      { return "external/" + f.ExternalPlugin.Name }
func (f forward) Events() []string  { return nil }
func (f forward) Help() plugin.Help { return plugin.Help{} }

// Handle posts the delivery. A 2xx answer is success; 4xx is not retried;
// anything else (5xx, no answer) is.
func (f forward) Handle(ctx context.Context, _ logr.Logger, _ *plugin.Event) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.Endpoint, bytes.NewReader(f.body))
	if err != nil {
		return plugin.Permanent(fmt.Errorf("external plugin %s: %w", f.ExternalPlugin.Name, err))
	}
	req.Header = f.header.Clone()
	resp, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("external plugin %s: %w", f.ExternalPlugin.Name, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests:
		return plugin.Permanent(fmt.Errorf("external plugin %s answered %s", f.ExternalPlugin.Name, resp.Status))
	}
	return fmt.Errorf("external plugin %s answered %s", f.ExternalPlugin.Name, resp.Status)
}

// forwarded keeps what external plugins need of a delivery: its body and
// headers as GitHub sent them.
type forwarded struct {
	body   []byte
	header http.Header
}

func forwardedOf(r *http.Request, body []byte) *forwarded {
	h := http.Header{}
	for _, k := range forwardedHeaders {
		if v := r.Header.Values(k); len(v) > 0 {
			h[http.CanonicalHeaderKey(k)] = slices.Clone(v)
		}
	}
	return &forwarded{body: body, header: h}
}
