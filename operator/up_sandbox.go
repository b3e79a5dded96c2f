package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/go-logr/logr"

	examples "github.com/bowline-ci/bowline/config-examples"
	"github.com/bowline-ci/bowline/sandbox/forge"
)

// startSandbox runs the sandbox forge seeded from the quickstart example:
// the demo org, its demo repository, and (withConfigRepo) the quickstart
// config repository, with an org webhook pointing at bowline; faults serves
// its fault-injection endpoint. Seeding is
// idempotent, so a restart keeps what users did in the sandbox.
func startSandbox(ctx context.Context, log logr.Logger, dataDir string, ln net.Listener, hookURL, secret string, withConfigRepo, faults bool) (*upSandbox, error) {
	fsys, err := examples.FS("quickstart")
	if err != nil {
		return nil, err
	}
	raw, err := fs.ReadFile(fsys, "sandbox/seed.yaml")
	if err != nil {
		return nil, err
	}
	seed, err := forge.ParseSeed(raw)
	if err != nil {
		return nil, err
	}
	demo, err := readFiles(fsys, "sandbox/hello", "")
	if err != nil {
		return nil, err
	}
	for i := range seed.Repos {
		if seed.Repos[i].Name == sandboxDemoRepo {
			seed.Repos[i].Files = stringFiles(demo)
		}
	}
	if withConfigRepo {
		cfg, err := quickstartConfig()
		if err != nil {
			return nil, err
		}
		seed.Repos = append(seed.Repos, forge.SeedRepo{
			Name:        sandboxConfigRepo,
			Description: "bowline's configuration: change it by pull request.",
			Files:       stringFiles(cfg),
		})
	}
	for i := range seed.Orgs {
		seed.Orgs[i].Hooks = append(seed.Orgs[i].Hooks, forge.SeedHook{URL: hookURL, Secret: secret})
	}

	base := "http://" + ln.Addr().String()
	f, err := forge.New(forge.Options{DataDir: filepath.Join(dataDir, "sandbox"), BaseURL: base, Log: log.WithName("sandbox"), FaultInjection: faults})
	if err != nil {
		return nil, err
	}
	if err := f.Seed(ctx, seed); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("seed the sandbox forge: %w", err)
	}
	srv := &http.Server{Handler: f.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(err, "Sandbox forge stopped")
		}
	}()
	tokens := map[string]string{}
	for _, u := range seed.Users {
		tokens[u.Login] = u.Token
	}
	return &upSandbox{
		forge:    f,
		server:   srv,
		botToken: tokens[sandboxBot],
		info: &SandboxInfo{
			URL: base, DemoRepo: sandboxDemoRepo, ConfigRepo: sandboxConfigRepo,
			User: sandboxMaintainer, Token: tokens[sandboxMaintainer],
			Contributor: sandboxContributor, ContributorToken: tokens[sandboxContributor],
		},
	}, nil
}

func stringFiles(files map[string][]byte) map[string]string {
	out := make(map[string]string, len(files))
	for k, v := range files {
		out[k] = string(v)
	}
	return out
}

// initLocalConfigRepo makes dir a git repository holding the quickstart
// config, unless it is one already.
func initLocalConfigRepo(ctx context.Context, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
		return nil
	}
	files, err := quickstartConfig()
	if err != nil {
		return err
	}
	paths := make([]string, 0, len(files))
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, b, 0o644); err != nil {
			return err
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	git := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(),
			"GIT_AUTHOR_NAME=bowline", "GIT_AUTHOR_EMAIL=bowline@localhost",
			"GIT_COMMITTER_NAME=bowline", "GIT_COMMITTER_EMAIL=bowline@localhost")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %v: %v: %s", args, err, out)
		}
		return nil
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		append([]string{"add", "--"}, paths...),
		{"commit", "-q", "-m", "Start from bowline's quickstart example"},
	} {
		if err := git(args...); err != nil {
			return err
		}
	}
	return nil
}
