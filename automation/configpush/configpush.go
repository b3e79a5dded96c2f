// Package configpush asks a ConfigRepository to reconcile when its own
// repository receives a push, so that a merged config change is applied
// within seconds instead of at the next poll. It runs for every push,
// whatever plugins.yaml enables: it is how config changes take effect.
package configpush

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Name is the handler's name in logs and metrics.
const Name = "config-repository-push"

// Client is what the handler needs from the API server.
type Client interface {
	List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error
	Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error
}

// Handler annotates ConfigRepositories whose repository was pushed to.
type Handler struct {
	client Client
	now    func() time.Time
}

// New returns a Handler. now may be nil for time.Now.
func New(c Client, now func() time.Time) *Handler {
	if now == nil {
		now = time.Now
	}
	return &Handler{client: c, now: now}
}

// Name implements plugin.Plugin.
func (h *Handler) Name() string { return Name }

// Events implements plugin.Plugin.
func (h *Handler) Events() []string { return []string{"push"} }

// Help implements plugin.Plugin.
func (h *Handler) Help() plugin.Help {
	return plugin.Help{Description: "Requests a reconcile of every ConfigRepository whose repository and ref receive a push, so that config changes apply within seconds."}
}

// Handle implements plugin.Plugin.
func (h *Handler) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	push, ok := ev.Payload.(*github.PushEvent)
	if !ok {
		return nil
	}
	urls := map[string]bool{}
	r := push.GetRepo()
	for _, u := range []string{r.GetCloneURL(), r.GetHTMLURL(), r.GetSSHURL(), r.GetGitURL(), r.GetURL()} {
		if n := NormalizeURL(u); n != "" {
			urls[n] = true
		}
	}
	var list v1alpha1.ConfigRepositoryList
	if err := h.client.List(ctx, &list); err != nil {
		return fmt.Errorf("list ConfigRepositories: %w", err)
	}
	for i := range list.Items {
		cr := &list.Items[i]
		if !urls[NormalizeURL(cr.Spec.URL)] || !refMatches(cr.Spec.Ref, push.GetRef()) {
			continue
		}
		orig := cr.DeepCopy()
		if cr.Annotations == nil {
			cr.Annotations = map[string]string{}
		}
		cr.Annotations[v1alpha1.ReconcileRequestedAnnotation] = h.now().UTC().Format(time.RFC3339Nano)
		if err := h.client.Patch(ctx, cr, client.MergeFrom(orig)); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("request reconcile of ConfigRepository %s/%s: %w", cr.Namespace, cr.Name, err)
		}
		log.Info("Requested a reconcile after a push", "configRepository", client.ObjectKeyFromObject(cr).String(), "ref", push.GetRef(), "after", push.GetAfter())
	}
	return nil
}

// refMatches says whether a push to ref moves what the ConfigRepository
// follows: its branch (main by default) or tag. A pinned commit never moves.
func refMatches(want *v1alpha1.GitRef, ref string) bool {
	switch {
	case want == nil || (want.Branch == "" && want.Tag == "" && want.Commit == ""):
		return ref == "refs/heads/main"
	case want.Branch != "":
		return ref == "refs/heads/"+want.Branch
	case want.Tag != "":
		return ref == "refs/tags/"+want.Tag
	}
	return false
}

// NormalizeURL reduces the forms of one repository's address to one key,
// "host/owner/repo" in lower case: https://host/owner/repo(.git),
// http://…, ssh://user@host[:port]/owner/repo(.git), user@host:owner/repo(.git)
// and git://host/owner/repo(.git). Credentials and ports are dropped. It
// returns "" for what is not a remote address (file:// and local paths).
func NormalizeURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" || strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "file://") {
		return ""
	}
	var host, path string
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return ""
		}
		host, path = u.Hostname(), u.Path
		// GitHub's API URL of a repository, api.github.com/repos/o/r.
		if strings.HasPrefix(host, "api.") && strings.HasPrefix(path, "/repos/") {
			host, path = strings.TrimPrefix(host, "api."), strings.TrimPrefix(path, "/repos")
		}
	} else {
		at := strings.Index(raw, "@")
		colon := strings.Index(raw, ":")
		if colon < 0 || colon < at {
			return ""
		}
		host, path = raw[at+1:colon], raw[colon+1:]
	}
	path = strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	if host == "" || path == "" {
		return ""
	}
	return strings.ToLower(host + "/" + path)
}
