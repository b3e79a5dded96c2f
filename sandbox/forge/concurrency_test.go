package forge_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-github/v89/github"
)

// TestConcurrentUse runs API calls, pushes and webhook deliveries at once;
// with -race it checks the forge's locking.
func TestConcurrentUse(t *testing.T) {
	fx := setup(t)
	pr := fx.openPR(t, "bob", "topic", map[string]string{"t.txt": "t\n"})
	n := pr.GetNumber()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	c := fx.client(t, "alice-token")
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				var err error
				switch w % 3 {
				case 0:
					_, _, err = c.Issues.CreateComment(fx.ctx, "acme", "widgets", n, &github.IssueComment{Body: github.Ptr(fmt.Sprint(w, i))})
				case 1:
					_, _, err = c.PullRequests.Get(fx.ctx, "acme", "widgets", n)
				case 2:
					_, err = fx.env.As("bob").Push(fx.ctx, "acme/widgets", fmt.Sprintf("b%d", w), map[string][]byte{"f": []byte(fmt.Sprint(i))}, "x")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := fx.env.Forge.Flush(fx.ctx); err != nil {
		t.Fatal(err)
	}
	comments := 0
	for _, d := range fx.hook.Pending() {
		if d.Event == "issue_comment" {
			comments++
		}
	}
	if comments != 10 {
		t.Fatalf("%d issue_comment deliveries, want 10", comments)
	}
}
