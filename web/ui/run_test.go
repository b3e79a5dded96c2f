package ui

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

const junitXML = `<?xml version="1.0"?>
<testsuites>
  <testsuite name="rocket/engine" tests="3">
    <testcase classname="rocket/engine" name="TestIgnition" time="0.5"/>
    <testcase classname="rocket/engine" name="TestThrust" time="1.25">
      <failure message="thrust too low">engine_test.go:42: got 3 kN, want 5 kN</failure>
    </testcase>
    <testcase classname="rocket/engine" name="TestOptional"><skipped/></testcase>
  </testsuite>
</testsuites>`

// TestRunPage shows a run as Deck's job page does: metadata, refs linked
// to the forge, the log (coloured, numbered, long quiet stretches folded),
// the failed tests, and the run's files.
func TestRunPage(t *testing.T) {
	f := newFixture(t, func(f *fixture) { f.apiCfg.HiddenRepos = []string{"secret"} })
	pj := f.create(runSpec{name: "done", job: "unit-test", pull: 7, author: "alice", sha: "aaaa1111bbbb", state: v1alpha1.FailureState,
		buildID: "42", took: 95 * time.Second})
	var log strings.Builder
	log.WriteString("\x1b[1;32mcloning\x1b[0m <repo>\n")
	for i := range 300 {
		fmt.Fprintf(&log, "step %d ok\n", i)
	}
	log.WriteString("\x1b[31m--- FAIL: TestThrust\x1b[0m\n")
	for i := range 150 {
		fmt.Fprintf(&log, "teardown %d\n", i)
	}
	f.write(pj, "build-log.txt", log.String())
	f.write(pj, "artifacts/junit_engine.xml", junitXML)
	f.write(pj, "artifacts/screens/home.png", "png")
	f.write(pj, "finished.json", `{"passed":false}`)
	f.create(runSpec{name: "hidden", job: "leak", org: "secret", repo: "x", state: v1alpha1.SuccessState, buildID: "1"})

	code, body := f.get("/runs/" + f.ns + "/done")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	contains(t, body,
		// Metadata and refs, linked to the forge under github.link_url.
		`<span class="job">unit-test</span>`, "failure", "1m35s", "<dd>42</dd>",
		`href="https://forge.example/acme/rocket"`, `href="https://forge.example/acme/rocket/pull/7"`,
		`href="https://forge.example/acme/rocket/pull/7/commits/aaaa1111bbbb"`, `href="https://forge.example/alice"`,
		`href="/pr/acme/rocket/7"`, `href="/job-history/unit-test"`,
		// The log: escaped, coloured, numbered, the failure highlighted.
		`<span class="f2 bo">cloning</span> &lt;repo&gt;`, `id="L1"><a href="#L1">1</a>`,
		`<div class="l hl" id="L302"><a href="#L302">302</a><span><span class="f1">--- FAIL: TestThrust</span>`,
		// Quiet stretches folded: lines 11 to 291 (far from the failure, not
		// among the first 10 or the last 100).
		`<summary>Show 281 lines (11–291)</summary>`,
		// Failed tests.
		"3 tests: 1 passed, <strong>1 failed</strong>, 1 skipped.", "TestThrust", "thrust too low", "engine_test.go:42: got 3 kN, want 5 kN",
		// Files.
		`href="/runs/`+f.ns+`/done/artifacts/"`, "4 files</a>",
	)
	lacks(t, body, "TestIgnition</strong>", "Streaming while")
	if strings.Count(body, "<details class=\"fold\">") != 2 {
		// 11–291 before the failure, and 313–352 between it and the
		// last 100 lines.
		t.Errorf("want 2 folds, got %d", strings.Count(body, "<details class=\"fold\">"))
	}

	for _, p := range []string{"/runs/" + f.ns + "/hidden", "/runs/" + f.ns + "/nope", "/runs/other-ns/done"} {
		if code, _ := f.get(p); code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", p, code)
		}
	}
}

