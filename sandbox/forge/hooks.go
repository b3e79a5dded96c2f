package forge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/google/go-github/v89/github"
)

// Repository and organization webhooks share everything but where the
// hooks live and who may manage them (repository admins, org owners).

// hookScope is the list of hooks a request addresses.
type hookScope struct {
	repo *repo
	org  *org
}

func (hs hookScope) list() *[]*hook {
	if hs.repo != nil {
		return &hs.repo.Hooks
	}
	return &hs.org.Hooks
}

func (hs hookScope) find(id int64) *hook {
	for _, h := range *hs.list() {
		if h.ID == id {
			return h
		}
	}
	return nil
}

// hookScopeFor resolves the request's repository or org and requires admin
// rights on it.
func (c *call) hookScopeFor(s *state) (hookScope, error) {
	if c.param("repo") != "" {
		r, err := c.repoFor(s, permAdmin)
		return hookScope{repo: r}, err
	}
	o := s.org(c.param("org"))
	if o == nil {
		return hookScope{}, errNotFound()
	}
	if s.orgRole(c.who, o) != "admin" {
		return hookScope{}, errNotFound()
	}
	return hookScope{org: o}, nil
}

func (f *Forge) hookJSON(r *repo, o *org, h *hook) *github.Hook {
	base, typ := "", "Repository"
	if r != nil {
		base = f.repoAPI(r, "hooks", fmt.Sprint(h.ID))
	} else {
		base, typ = f.apiURL("orgs", o.Login, "hooks", fmt.Sprint(h.ID)), "Organization"
	}
	cfg := &github.HookConfig{URL: github.Ptr(h.URL), ContentType: github.Ptr(h.ContentType),
		InsecureSSL: github.Ptr(h.InsecureSSL)}
	if h.Secret != "" {
		cfg.Secret = github.Ptr("********")
	}
	return &github.Hook{ID: github.Ptr(h.ID), Type: github.Ptr(typ), Name: github.Ptr("web"),
		Active: github.Ptr(h.Active), Events: h.Events, Config: cfg,
		CreatedAt: ts(h.Created), UpdatedAt: ts(h.Updated), URL: github.Ptr(base),
		PingURL: github.Ptr(base + "/pings"), TestURL: github.Ptr(base + "/test")}
}

func (hs hookScope) render(f *Forge, h *hook) *github.Hook { return f.hookJSON(hs.repo, hs.org, h) }

