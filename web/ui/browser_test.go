package ui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/automation/plugin"

	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	"github.com/bowline-ci/bowline/test/envtest"
)

// chromium finds a Chromium to drive: $CHROMIUM, else Debian's chromium
// (which `make test` installs when it can), else another build of it.
func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserTab starts a headless Chromium for one test, with a profile of its
// own, and returns a tab.
func browserTab(t *testing.T, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	tab, tcancel := chromedp.NewContext(actx)
	t.Cleanup(tcancel)
	return tab
}

// do runs browser steps; on failure it saves a screenshot next to the test
// binary's temporary files and names it.
func do(t *testing.T, tab context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tab, steps...); err != nil {
		shot := filepath.Join(os.TempDir(), "bowline-ui-"+strings.ReplaceAll(t.Name(), "/", "-")+".png")
		if png, serr := chromedp.Run(tab, chromedp.FullScreenshot(80)); serr == nil {
			_ = os.WriteFile(shot, png, 0o644)
		}
		loc, _ := chromedp.Run(tab, chromedp.Location())
		body, _ := chromedp.Run(tab, chromedp.Evaluate[string]("document.body ? document.body.innerText.slice(0, 2000) : ''"))
		t.Fatalf("%s: %v\nat %s (screenshot %s)\n%s", what, err, loc, shot, body)
	}
}

// follow clicks what leads to another page and waits until it has loaded
// (a wait on the page itself would not survive the navigation).
func follow(sel string) chromedp.Action[chromedp.Void] {
	return loads(chromedp.Click(chromedp.CSS(sel)))
}

// choose picks an option of a select, as a user does (input and change
// events): the page's script applies the filter, which loads a page.
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	return loads(chromedp.SetValue(chromedp.CSS(sel), value))
}

// loads runs an action that loads a page and waits until it has.
func loads(a chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		loaded := chromedp.Events(ctx, page.LoadEventFired)
		if _, err := a(ctx, t); err != nil {
			return chromedp.Void{}, err
		}
		for _, err := range loaded {
			return chromedp.Void{}, err
		}
		return chromedp.Void{}, ctx.Err()
	}
}

// until waits for a JavaScript condition on the current page.
func until(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second))
}

