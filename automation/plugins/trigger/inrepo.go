package trigger

import (
	"context"
	"slices"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/schema/jobs"
)

// InRepo gives the jobs a repository defines itself, Prow's in-repo config
// (.prow.yaml or .prow/); package automation/inrepo implements it.
type InRepo interface {
	// Enabled reports whether in_repo_config enables it for org/repo.
	Enabled(org, repo string) bool
	// Presubmits are those of a trusted pull request's head merged into
	// baseSHA.
	Presubmits(ctx context.Context, org, repo, baseSHA, headSHA string) ([]jobs.Presubmit, error)
	// Postsubmits are those of a pushed commit.
	Postsubmits(ctx context.Context, org, repo, sha string) ([]jobs.Postsubmit, error)
}

// WithInRepo makes the configurations cs gives add in-repo jobs from src,
// for the repositories whose in_repo_config enables it.
func WithInRepo(cs ConfigSource, src InRepo) ConfigSource {
	return inRepoConfig{cs, src}
}

type inRepoConfig struct {
	ConfigSource
	src InRepo
}

func (c inRepoConfig) TriggerConfig(org, repo string) *Config {
	cfg := c.ConfigSource.TriggerConfig(org, repo)
	if cfg != nil && c.src.Enabled(org, repo) {
		cfg.InRepo = c.src
	}
	return cfg
}

// addInRepo adds a pull request's own presubmits to the applied
// configuration's, once per event. Callers have settled that the pull
// request is trusted: its files decide what runs. A config that does not
// load leaves the applied configuration's jobs alone, as in Prow (the pull
// request gets an error status saying why).
func (h *handler) addInRepo(ctx context.Context, pr *github.PullRequest) error {
	if h.cfg.InRepo == nil {
		return nil
	}
	base, err := h.baseSHA(ctx, pr.GetBase().GetRef())
	if err != nil {
		return err
	}
	src, cfg := h.cfg.InRepo, *h.cfg
	cfg.InRepo = nil
	h.cfg = &cfg
	extra, err := src.Presubmits(ctx, h.org, h.repo, base, pr.GetHead().GetSHA())
	if err != nil {
		h.log.Info("In-repo config does not load; only the applied configuration's presubmits run", "pull", pr.GetNumber(), "error", err.Error())
		return nil
	}
	cfg.Presubmits = append(slices.Clip(cfg.Presubmits), extra...)
	return nil
}

// addInRepoPostsubmits adds a pushed commit's own postsubmits.
func (h *handler) addInRepoPostsubmits(ctx context.Context, sha string) {
	if h.cfg.InRepo == nil {
		return
	}
	src, cfg := h.cfg.InRepo, *h.cfg
	cfg.InRepo = nil
	h.cfg = &cfg
	extra, err := src.Postsubmits(ctx, h.org, h.repo, sha)
	if err != nil {
		h.log.Info("In-repo config does not load; only the applied configuration's postsubmits run", "sha", sha, "error", err.Error())
		return
	}
	cfg.Postsubmits = append(slices.Clip(cfg.Postsubmits), extra...)
}
