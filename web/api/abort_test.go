package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-github/v89/github"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TestAbortAuth aborts runs as Deck's abort button does: with the rerun
// settings deciding who may, and only runs that have not ended.
func TestAbortAuth(t *testing.T) {
	fg := forgetest.Start(t, rerunSeed)
	bot := fg.Client(t, "bot-token")
	deck := []RerunAuthEntry{{OrgRepo: "acme", Auth: v1alpha1.RerunAuthConfig{GitHubUsers: []string{"alice"}}}}
	var ns string
	srv, ns := fixture(t, func(h *Handler) {
		h.Config = func() Config { return Config{Namespace: ns, RerunAuth: deck} }
		h.Rerun = &Reruns{
			Creator:  env.Client,
			Status:   env.Client,
			Identify: GitHubIdentity{BaseURL: fg.URL + "/"}.Identify,
			Members:  GitHubMembership{ForOrg: func(string) (*github.Client, error) { return bot, nil }},
		}
	})
	pending := func(name string) {
		pj := create(t, ns, name, nil)
		pj.Status.State, pj.Status.BuildID = v1alpha1.PendingState, "1"
		if err := env.Client.Status().Update(context.Background(), pj); err != nil {
			t.Fatal(err)
		}
	}
	pending("running")
	pending("running-2")

	tests := []struct {
		name, run, token string
		want             int
		wantState        v1alpha1.ProwJobState
	}{
		{"no token", "running", "", http.StatusUnauthorized, v1alpha1.PendingState},
		{"not allowed", "running", "mallory-token", http.StatusForbidden, v1alpha1.PendingState},
		{"allowed", "running-2", "alice-token", http.StatusNoContent, v1alpha1.AbortedState},
		{"a run that has ended", "post", "alice-token", http.StatusConflict, v1alpha1.SuccessState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/prowjobs/"+ns+"/"+tt.run+"/abort", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			pj := &v1alpha1.ProwJob{}
			if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: tt.run}, pj); err != nil {
				t.Fatal(err)
			}
			if pj.Status.State != tt.wantState {
				t.Errorf("state %s, want %s (%s)", pj.Status.State, tt.wantState, pj.Status.Description)
			}
			if tt.wantState == v1alpha1.AbortedState && pj.Status.Description != "Aborted by alice from the web UI." {
				t.Errorf("description %q", pj.Status.Description)
			}
		})
	}
}
