package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/scm/webhook"
)

// TestForgeDeliveries reads the forge's signed deliveries with the same
// intake that reads GitHub's, in both content types GitHub offers.
func TestForgeDeliveries(t *testing.T) {
	for _, contentType := range []string{"json", "form"} {
		t.Run(contentType, func(t *testing.T) {
			secret := []byte("hook-secret")
			got := make(chan *webhook.Delivery, 100)
			intake := webhook.Intake{Secrets: func(org, repo string) [][]byte { return [][]byte{secret} }}
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				d, err := intake.Read(r)
				if err != nil {
					t.Errorf("delivery %s rejected: %v", r.Header.Get(webhook.HeaderEvent), err)
					http.Error(w, "rejected", webhook.HTTPStatus(err))
					return
				}
				got <- d
			}))
			t.Cleanup(hook.Close)

			env := forgetest.Start(t, fmt.Sprintf(`
users:
- login: alice
orgs:
- login: acme
  admins: [alice]
  hooks:
  - url: %s
    secret: %s
    contentType: %s
repos:
- name: acme/widgets
  files: {README.md: "# widgets\n"}
`, hook.URL, secret, contentType))
			ctx := context.Background()
			alice := env.As("alice")
			pr, err := alice.OpenPR(ctx, "acme/widgets", forge.PullRequest{
				Title: "Add x", Head: "x", Files: map[string][]byte{"x": []byte("x\n")},
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := alice.Comment(ctx, "acme/widgets", pr.GetNumber(), "/retest"); err != nil {
				t.Fatal(err)
			}

			// Deliveries are asynchronous; wait for the comment, checking
			// each delivery on the way.
			deadline := time.After(30 * time.Second)
			seen := map[string]bool{}
			for !seen["issue_comment"] {
				select {
				case d := <-got:
					seen[d.Event] = true
					if d.ID == "" || d.Org != "acme" || d.Repo != "widgets" {
						t.Errorf("%s delivery: id %q org %q repo %q", d.Event, d.ID, d.Org, d.Repo)
					}
					if d.Event == "issue_comment" {
						ev, ok := d.Parsed.(*github.IssueCommentEvent)
						if !ok || ev.GetComment().GetBody() != "/retest" || d.Action != "created" {
							t.Errorf("issue_comment delivery parsed as %T action %q", d.Parsed, d.Action)
						}
					}
				case <-deadline:
					t.Fatalf("no issue_comment delivery; saw %v", seen)
				}
			}
			if !seen["pull_request"] {
				t.Errorf("no pull_request delivery before the comment; saw %v", seen)
			}
		})
	}
}