func (f *Forge) listHooks(c *call) error {
	var out []*github.Hook
	err := f.read(func(s *state) error {
		hs, err := c.hookScopeFor(s)
		if err != nil {
			return err
		}
		out = []*github.Hook{}
		for _, h := range *hs.list() {
			out = append(out, hs.render(f, h))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func (f *Forge) getHook(c *call) error {
	id, err := c.int64Param("id")
	if err != nil {
		return err
	}
	var out *github.Hook
	err = f.read(func(s *state) error {
		hs, err := c.hookScopeFor(s)
		if err != nil {
			return err
		}
		h := hs.find(id)
		if h == nil {
			return errNotFound()
		}
		out = hs.render(f, h)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

type hookRequest struct {
	Name         string             `json:"name"`
	Config       *github.HookConfig `json:"config"`
	Events       []string           `json:"events"`
	AddEvents    []string           `json:"add_events"`
	RemoveEvents []string           `json:"remove_events"`
	Active       *bool              `json:"active"`
}

func validHookURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func (f *Forge) createHook(c *call) error {
	var req hookRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Config == nil || req.Config.URL == nil || !validHookURL(*req.Config.URL) {
		return errInvalid("Hook", "config.url", "invalid")
	}
	var out *github.Hook
	err := f.write(func(t *tx) error {
		hs, err := c.hookScopeFor(t.state)
		if err != nil {
			return err
		}
		h := &hook{ID: t.id(), URL: *req.Config.URL, ContentType: "form", Events: []string{"push"},
			Active: true, Created: t.now, Updated: t.now}
		applyHookConfig(h, req.Config)
		if req.Events != nil {
			h.Events = req.Events
		}
		if req.Active != nil {
			h.Active = *req.Active
		}
		*hs.list() = append(*hs.list(), h)
		out = hs.render(f, h)
		t.pingEvent(hs.repo, hs.org, h, c.who.login)
		return nil
	})
	if err != nil {
		return err
	}
	return c.created(out)
}

func applyHookConfig(h *hook, cfg *github.HookConfig) {
	if cfg == nil {
		return
	}
	if cfg.URL != nil {
		h.URL = *cfg.URL
	}
	if cfg.ContentType != nil {
		h.ContentType = *cfg.ContentType
	}
	if cfg.Secret != nil {
		h.Secret = *cfg.Secret
	}
	if cfg.InsecureSSL != nil {
		h.InsecureSSL = *cfg.InsecureSSL
	}
}

func (f *Forge) editHook(c *call) error {
	id, err := c.int64Param("id")
	if err != nil {
		return err
	}
	var req hookRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Config != nil && req.Config.URL != nil && !validHookURL(*req.Config.URL) {
		return errInvalid("Hook", "config.url", "invalid")
	}
	var out *github.Hook
	err = f.write(func(t *tx) error {
		hs, err := c.hookScopeFor(t.state)
		if err != nil {
			return err
		}
		h := hs.find(id)
		if h == nil {
			return errNotFound()
		}
		applyHookConfig(h, req.Config)
		if req.Events != nil {
			h.Events = req.Events
		}
		h.Events = addAll(h.Events, req.AddEvents)
		h.Events = removeAll(h.Events, req.RemoveEvents)
		if req.Active != nil {
			h.Active = *req.Active
		}
		h.Updated = t.now
		out = hs.render(f, h)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) deleteHook(c *call) error {
	id, err := c.int64Param("id")
	if err != nil {
		return err
	}
	err = f.write(func(t *tx) error {
		hs, err := c.hookScopeFor(t.state)
		if err != nil {
			return err
		}
		list := hs.list()
		for i, h := range *list {
			if h.ID == id {
				*list = append((*list)[:i], (*list)[i+1:]...)
				return nil
			}
		}
		return errNotFound()
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

func (f *Forge) pingHook(c *call) error {
	id, err := c.int64Param("id")
	if err != nil {
		return err
	}
	err = f.write(func(t *tx) error {
		hs, err := c.hookScopeFor(t.state)
		if err != nil {
			return err
		}
		h := hs.find(id)
		if h == nil {
			return errNotFound()
		}
		t.pingEvent(hs.repo, hs.org, h, c.who.login)
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

func deliveryJSON(dl *delivery, full bool) *github.HookDelivery {
	out := &github.HookDelivery{ID: github.Ptr(dl.ID), GUID: github.Ptr(dl.GUID),
		DeliveredAt: ts(dl.Delivered), Redelivery: github.Ptr(dl.Redelivery),
		Duration: github.Ptr(dl.Duration.Seconds()), Status: github.Ptr(dl.Status),
		StatusCode: github.Ptr(dl.StatusCode), Event: github.Ptr(dl.Event), Action: github.Ptr(dl.Action)}
	if dl.Status == "" {
		out.Status = github.Ptr("pending")
	}
	if dl.InstID != 0 {
		out.InstallationID = github.Ptr(dl.InstID)
	}
	if dl.RepoID != 0 {
		out.RepositoryID = github.Ptr(dl.RepoID)
	}
	if full {
		payload := json.RawMessage(dl.Body)
		out.Request = &github.HookRequest{Headers: dl.Headers, RawPayload: &payload}
		respBody, _ := json.Marshal(dl.RespBody)
		resp := json.RawMessage(respBody)
		out.Response = &github.HookResponse{Headers: dl.RespHeaders, RawPayload: &resp}
	}
	return out
}

// hookTargetFor checks the caller may manage the hook and copies what a
// redelivery needs.
func (f *Forge) hookTargetFor(c *call, id int64) (hookTarget, error) {
	var tg hookTarget
	err := f.read(func(s *state) error {
		hs, err := c.hookScopeFor(s)
		if err != nil {
			return err
		}
		h := hs.find(id)
		if h == nil {
			return errNotFound()
		}
		tg = hookTarget{id: h.ID, url: h.URL, secret: h.Secret, contentType: h.ContentType}
		if hs.repo != nil {
			tg.kind, tg.targetID = "repository", hs.repo.ID
		} else {
			tg.kind, tg.targetID = "organization", hs.org.ID
		}
		return nil
	})
	return tg, err
}

func (f *Forge) listDeliveries(c *call) error {
	id, err := c.int64Param("id")
	if err != nil {
		return err
	}
	if _, err := f.hookTargetFor(c, id); err != nil {
		return err
	}
	out := []*github.HookDelivery{}
	for _, dl := range f.hooks.deliveries(id) {
		out = append(out, deliveryJSON(dl, false))
	}
	return c.ok(paginate(c, out))
}

func (f *Forge) getDelivery(c *call) error {
	id, err := c.int64Param("id")
	if err != nil {
		return err
	}
	did, err := c.int64Param("delivery")
	if err != nil {
		return err
	}
	if _, err := f.hookTargetFor(c, id); err != nil {
		return err
	}
	dl := f.hooks.find(id, did)
	if dl == nil {
		return errNotFound()
	}
	return c.ok(deliveryJSON(dl, true))
}

func (f *Forge) redeliver(c *call) error {
	id, err := c.int64Param("id")
	if err != nil {
		return err
	}
	did, err := c.int64Param("delivery")
	if err != nil {
		return err
	}
	tg, err := f.hookTargetFor(c, id)
	if err != nil {
		return err
	}
	dl := f.hooks.find(id, did)
	if dl == nil {
		return errNotFound()
	}
	tg.instID = dl.InstID
	f.hooks.redeliver(dl, tg)
	return c.json(http.StatusAccepted, map[string]any{})
}

func addAll(list, add []string) []string {
	for _, a := range add {
		if !contains(list, a) {
			list = append(list, a)
		}
	}
	return list
}

func removeAll(list, remove []string) []string {
	out := list[:0:0]
	for _, l := range list {
		if !contains(remove, l) {
			out = append(out, l)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func containsFold(list []string, s string) bool {
	for _, l := range list {
		if key(l) == key(s) {
			return true
		}
	}
	return false
}
