// Package size is the size plugin: it keeps one size/* label on every pull
// request, from the lines it adds and deletes, as Prow's size plugin does.
// Generated files do not count: those named in the repository's
// .generated_files and those marked linguist-generated in its
// .gitattributes, both read at the pull request's base.
package size

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-logr/logr"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// Name is the plugin's name in plugins.yaml.
const Name = "size"

// LabelPrefix starts every size label.
const LabelPrefix = "size/"

// Size labels, smallest first.
const (
	XS  = "size/XS"
	S   = "size/S"
	M   = "size/M"
	L   = "size/L"
	XL  = "size/XL"
	XXL = "size/XXL"
)

// Plugin is the size plugin.
type Plugin struct{ pluginbase.Base }

// New returns the size plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{"pull_request"} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Keeps one `size/*` label on each pull request (`size/XS`, `size/S`, `size/M`, `size/L`, `size/XL`, " +
			"`size/XXL`) from the number of lines it adds and deletes. Files listed in the repository's `.generated_files` " +
			"(keys `path`, `path-prefix`, `file-name`, `file-prefix`, `paths-from-repo`) or marked `linguist-generated` " +
			"in its `.gitattributes` do not count. A pull request gets `size/S` from `s` lines on, `size/M` from `m` " +
			"lines on, and so on; below `s` it is `size/XS`.",
		Config: `size:       # the first line count of each size; these are the defaults
  s: 10
  m: 30
  l: 100
  xl: 500
  xxl: 1000`,
	}
}

// Thresholds fills in Prow's default for each threshold left at zero.
func Thresholds(s plugins.Size) plugins.Size {
	or := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	return plugins.Size{S: or(s.S, plugins.DefaultSizeS), M: or(s.M, plugins.DefaultSizeM), L: or(s.L, plugins.DefaultSizeL),
		Xl: or(s.Xl, plugins.DefaultSizeXL), Xxl: or(s.Xxl, plugins.DefaultSizeXXL)}
}

// LabelFor is the size label of a number of changed lines.
func LabelFor(lines int, s plugins.Size) string {
	switch {
	case lines < s.S:
		return XS
	case lines < s.M:
		return S
	case lines < s.L:
		return M
	case lines < s.Xl:
		return L
	case lines < s.Xxl:
		return XL
	}
	return XXL
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	// The actions after which the diff may have changed.
	pe, env, err := p.PullRequestEnv(ctx, log, ev, "opened", "reopened", "synchronize", "edited")
	if env == nil || err != nil {
		return err
	}
	pr := pe.GetPullRequest()
	n := pr.GetNumber()
	gen, err := LoadGenerated(ctx, env, pr.GetBase().GetSHA())
	if err != nil {
		return err
	}
	files, err := env.PullFiles(ctx, n)
	if err != nil {
		return err
	}
	lines := 0
	for _, f := range files {
		if !gen.Match(f.GetFilename()) {
			lines += f.GetAdditions() + f.GetDeletions()
		}
	}
	want := LabelFor(lines, Thresholds(env.Plugins.Size))
	current, err := env.IssueLabels(ctx, n)
	if err != nil {
		return err
	}
	has := false
	for _, l := range current {
		switch {
		case strings.EqualFold(l, want):
			has = true
		case strings.HasPrefix(strings.ToLower(l), LabelPrefix):
			if err := env.RemoveLabel(ctx, n, l); err != nil {
				return err
			}
		}
	}
	if has {
		return nil
	}
	return env.AddLabel(ctx, n, want)
}

// DescribeConfig implements plugin.ConfigDescriber.
func (p *Plugin) DescribeConfig(string, string) string {
	set := p.Config()
	if set == nil || set.Plugins == nil {
		return ""
	}
	s := Thresholds(set.Plugins.Size)
	return fmt.Sprintf("size/XS: 0-%d, size/S: %d-%d, size/M: %d-%d, size/L: %d-%d, size/XL: %d-%d, size/XXL: %d or more changed lines.",
		s.S-1, s.S, s.M-1, s.M, s.L-1, s.L, s.Xl-1, s.Xl, s.Xxl-1, s.Xxl)
}
