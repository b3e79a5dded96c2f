package forge

import (
	"sort"

	"github.com/google/go-github/v89/github"
)

var statusStates = map[string]bool{"error": true, "failure": true, "pending": true, "success": true}

func (f *Forge) statusJSON(s *state, r *repo, sha string, st *status) *github.RepoStatus {
	return &github.RepoStatus{ID: github.Ptr(st.ID), NodeID: nodeID("SC", st.ID),
		URL:   github.Ptr(f.repoAPI(r, "statuses", sha)),
		State: github.Ptr(st.State), Context: github.Ptr(st.Context),
		Description: github.Ptr(st.Description), TargetURL: github.Ptr(st.TargetURL),
		Creator: f.userJSON(s, st.Creator), CreatedAt: ts(st.Created), UpdatedAt: ts(st.Updated)}
}

func (f *Forge) createStatus(c *call) error {
	var req struct {
		State       string `json:"state"`
		TargetURL   string `json:"target_url"`
		Description string `json:"description"`
		Context     string `json:"context"`
	}
	if err := c.decode(&req); err != nil {
		return err
	}
	if !statusStates[req.State] {
		return errInvalid("Status", "state", "custom")
	}
	if req.Context == "" {
		req.Context = "default"
	}
	var out *github.RepoStatus
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permWrite)
		if err != nil {
			return err
		}
		sha, err := f.git.ResolveRef(c.r.Context(), r.Owner, r.Name, c.param("sha"))
		if err != nil {
			return errInvalidMsg("No commit found for SHA: " + c.param("sha"))
		}
		st := &status{ID: t.id(), State: req.State, Context: req.Context, Description: req.Description,
			TargetURL: req.TargetURL, Creator: t.accountLogin(c.who.login), Created: t.now, Updated: t.now}
		r.Statuses[sha] = append(r.Statuses[sha], st)
		t.statusEvent(r, sha, st)
		out = f.statusJSON(t.state, r, sha, st)
		return nil
	})
	if err != nil {
		return err
	}
	return c.created(out)
}

// refSHA resolves the {ref} of a commits/{ref}/... path.
func (f *Forge) refSHA(c *call, r *repo) (string, error) {
	sha, err := f.git.ResolveRef(c.r.Context(), r.Owner, r.Name, c.param("ref"))
	if err != nil {
		return "", errInvalidMsg("No commit found for SHA: " + c.param("ref"))
	}
	return sha, nil
}

func (f *Forge) listStatuses(c *call) error {
	var out []*github.RepoStatus
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		sha, err := f.refSHA(c, r)
		if err != nil {
			return err
		}
		list := r.Statuses[sha]
		out = []*github.RepoStatus{}
		for n := len(list) - 1; n >= 0; n-- {
			out = append(out, f.statusJSON(s, r, sha, list[n]))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

// latestStatuses keeps the newest status of each context, by context.
func latestStatuses(list []*status) []*status {
	latest := map[string]*status{}
	for _, st := range list {
		latest[st.Context] = st
	}
	out := make([]*status, 0, len(latest))
	for _, st := range latest {
		out = append(out, st)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Context < out[b].Context })
	return out
}

// combinedState is GitHub's combined status: failure if any context failed
// or errored, pending if any is pending or there are none, else success.
func combinedState(list []*status) string {
	if len(list) == 0 {
		return "pending"
	}
	st := "success"
	for _, s := range list {
		switch s.State {
		case "error", "failure":
			return "failure"
		case "pending":
			st = "pending"
		}
	}
	return st
}

func (f *Forge) combinedStatus(c *call) error {
	var out *github.CombinedStatus
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		sha, err := f.refSHA(c, r)
		if err != nil {
			return err
		}
		latest := latestStatuses(r.Statuses[sha])
		out = &github.CombinedStatus{State: github.Ptr(combinedState(latest)), SHA: github.Ptr(sha),
			Name: github.Ptr(r.fullName()), TotalCount: github.Ptr(len(latest)),
			CommitURL:     github.Ptr(f.repoAPI(r, "commits", sha)),
			RepositoryURL: github.Ptr(f.repoAPI(r)), Statuses: []*github.RepoStatus{}}
		for _, st := range paginate(c, latest) {
			out.Statuses = append(out.Statuses, f.statusJSON(s, r, sha, st))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}