// TestLogStream serves a running log a piece at a time, whole lines only,
// numbered on from where the page ended.
func TestLogStream(t *testing.T) {
	f := newFixture(t)
	pj := f.create(runSpec{name: "running", job: "unit", state: v1alpha1.PendingState, buildID: "7"})
	chunk := func(q string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/runs/"+f.ns+"/running/log"+q, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = fmt.Fprint(&b, readAll(t, resp))
		return resp, b.String()
	}

	// No log yet: the page says so and streams from the start.
	_, page := f.get("/runs/" + f.ns + "/running")
	contains(t, page, "No log yet: the run is pending.", `data-offset="0" data-line="1"`, `data-complete="false"`, "Streaming while the run goes on.")
	if resp, body := chunk("?offset=0&line=1"); body != "" || resp.Header.Get("X-Run-Complete") != "false" || resp.Header.Get("X-Next-Offset") != "0" {
		t.Errorf("before any log: %q %v", body, resp.Header)
	}

	// The clone log first, then the build log replaces it.
	f.write(pj, "clone-log.txt", "cloned\n")
	resp, body := chunk("?offset=0&line=1")
	if !strings.Contains(body, `id="L1"`) || resp.Header.Get("X-Log-File") != "clone-log.txt" || resp.Header.Get("X-Next-Offset") != "7" {
		t.Errorf("clone log: %q %v", body, resp.Header)
	}
	f.write(pj, "build-log.txt", "one\ntwo\nthree, half a li")
	resp, body = chunk("?offset=7&line=2&file=clone-log.txt")
	if resp.Header.Get("X-Log-Reset") != "true" || !strings.Contains(body, `id="L2"><a href="#L2">2</a><span>two`) || strings.Contains(body, "half") {
		t.Errorf("build log: %q %v", body, resp.Header)
	}
	if resp.Header.Get("X-Next-Offset") != "8" || resp.Header.Get("X-Next-Line") != "3" {
		t.Errorf("next: offset %s line %s", resp.Header.Get("X-Next-Offset"), resp.Header.Get("X-Next-Line"))
	}

	// The page of a running run shows the whole lines so far and streams
	// on from there.
	_, page = f.get("/runs/" + f.ns + "/running")
	contains(t, page, `data-offset="8" data-line="3" data-file="build-log.txt"`, `id="L2"`)
	lacks(t, page, "half a li", "<details class=\"fold\">")

	// Once the run has ended, the last line comes too.
	pj.Status.State = v1alpha1.SuccessState
	now := pj.Status.StartTime.DeepCopy()
	pj.Status.CompletionTime = now
	if err := env.Client.Status().Update(t.Context(), pj); err != nil {
		t.Fatal(err)
	}
	resp, body = chunk("?offset=8&line=3&file=build-log.txt")
	if !strings.Contains(body, "three, half a li") || resp.Header.Get("X-Run-Complete") != "true" {
		t.Errorf("end: %q %v", body, resp.Header)
	}
	if resp, _ := chunk("?offset=x&line=1"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad offset: %d", resp.StatusCode)
	}
}

// TestArtifactsBrowser lists a run's files a directory at a time; the
// files themselves are the API's, served sandboxed.
func TestArtifactsBrowser(t *testing.T) {
	f := newFixture(t)
	pj := f.create(runSpec{name: "r", job: "unit", state: v1alpha1.SuccessState, buildID: "9"})
	f.write(pj, "build-log.txt", "ok\n")
	f.write(pj, "artifacts/report.html", "<script>alert(1)</script>")
	f.write(pj, "artifacts/logs/a.txt", "a")
	f.write(pj, "artifacts/logs/b.txt", "bb")

	_, body := f.get("/runs/" + f.ns + "/r/artifacts/")
	contains(t, body, `href="/runs/`+f.ns+`/r/artifacts/artifacts/">artifacts/</a>`, "3 files",
		`href="/api/prowjobs/`+f.ns+`/r/artifacts/build-log.txt">build-log.txt</a>`)
	_, body = f.get("/runs/" + f.ns + "/r/artifacts/artifacts/logs/")
	contains(t, body, `href="/api/prowjobs/`+f.ns+`/r/artifacts/artifacts/logs/b.txt">b.txt</a>`, "2 B", `aria-current="page">logs</a>`)
	if code, _ := f.get("/runs/" + f.ns + "/r/artifacts/nothing/"); code != http.StatusNotFound {
		t.Errorf("missing directory: %d", code)
	}
	if code, _ := f.get("/runs/" + f.ns + "/r/artifacts/artifacts/../../x/"); code != http.StatusBadRequest && code != http.StatusNotFound {
		t.Errorf("climbing out: %d", code)
	}
	resp, err := http.Get(f.srv.URL + "/api/prowjobs/" + f.ns + "/r/artifacts/artifacts/report.html")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Security-Policy") != "sandbox" {
		t.Errorf("a job's HTML is served unsandboxed: %v", resp.Header)
	}
}
