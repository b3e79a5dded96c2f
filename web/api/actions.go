package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// The actions on a run (rerun, abort) are served twice: as JSON here, for
// callers that send their GitHub token, and as forms by the web UI, for
// users logged in with GitHub. Both ask the same questions through the
// methods below, so that deck.rerun_auth_configs has one implementation.

// ActionError is why an action on a run was refused; Code is the HTTP
// status that says so (401 no login, 403 not allowed, 404 no such run, 409
// not possible in the run's state, 501 not served, 502 GitHub did not
// answer).
type ActionError struct {
	Code int
	Msg  string
}

func (e *ActionError) Error() string { return e.Msg }

// ActionCode is the HTTP status of an action's error: the ActionError's
// code, 500 for anything else.
func ActionCode(err error) int {
	if ae, ok := errors.AsType[*ActionError](err); ok {
		return ae.Code
	}
	return http.StatusInternalServerError
}

// Run reads one run in full, as the API serves it: a run outside the
// served namespace, or of a hidden job or repository, is not found
// (ActionError 404).
func (h *Handler) Run(ctx context.Context, key client.ObjectKey) (*v1alpha1.ProwJob, error) {
	reader := h.APIReader
	if reader == nil {
		reader = h.Client
	}
	cfg := h.config()
	notFound := &ActionError{Code: http.StatusNotFound, Msg: fmt.Sprintf("ProwJob %s not found", key)}
	if cfg.Namespace != "" && key.Namespace != cfg.Namespace {
		return nil, notFound
	}
	pj := &v1alpha1.ProwJob{}
	if err := reader.Get(ctx, key, pj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, notFound
		}
		return nil, fmt.Errorf("read ProwJob %s: %w", key, err)
	}
	if cfg.hidden(pj) {
		return nil, notFound
	}
	pj.ManagedFields = nil
	return pj, nil
}

// Hidden reports whether a run is never shown: its job is hidden, or it
// tests a repository of deck.hidden_repos.
func (h *Handler) Hidden(pj *v1alpha1.ProwJob) bool { return h.config().hidden(pj) }

// AnyoneMay reports whether rerun_auth_configs (or the job's own
// rerun_auth_config) let anyone, logged in or not, rerun and abort pj.
func (h *Handler) AnyoneMay(pj *v1alpha1.ProwJob) bool {
	deck := h.config().rerunAuth(pj)
	return allowsAnyone(&deck) || allowsAnyone(pj.Spec.RerunAuthConfig)
}

// Authorize says whether login (empty: nobody logged in) may rerun and
// abort pj, by Deck's rules: nil when allowed, an ActionError otherwise.
func (h *Handler) Authorize(ctx context.Context, pj *v1alpha1.ProwJob, login string) error {
	if h.Rerun == nil {
		return &ActionError{Code: http.StatusNotImplemented, Msg: "this server does not rerun or abort jobs: it has no GitHub credentials"}
	}
	if h.AnyoneMay(pj) {
		return nil
	}
	if login == "" {
		return &ActionError{Code: http.StatusUnauthorized, Msg: "log in with GitHub to rerun or abort " + pj.Spec.Job}
	}
	deck := h.config().rerunAuth(pj)
	allowed, err := h.Rerun.allowed(ctx, login, pj, &deck)
	if err != nil {
		return &ActionError{Code: http.StatusBadGateway, Msg: "cannot check the rerun permissions with GitHub"}
	}
	if !allowed {
		return &ActionError{Code: http.StatusForbidden, Msg: fmt.Sprintf("%s may not rerun or abort %s: see deck.rerun_auth_configs", login, pj.Spec.Job)}
	}
	return nil
}

// RerunAs starts pj again for login, who must be authorized; the new run
// records who asked for it.
func (h *Handler) RerunAs(ctx context.Context, pj *v1alpha1.ProwJob, login string) (*v1alpha1.ProwJob, error) {
	if err := h.Authorize(ctx, pj, login); err != nil {
		return nil, err
	}
	rerun := h.Rerun.newRun(pj, login)
	if err := h.Rerun.Creator.Create(ctx, rerun); err != nil {
		return nil, fmt.Errorf("create the rerun of %s: %w", pj.Name, err)
	}
	return rerun, nil
}