// TestBrowser drives a real Chromium through the UI: the runs page and its
// filters, its live update when a run starts, a run's log streaming while
// the job writes it, an artifact, and rerunning: refused without a login,
// done after logging in through the forge's OAuth pages.
func TestBrowser(t *testing.T) {
	path := chromium()
	if path == "" {
		t.Skip("no Chromium to run the browser test: `make test` installs Debian's chromium package when it runs as root; " +
			"otherwise install chromium, or point $CHROMIUM at a Chromium or Chrome binary")
	}
	fg := forgetest.Start(t, authSeed)
	f := newFixture(t, withLogin(fg), func(f *fixture) {
		// Live updates come from a ProwJob informer, as in the operator.
		mgr := env.Manager(t, f.ns)
		b := &Broker{Hidden: f.api.Hidden, MinInterval: 100 * time.Millisecond, ListInterval: 100 * time.Millisecond}
		inf, err := mgr.GetCache().GetInformer(context.Background(), &v1alpha1.ProwJob{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inf.AddEventHandler(b); err != nil {
			t.Fatal(err)
		}
		envtest.Run(t, mgr)
		if !mgr.GetCache().WaitForCacheSync(context.Background()) {
			t.Fatal("cache not synced")
		}
		f.ui.Events = b
		t.Cleanup(b.Close)
	})
	// The browser goes first at the end (cleanups run last to first): its
	// open streams would hold the server's Close.
	tab := browserTab(t, path)
	now := time.Now()
	done := f.create(runSpec{name: "done", job: "unit-test", pull: 7, author: "alice", sha: "aaaa1111", state: v1alpha1.FailureState,
		buildID: "10", started: now.Add(-2 * time.Hour), took: 2 * time.Minute})
	f.write(done, "build-log.txt", "\x1b[32mPASS\x1b[0m TestIgnition\n\x1b[31mFAIL\x1b[0m TestThrust\n")
	f.write(done, "artifacts/report.txt", "thrust: 3 kN\n")
	f.create(runSpec{name: "build", job: "build-main", state: v1alpha1.SuccessState, buildID: "11", started: now.Add(-time.Hour), took: time.Minute})
	live := f.create(runSpec{name: "live", job: "e2e", pull: 8, author: "bob", sha: "bbbb2222", state: v1alpha1.PendingState,
		buildID: "12", started: now.Add(-time.Minute)})
	f.write(live, "build-log.txt", "starting\n")
	base := f.srv.URL

	// The runs page, then a filter chosen from a select (the script applies
	// it at once).
	do(t, tab, "runs page",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#runs-summary")),
		until(`document.querySelector("#runs-summary").textContent.includes("of 3")`),
		choose("#f-state", "failure"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/runs/`+f.ns+`/done"]`)),
		until(`location.search.includes("state=failure") && document.querySelector("#runs-summary").textContent.includes("1–1 of 1")`),
	)
	// A text filter with the button, as from a keyboard.
	do(t, tab, "job filter",
		chromedp.Navigate(base+"/"),
		chromedp.SendKeys(chromedp.CSS("#f-job"), "build"),
		follow("#apply"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/runs/`+f.ns+`/build"]`)),
		until(`location.search.includes("job=build") && !document.querySelector('a[href="/runs/`+f.ns+`/done"]')`),
	)

	// The list updates itself when a run starts.
	do(t, tab, "runs page before a new run", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#pause")))
	f.create(runSpec{name: "fresh", job: "lint", state: v1alpha1.PendingState, buildID: "13"})
	do(t, tab, "live update", until(`!!document.querySelector('a[href="/runs/`+f.ns+`/fresh"]')`))

	// Open the running run from the list; its log streams in as the job
	// writes it, until the run ends.
	do(t, tab, "open the running run",
		follow(`a.job[href="/runs/`+f.ns+`/live"]`),
		chromedp.WaitVisible(chromedp.CSS("#log")),
		until(`document.querySelector("#L1") && document.querySelector("#L1").textContent.includes("starting")`),
	)
	f.write(live, "build-log.txt", "starting\nbuilding \x1b[1mrocket\x1b[0m\n")
	do(t, tab, "second line streamed", until(`document.querySelector("#L2") && document.querySelector("#L2 .bo") && document.querySelector("#L2").textContent.includes("building rocket")`))
	f.write(live, "build-log.txt", "starting\nbuilding \x1b[1mrocket\x1b[0m\nlaunched\n")
	do(t, tab, "third line streamed", until(`document.querySelector("#L3") && document.querySelector("#L3").textContent.includes("launched")`))
	ended := live.DeepCopy()
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(live), ended); err != nil {
		t.Fatal(err)
	}
	ended.Status.State = v1alpha1.SuccessState
	ended.Status.CompletionTime = ended.Status.StartTime.DeepCopy()
	f.write(live, "build-log.txt", "starting\nbuilding \x1b[1mrocket\x1b[0m\nlaunched\ndone, no newline")
	if err := env.Client.Status().Update(context.Background(), ended); err != nil {
		t.Fatal(err)
	}
	do(t, tab, "the run ends",
		until(`document.querySelector("#log").dataset.complete === "true" && document.querySelector("#L4") && document.querySelector("#L4").textContent.includes("done, no newline")`),
		until(`document.querySelector("#run-header .state").textContent.includes("success") && document.querySelector("#log-status").textContent.includes("ended")`),
	)

	// An artifact, through the files of the run.
	do(t, tab, "artifact",
		chromedp.Navigate(base+"/runs/"+f.ns+"/done"),
		chromedp.WaitVisible(chromedp.CSS("#L2")),
		until(`document.querySelector("#L2 .f1") && document.querySelector("#L2 .f1").textContent === "FAIL"`),
		follow("#artifacts-link"),
		follow(`a[href="/runs/`+f.ns+`/done/artifacts/artifacts/"]`),
		follow(`a[href$="/artifacts/artifacts/report.txt"]`),
		until(`location.pathname.endsWith("/artifacts/artifacts/report.txt") && document.body && document.body.innerText.includes("thrust: 3 kN")`),
	)

	// Rerun: refused to an anonymous user.
	do(t, tab, "anonymous rerun",
		chromedp.Navigate(base+"/runs/"+f.ns+"/done"),
		chromedp.WaitVisible(chromedp.CSS("#rerun")),
		follow("#rerun"),
		until(`document.querySelector("h1") && document.querySelector("h1").textContent.includes("401")`),
	)
	if n := reruns(t, f); n != 0 {
		t.Fatalf("%d reruns after an anonymous try", n)
	}
	// Log in through the forge's OAuth pages, come back to the run, rerun.
	do(t, tab, "login",
		chromedp.Navigate(base+"/runs/"+f.ns+"/done"),
		chromedp.WaitVisible(chromedp.CSS("#login")),
		follow("#login"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#login"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#token"), "alice-token"),
		follow("#authorize"),
		chromedp.WaitVisible(chromedp.CSS("#user")),
		until(`document.querySelector("#user").textContent === "alice" && location.pathname === "/runs/`+f.ns+`/done"`),
	)
	do(t, tab, "rerun as alice",
		follow("#rerun"),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
		until(`document.querySelector(".notice").textContent.includes("started from the web UI") && location.pathname !== "/runs/`+f.ns+`/done"`),
	)
	if n := reruns(t, f); n != 1 {
		t.Errorf("%d reruns after alice's, want 1", n)
	}
}

func reruns(t *testing.T, f *fixture) int {
	t.Helper()
	var list v1alpha1.ProwJobList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(f.ns), client.MatchingLabels{v1alpha1.RerunLabel: "true"}); err != nil {
		t.Fatal(err)
	}
	return len(list.Items)
}

// a11yProblems lists what the page gets wrong of the rules every page
// keeps: a language, a main landmark, one h1, every form control labelled,
// every link and button named, and, at a phone's width, nothing wider than
// the screen (tables and logs scroll inside their own boxes).
const a11yProblems = `(() => {
  const bad = [];
  if (!document.documentElement.lang) bad.push("no lang");
  if (!document.querySelector("main")) bad.push("no main landmark");
  if (!document.querySelector("header nav[aria-label]")) bad.push("no labelled navigation");
  const h1 = document.querySelectorAll("h1").length;
  if (h1 !== 1) bad.push(h1 + " h1");
  document.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(e => {
    if (!(e.id && document.querySelector('label[for="' + e.id + '"]')) && !e.closest("label") && !e.getAttribute("aria-label"))
      bad.push("unlabelled control " + (e.id || e.name));
  });
  document.querySelectorAll("a, button").forEach(e => {
    if (!e.textContent.trim() && !e.getAttribute("aria-label")) bad.push("unnamed " + e.tagName + " " + (e.getAttribute("href") || e.id));
  });
  if (document.documentElement.scrollWidth > window.innerWidth + 1)
    bad.push("the page is " + document.documentElement.scrollWidth + "px wide in a " + window.innerWidth + "px window");
  return bad.join("; ");
})()`

// TestBrowserPages checks every kind of page in Chromium, on a desktop and
// on a phone's screen, against a11yProblems, and that the keyboard reaches
// the skip link first.
func TestBrowserPages(t *testing.T) {
	path := chromium()
	if path == "" {
		t.Skip("no Chromium to run the browser test: `make test` installs Debian's chromium package when it runs as root; " +
			"otherwise install chromium, or point $CHROMIUM at a Chromium or Chrome binary")
	}
	fg := forgetest.Start(t, authSeed)
	help := &plugin.ProwHelp{RepoPlugins: map[string][]string{"": {"hold"}, "acme": {"hold"}},
		PluginHelp: map[string]plugin.ProwPluginHelp{"hold": {Description: "Holds merges.", Snippet: "plugins:\n  acme: [hold]",
			Commands: []plugin.ProwCommand{{Usage: "/hold [cancel]", Description: "Adds the `do-not-merge/hold` label.", WhoCanUse: "Anyone", Examples: []string{"/hold"}}}}}}
	f := newFixture(t, withLogin(fg), func(f *fixture) {
		f.ui.PluginHelp = func(context.Context) (*plugin.ProwHelp, error) { return help, nil }
		f.ui.ConfigRepository = types.NamespacedName{Namespace: f.ns, Name: "config"}
	})
	now := time.Now()
	for i, st := range []v1alpha1.ProwJobState{v1alpha1.SuccessState, v1alpha1.FailureState, v1alpha1.PendingState} {
		pj := f.create(runSpec{name: fmt.Sprintf("r%d", i), job: "pull-rocket-unit-tests-with-a-long-name", pull: 7, author: "alice",
			sha: "aaaa1111bbbb2222", state: st, buildID: fmt.Sprint(i + 1), started: now.Add(time.Duration(-i) * time.Hour), took: time.Minute})
		f.write(pj, "build-log.txt", strings.Repeat("a very long line of output that does not wrap by itself "+
			strings.Repeat("x", 300)+"\n", 3))
		f.write(pj, "artifacts/junit.xml", junitXML)
	}
	f.pool("acme", "rocket", "main", v1alpha1.MergePoolStatus{Action: v1alpha1.MergeActionWait,
		PullRequests: []v1alpha1.PoolPullRequest{{Number: 7, Title: "Make it fly", State: v1alpha1.PoolPRPending, Reason: "Not mergeable. Job unit has not succeeded."}}})
	tab := browserTab(t, path)
	pages := []string{"/", "/runs/" + f.ns + "/r1", "/runs/" + f.ns + "/r1/artifacts/", "/pr/acme/rocket/7", "/pr",
		"/job-history/pull-rocket-unit-tests-with-a-long-name", "/command-help", "/plugins", "/config-status", "/merge-pools", "/nowhere"}
	for _, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 900}, {"phone", 390, 844}} {
		do(t, tab, "viewport", chromedp.EmulateViewport(size.w, size.h))
		for _, p := range pages {
			do(t, tab, "open "+p, chromedp.Navigate(f.srv.URL+p), chromedp.WaitReady(chromedp.CSS("footer")))
			problems, err := chromedp.Run(tab, chromedp.Evaluate[string](a11yProblems))
			if err != nil {
				t.Fatal(err)
			}
			if problems != "" {
				t.Errorf("%s on a %s: %s", p, size.name, problems)
			}
		}
	}
	// The keyboard's first stop is the skip link, which leads to the
	// content.
	do(t, tab, "keyboard",
		chromedp.Navigate(f.srv.URL+"/"),
		chromedp.WaitReady(chromedp.CSS("footer")),
		chromedp.KeyEvent(kb.Tab),
		until(`document.activeElement && document.activeElement.classList.contains("skip")`),
		chromedp.KeyEvent(kb.Enter),
		until(`location.hash === "#main"`),
	)
}
