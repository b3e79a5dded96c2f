package gitstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentPushesAndAPIWrites races pushes (to their own branches and
// to main) against API commits to main, and checks that nothing is lost
// and the repository is sound.
func TestConcurrentPushesAndAPIWrites(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var pushes pushLog
	repoURL := serve(t, s, &pushes)
	seed(t, s, map[string]string{"README.md": "hello\n"})

	const (
		pushers    = 3 // each pushes its own branch, then lands on main
		apiWriters = 2
		commitsPer = 3
	)
	dirs := make([]string, pushers)
	for i := range dirs {
		dirs[i] = filepath.Join(t.TempDir(), "clone")
		mustGit(t, "", "clone", "--quiet", repoURL(writeToken), dirs[i])
	}

	var wg sync.WaitGroup
	errs := make(chan error, pushers+apiWriters)
	for i, dir := range dirs {
		wg.Go(func() { errs <- pushLoop(t, dir, i, commitsPer) })
	}
	for i := range apiWriters {
		wg.Go(func() {
			for j := range commitsPer {
				name := fmt.Sprintf("api-%d-%d.txt", i, j)
				if _, err := s.CommitFiles(ctx, "org", "repo", "main", "", map[string][]byte{name: []byte(name)}, "API "+name, bob); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	// Every commit reached main.
	log, err := s.Log(ctx, "org", "repo", "", "main", 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, c := range log {
		got[c.Message] = true
	}
	for i := range pushers {
		for j := range commitsPer {
			if msg := fmt.Sprintf("Push %d-%d", i, j); !got[msg] {
				t.Errorf("main lacks %q", msg)
			}
		}
	}
	for i := range apiWriters {
		for j := range commitsPer {
			if msg := fmt.Sprintf("API api-%d-%d.txt", i, j); !got[msg] {
				t.Errorf("main lacks %q", msg)
			}
		}
	}
	// Every push to a branch of its own was reported once, each moving the
	// branch from where the previous report left it.
	branchUpdates := 0
	last := map[string]string{}
	for _, call := range pushes.take() {
		for _, u := range call {
			if !strings.HasPrefix(u.Ref, "refs/heads/push-") {
				continue
			}
			branchUpdates++
			if u.Old != last[u.Ref] {
				t.Errorf("%s moved from %q, last reported at %q", u.Ref, u.Old, last[u.Ref])
			}
			last[u.Ref] = u.New
		}
	}
	if branchUpdates != pushers*commitsPer {
		t.Errorf("onPush reported %d updates of push branches, want %d", branchUpdates, pushers*commitsPer)
	}
	if out, err := gitCLI(t, "", "--git-dir="+s.path("org", "repo"), "fsck", "--full", "--strict", "--no-dangling"); err != nil || out != "" {
		t.Errorf("fsck: %v\n%s", err, out)
	}
}

// pushLoop makes commits in a clone, pushing each to its own branch and
// then to main, fetching and rebasing when main moved under it.
func pushLoop(t *testing.T, dir string, id, commits int) error {
	run := func(args ...string) error {
		if out, err := gitCLI(t, dir, args...); err != nil {
			return fmt.Errorf("pusher %d: git %s: %v\n%s", id, strings.Join(args, " "), err, out)
		}
		return nil
	}
	for j := range commits {
		name := fmt.Sprintf("push-%d-%d.txt", id, j)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
			return err
		}
		if err := run("add", name); err != nil {
			return err
		}
		if err := run("commit", "--quiet", "-m", fmt.Sprintf("Push %d-%d", id, j)); err != nil {
			return err
		}
		if err := run("push", "--quiet", "--force", "origin", fmt.Sprintf("HEAD:refs/heads/push-%d", id)); err != nil {
			return err
		}
		for attempt := 0; ; attempt++ {
			if _, err := gitCLI(t, dir, "push", "--quiet", "origin", "HEAD:main"); err == nil {
				break
			} else if attempt == 50 {
				return fmt.Errorf("pusher %d: could not land on main: %v", id, err)
			}
			if err := run("pull", "--quiet", "--rebase", "origin", "main"); err != nil {
				return err
			}
		}
	}
	return nil
}