// AbortAs aborts a run that has not finished, for login, who must be
// authorized: its state becomes aborted, and the jobs controller stops it.
func (h *Handler) AbortAs(ctx context.Context, pj *v1alpha1.ProwJob, login string) error {
	if err := h.Authorize(ctx, pj, login); err != nil {
		return err
	}
	if h.Rerun.Status == nil {
		return &ActionError{Code: http.StatusNotImplemented, Msg: "this server does not abort jobs"}
	}
	if pj.Complete() || pj.Status.State == v1alpha1.AbortedState {
		return &ActionError{Code: http.StatusConflict, Msg: fmt.Sprintf("the run has already ended (%s)", state(pj))}
	}
	orig := pj.DeepCopy()
	pj.Status.State = v1alpha1.AbortedState
	pj.Status.Description = "Aborted from the web UI."
	if login != "" {
		pj.Status.Description = "Aborted by " + login + " from the web UI."
	}
	// The patch carries the resourceVersion: a run that ended meanwhile is
	// not turned into an aborted one.
	if err := h.Rerun.Status.Status().Patch(ctx, pj, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsConflict(err) {
			return &ActionError{Code: http.StatusConflict, Msg: "the run changed meanwhile: look again before aborting it"}
		}
		return fmt.Errorf("abort ProwJob %s: %w", pj.Name, err)
	}
	return nil
}

// abort handles POST /api/prowjobs/{namespace}/{name}/abort: 401 without
// credentials (unless anyone may), 403 for a user the rerun settings do
// not name, 409 for a run that has ended, 204 once aborted.
func (h *Handler) abort(w http.ResponseWriter, r *http.Request) {
	pj, login, ok := h.actor(w, r)
	if !ok {
		return
	}
	if err := h.AbortAs(r.Context(), pj, login); err != nil {
		writeActionError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// actor reads the run a request names and who sends it: the owner of the
// GitHub token in Authorization, asked only when the run's settings do not
// let anyone act. It answers errors itself.
func (h *Handler) actor(w http.ResponseWriter, r *http.Request) (*v1alpha1.ProwJob, string, bool) {
	if h.Rerun == nil {
		writeError(w, http.StatusNotImplemented, "this server does not rerun or abort jobs")
		return nil, "", false
	}
	pj, ok := h.prowJob(w, r)
	if !ok || h.AnyoneMay(pj) {
		return pj, "", ok
	}
	token := bearer(r.Header.Get("Authorization"))
	if token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="GitHub token"`)
		writeError(w, http.StatusUnauthorized, "send your GitHub token as Authorization: Bearer <token> to rerun or abort a job")
		return nil, "", false
	}
	login, err := h.Rerun.Identify(r.Context(), token)
	if err != nil || login == "" {
		writeError(w, http.StatusUnauthorized, "the GitHub token was not accepted")
		return nil, "", false
	}
	return pj, login, true
}

func writeActionError(w http.ResponseWriter, err error) {
	code := ActionCode(err)
	msg := err.Error()
	if code == http.StatusInternalServerError {
		msg = "the action failed"
	}
	writeError(w, code, msg)
}

// Runs lists the runs the API serves (those of the served namespace, hidden
// ones left out) that keep accepts, newest first. They are the cache's own
// objects, not copies: callers must not change them.
func (h *Handler) Runs(ctx context.Context, keep func(*v1alpha1.ProwJob) bool) ([]*v1alpha1.ProwJob, error) {
	cfg := h.config()
	var list v1alpha1.ProwJobList
	if err := h.Client.List(ctx, &list, client.InNamespace(cfg.Namespace), client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("list ProwJobs: %w", err)
	}
	out := make([]*v1alpha1.ProwJob, 0, len(list.Items))
	for i := range list.Items {
		if pj := &list.Items[i]; !cfg.hidden(pj) && (keep == nil || keep(pj)) {
			out = append(out, pj)
		}
	}
	slices.SortFunc(out, func(a, b *v1alpha1.ProwJob) int {
		if c := started(b).Compare(started(a)); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}

// HiddenRepo reports whether deck.hidden_repos hides org/repo.
func (h *Handler) HiddenRepo(org, repo string) bool {
	return h.config().hidden(&v1alpha1.ProwJob{Spec: v1alpha1.ProwJobSpec{Refs: &v1alpha1.Refs{Org: org, Repo: repo}}})
}
