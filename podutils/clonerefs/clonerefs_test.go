package clonerefs

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bowline-ci/bowline/podutils"
)

// origin is a repository to clone from: main plus pull request refs.
type origin struct {
	t   *testing.T
	dir string
}

func isolateGit(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
}

func newOrigin(t *testing.T) *origin {
	t.Helper()
	isolateGit(t)
	o := &origin{t: t, dir: filepath.Join(t.TempDir(), "origin")}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	o.git("init", "--quiet", "-b", "main")
	o.commit("a.txt", "one\ntwo\nthree\n", "base")
	return o
}

func (o *origin) git(args ...string) string {
	o.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
	cmd.Dir = o.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		o.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (o *origin) commit(file, body, msg string) string {
	o.t.Helper()
	if err := os.WriteFile(filepath.Join(o.dir, file), []byte(body), 0o644); err != nil {
		o.t.Fatal(err)
	}
	o.git("add", file)
	o.git("commit", "--quiet", "-m", msg)
	return o.git("rev-parse", "HEAD")
}

// pull makes refs/pull/<n>/head: one commit on top of main.
func (o *origin) pull(n, file, body string) string {
	o.t.Helper()
	o.git("checkout", "--quiet", "-b", "pr"+n, "main")
	sha := o.commit(file, body, "pull "+n)
	o.git("update-ref", "refs/pull/"+n+"/head", sha)
	o.git("checkout", "--quiet", "main")
	return sha
}

func TestCloneMergesPullsInOrder(t *testing.T) {
	o := newOrigin(t)
	base := o.git("rev-parse", "HEAD")
	sha1 := o.pull("1", "one.txt", "1\n")
	sha2 := o.pull("2", "two.txt", "2\n")
	// main moves on after the run was triggered: base_sha pins the old one.
	o.commit("later.txt", "later\n", "later")

	root := t.TempDir()
	opts := Options{
		SrcRoot: root,
		Log:     filepath.Join(root, "logs", "clone.json"),
		GitRefs: []podutils.Refs{{
			Org: "acme", Repo: "widgets", BaseRef: "main", BaseSHA: base, CloneURI: o.dir,
			Pulls: []podutils.Pull{{Number: 1, SHA: sha1}, {Number: 2, SHA: sha2}},
		}},
	}
	records, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if Failed(records) {
		t.Fatalf("clone failed:\n%s", FormatLog(records))
	}
	dir := filepath.Join(root, "src/github.com/acme/widgets")
	for _, f := range []string{"a.txt", "one.txt", "two.txt"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s missing after merge: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "later.txt")); err == nil {
		t.Error("later.txt present: the clone did not honour base_sha")
	}
	clone := &origin{t: t, dir: dir}
	if got := clone.git("rev-parse", "HEAD"); got != records[0].FinalSHA {
		t.Errorf("final SHA %s, HEAD %s", records[0].FinalSHA, got)
	}
	// First parents: merge of #2, merge of #1, base — in that order.
	parents := strings.Fields(clone.git("log", "--first-parent", "--format=%s", "-3"))
	if got := strings.Join(parents, " "); !strings.Contains(got, "#2") || strings.Index(got, "#2") > strings.Index(got, "#1") {
		t.Errorf("merge order wrong: %s", got)
	}
	if got := clone.git("rev-parse", "HEAD~2"); got != base {
		t.Errorf("HEAD~2 = %s, want base %s", got, base)
	}
	if got := clone.git("rev-parse", "--abbrev-ref", "HEAD"); got != "main" {
		t.Errorf("checked out %s, want main", got)
	}

	// The records on disk are Prow's clone-records.json.
	onDisk, err := ReadRecords(opts.Log)
	if err != nil {
		t.Fatal(err)
	}
	if len(onDisk) != 1 || onDisk[0].Failed || onDisk[0].FinalSHA == "" || len(onDisk[0].Commands) == 0 {
		t.Errorf("records on disk = %+v", onDisk)
	}
	raw, _ := os.ReadFile(opts.Log)
	for _, field := range []string{`"refs"`, `"commands"`, `"failed": false`, `"final_sha"`, `"command": "git init --quiet"`} {
		if !strings.Contains(string(raw), field) {
			t.Errorf("clone records lack %s:\n%s", field, raw)
		}
	}
}

func TestCloneRecordsMergeConflict(t *testing.T) {
	o := newOrigin(t)
	sha1 := o.pull("1", "a.txt", "one\nTWO from 1\nthree\n")
	sha2 := o.pull("2", "a.txt", "one\nTWO from 2\nthree\n")
	root := t.TempDir()
	opts := Options{
		SrcRoot: root,
		Log:     filepath.Join(root, "clone.json"),
		GitRefs: []podutils.Refs{{
			Org: "acme", Repo: "widgets", BaseRef: "main", CloneURI: o.dir, PathAlias: "acme.dev/widgets",
			Pulls: []podutils.Pull{{Number: 1, SHA: sha1}, {Number: 2, SHA: sha2}},
		}},
	}
	records, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("Run() = %v: a failed clone is recorded, not returned", err)
	}
	if !Failed(records) || records[0].FinalSHA != "" {
		t.Fatalf("records = %+v, want a failed clone", records)
	}
	var merge *Command
	for i, c := range records[0].Commands {
		if strings.HasPrefix(c.Command, "git merge --no-ff") && c.Error != "" {
			merge = &records[0].Commands[i]
		}
	}
	if merge == nil || !strings.Contains(merge.Output, "CONFLICT") || !strings.Contains(merge.Command, sha2) {
		t.Errorf("no failed merge of #2 recorded: %+v", records[0].Commands)
	}
	if _, err := os.Stat(filepath.Join(root, "src/acme.dev/widgets/a.txt")); err != nil {
		t.Errorf("path_alias not honoured: %v", err)
	}
	if log := FormatLog(records); !strings.Contains(log, "# FAILED") || !strings.Contains(log, "CONFLICT") {
		t.Errorf("clone log does not show the failure:\n%s", log)
	}
	opts.Fail = true
	if _, err := Run(context.Background(), opts); err == nil {
		t.Error("Run() with fail set succeeded after a conflict")
	}
}

