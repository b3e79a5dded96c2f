package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/google/uuid"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/jobspec"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Reruns starts a run again, or aborts it, for a user that
// rerun_auth_configs (or the job's own rerun_auth_config) allow, as Deck's
// rerun and abort buttons do. It is the only way the web role starts or
// stops runs.
type Reruns struct {
	// Creator creates the new run.
	Creator interface {
		Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error
	}
	// Identify returns the GitHub login that token belongs to. Users send
	// their own token (Authorization: Bearer <token>); it is used for this
	// one request and never stored or logged.
	Identify func(ctx context.Context, token string) (string, error)
	// Members answers the org and team questions of rerun_auth_configs,
	// with bowline's own GitHub client.
	Members Membership
	// TrustedPullRequest reports whether user may /test the pull request
	// (the trigger plugin's rules: a trusted user, or a pull request
	// labelled ok-to-test). Deck lets whoever may /test a presubmit rerun
	// it; nil turns that off.
	TrustedPullRequest func(ctx context.Context, user, org, repo string, number int) (bool, error)
	// Status patches runs to abort them; nil answers 501 to aborts.
	Status client.StatusClient
	// Now stamps the new run; default time.Now.
	Now func() time.Time
}

// Membership answers who belongs to what on GitHub.
type Membership interface {
	IsOrgMember(ctx context.Context, org, user string) (bool, error)
	IsTeamMember(ctx context.Context, org, slug, user string) (bool, error)
	IsTeamMemberByID(ctx context.Context, org string, id int64, user string) (bool, error)
}

// RerunResult is the answer to a rerun.
type RerunResult struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// By is the login the rerun was allowed for; empty when
	// rerun_auth_configs allow anyone.
	By string `json:"by,omitempty"`
}