func TestCloneShallowExtraRefsAndMissingRepo(t *testing.T) {
	o := newOrigin(t)
	o.commit("b.txt", "b\n", "second")
	root := t.TempDir()
	opts := Options{
		SrcRoot: root,
		Log:     filepath.Join(root, "clone.json"),
		GitRefs: []podutils.Refs{
			{Org: "acme", Repo: "widgets", BaseRef: "main", CloneURI: o.dir, CloneDepth: 1, SkipSubmodules: true},
			{Org: "acme", Repo: "gone", BaseRef: "main", CloneURI: filepath.Join(t.TempDir(), "nothing-here")},
		},
		MaxParallelWorkers: 2,
	}
	records, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 2 || records[0].Failed || !records[1].Failed {
		t.Fatalf("records = %+v", records)
	}
	shallow := &origin{t: t, dir: filepath.Join(root, "src/github.com/acme/widgets")}
	if got := shallow.git("rev-list", "--count", "HEAD"); got != "1" {
		t.Errorf("clone_depth 1 cloned %s commits", got)
	}
	if records[1].Refs.Repo != "gone" {
		t.Errorf("records out of order: %+v", records)
	}
}

func TestCensorsToken(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cr3t-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := newAuth(Options{OAuthTokenFile: tokenFile, GitHubHost: "git.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	remote := a.remote(Options{GitHubHost: "git.example.com"}, podutils.Refs{Org: "o", Repo: "r"})
	if remote != "https://git.example.com/o/r.git" {
		t.Errorf("remote = %s", remote)
	}
	args := strings.Join(a.configArgs(), " ")
	if !strings.Contains(args, "http.https://git.example.com/.extraHeader=Authorization: Basic ") {
		t.Errorf("config args = %s, want the token in a header for the forge's address only", args)
	}
	if got := a.censor("git " + args + " fetch; token s3cr3t-token"); strings.Contains(got, "s3cr3t") || strings.Contains(got, a.header()) {
		t.Errorf("censor() left the token: %s", got)
	}

	// A clone with the token: nothing in the records shows it.
	o := newOrigin(t)
	root := t.TempDir()
	records, err := Run(context.Background(), Options{
		SrcRoot: root, Log: filepath.Join(root, "clone.json"), OAuthTokenFile: tokenFile,
		GitRefs: []podutils.Refs{{Org: "acme", Repo: "widgets", BaseRef: "main", CloneURI: o.dir}},
	})
	if err != nil || Failed(records) {
		t.Fatalf("clone with a token: %v\n%s", err, FormatLog(records))
	}
	raw, _ := os.ReadFile(filepath.Join(root, "clone.json"))
	if strings.Contains(string(raw), "s3cr3t") || strings.Contains(string(raw), a.header()) {
		t.Errorf("clone records show the token:\n%s", raw)
	}
	fetchHead, _ := os.ReadFile(filepath.Join(root, "src/github.com/acme/widgets/.git/FETCH_HEAD"))
	if len(fetchHead) == 0 || strings.Contains(string(fetchHead), "s3cr3t") {
		t.Errorf("FETCH_HEAD = %q: want it written, without the token", fetchHead)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{name: "ok", opts: Options{SrcRoot: "/go", Log: "/logs/clone.json", GitRefs: []podutils.Refs{{Org: "o", Repo: "r", BaseRef: "main"}}}},
		{name: "no src root", opts: Options{Log: "/logs/clone.json"}, wantErr: true},
		{name: "no log", opts: Options{SrcRoot: "/go"}, wantErr: true},
		{name: "refs without base", opts: Options{SrcRoot: "/go", Log: "/l", GitRefs: []podutils.Refs{{Org: "o", Repo: "r"}}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.opts.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestRemote(t *testing.T) {
	tests := []struct {
		name string
		host string
		refs podutils.Refs
		want string
	}{
		{"github by default", "", podutils.Refs{Org: "o", Repo: "r"}, "https://github.com/o/r.git"},
		{"host", "git.example.com", podutils.Refs{Org: "o", Repo: "r"}, "https://git.example.com/o/r.git"},
		{"host with scheme", "http://127.0.0.1:3000/", podutils.Refs{Org: "o", Repo: "r"}, "http://127.0.0.1:3000/o/r.git"},
		{"repository link", "git.example.com", podutils.Refs{Org: "o", Repo: "r", RepoLink: "http://forge/o/r/"}, "http://forge/o/r.git"},
		{"clone URI", "git.example.com", podutils.Refs{Org: "o", Repo: "r", CloneURI: "ssh://git@forge/o/r"}, "ssh://git@forge/o/r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (&auth{}).remote(Options{GitHubHost: tt.host}, tt.refs); got != tt.want {
				t.Errorf("remote = %s, want %s", got, tt.want)
			}
		})
	}
}