// rerun handles POST /api/prowjobs/{namespace}/{name}/rerun: 401 without
// credentials (unless anyone may rerun the job), 403 for a user the rerun
// settings do not name, 201 with the new run otherwise.
func (h *Handler) rerun(w http.ResponseWriter, r *http.Request) {
	pj, login, ok := h.actor(w, r)
	if !ok {
		return
	}
	rerun, err := h.RerunAs(r.Context(), pj, login)
	if err != nil {
		writeActionError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	writeJSONBody(w, RerunResult{Namespace: rerun.Namespace, Name: rerun.Name, By: login})
}

// bearer takes the token from "Bearer <token>" or GitHub's "token <token>".
func bearer(h string) string {
	for _, p := range []string{"Bearer ", "bearer ", "token "} {
		if t, ok := strings.CutPrefix(h, p); ok {
			return strings.TrimSpace(t)
		}
	}
	return ""
}

func allowsAnyone(a *v1alpha1.RerunAuthConfig) bool {
	return a != nil && a.AllowAnyone != nil && *a.AllowAnyone
}

// allowed applies Deck's rules: the deck-level setting for the run's
// repository and cluster, then the job's own, then (presubmits) the
// trigger's trust for the pull request.
func (rr *Reruns) allowed(ctx context.Context, login string, pj *v1alpha1.ProwJob, deck *v1alpha1.RerunAuthConfig) (bool, error) {
	org, repo := repoOf(pj)
	for _, a := range []*v1alpha1.RerunAuthConfig{deck, pj.Spec.RerunAuthConfig} {
		if ok, err := rr.authorized(ctx, a, org, login); ok || err != nil {
			return ok, err
		}
	}
	if rr.TrustedPullRequest != nil && pj.Spec.Type == v1alpha1.PresubmitJob && pj.Spec.Refs != nil && len(pj.Spec.Refs.Pulls) > 0 {
		return rr.TrustedPullRequest(ctx, login, org, repo, int(pj.Spec.Refs.Pulls[0].Number))
	}
	return false, nil
}

// authorized is Prow's RerunAuthConfig.IsAuthorized: anyone, a listed
// user, a member of a listed team (of the run's org, by ID) or team (by
// slug) or org.
func (rr *Reruns) authorized(ctx context.Context, a *v1alpha1.RerunAuthConfig, org, login string) (bool, error) {
	if a == nil {
		return false, nil
	}
	if allowsAnyone(a) || slices.ContainsFunc(a.GitHubUsers, func(u string) bool { return strings.EqualFold(u, login) }) {
		return true, nil
	}
	if rr.Members == nil {
		return false, nil
	}
	for _, id := range a.GitHubTeamIDs {
		if ok, err := rr.Members.IsTeamMemberByID(ctx, org, id, login); ok || err != nil {
			return ok, err
		}
	}
	for _, t := range a.GitHubTeamSlugs {
		if ok, err := rr.Members.IsTeamMember(ctx, t.Org, t.Slug, login); ok || err != nil {
			return ok, err
		}
	}
	for _, o := range a.GitHubOrgs {
		if ok, err := rr.Members.IsOrgMember(ctx, o, login); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// newRun is the rerun of pj: the same spec, its job's labels and
// annotations, Prow's re-run label, and who asked for it.
func (rr *Reruns) newRun(pj *v1alpha1.ProwJob, login string) *v1alpha1.ProwJob {
	labels := map[string]string{}
	for k, v := range pj.Labels {
		if k != v1alpha1.RetestLabel && k != v1alpha1.CreatedByMergeLabel {
			labels[k] = v
		}
	}
	labels[v1alpha1.RerunLabel] = "true"
	annotations := map[string]string{}
	for k, v := range pj.Annotations {
		switch k {
		case v1alpha1.DeliveryAnnotation, v1alpha1.CreatedAtAnnotation, v1alpha1.TriggeredByAnnotation:
		default:
			annotations[k] = v
		}
	}
	if login != "" {
		annotations[v1alpha1.TriggeredByAnnotation] = login
	}
	now := time.Now
	if rr.Now != nil {
		now = rr.Now
	}
	return jobspec.NewRun(pj.Namespace, uuid.NewString(), *pj.Spec.DeepCopy(), labels, annotations, now())
}

// GitHubMembership answers membership questions with an org's client.
type GitHubMembership struct {
	ForOrg func(org string) (*github.Client, error)
}

// IsOrgMember implements Membership.
func (m GitHubMembership) IsOrgMember(ctx context.Context, org, user string) (bool, error) {
	gh, err := m.ForOrg(org)
	if err != nil {
		return false, err
	}
	ok, _, err := gh.Organizations.IsMember(ctx, org, user)
	return ok, err
}

// IsTeamMember implements Membership: an active membership of the team.
func (m GitHubMembership) IsTeamMember(ctx context.Context, org, slug, user string) (bool, error) {
	gh, err := m.ForOrg(org)
	if err != nil {
		return false, err
	}
	ms, resp, err := gh.Teams.GetTeamMembershipBySlug(ctx, org, slug, user)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return ms.GetState() == "active", nil
}

// IsTeamMemberByID implements Membership, finding the team among the
// org's.
func (m GitHubMembership) IsTeamMemberByID(ctx context.Context, org string, id int64, user string) (bool, error) {
	gh, err := m.ForOrg(org)
	if err != nil {
		return false, err
	}
	opts := &github.ListOptions{PerPage: 100}
	for {
		teams, resp, err := gh.Teams.ListTeams(ctx, org, opts)
		if err != nil {
			return false, err
		}
		for _, t := range teams {
			if t.GetID() == id {
				return m.IsTeamMember(ctx, org, t.GetSlug(), user)
			}
		}
		if resp == nil || resp.NextPage == 0 {
			return false, nil
		}
		opts.Page = resp.NextPage
	}
}

// GitHubIdentity finds whose a token is by asking GitHub (GET /user).
type GitHubIdentity struct {
	// BaseURL is GitHub's API, e.g. https://api.github.com/ (the sandbox
	// forge's in tests and bowline up).
	BaseURL string
	// HTTPClient makes the request; default http.DefaultClient.
	HTTPClient *http.Client
}

// Identify returns the login of token's user.
func (g GitHubIdentity) Identify(ctx context.Context, token string) (string, error) {
	hc := g.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	opts := []github.ClientOptionsFunc{github.WithHTTPClient(hc), github.WithAuthToken(token)}
	if g.BaseURL != "" {
		base := g.BaseURL
		opts = append(opts, github.WithURLs(&base, &base))
	}
	gh, err := github.NewClient(opts...)
	if err != nil {
		return "", err
	}
	u, _, err := gh.Users.Get(ctx, "")
	if err != nil {
		return "", errors.New("GitHub did not accept the token")
	}
	return u.GetLogin(), nil
}
