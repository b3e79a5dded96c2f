// Package label is the label plugin: commands that add and remove labels
// of Prow's prefixed kinds (/kind bug, /remove-sig testing …), any label
// plugins.yaml allows with /label and /remove-label, and restricted labels
// that only some teams or users may change, as Prow's label plugin does.
//
//   - /area, /committee, /kind, /language, /priority, /sig, /triage and /wg
//     take one or more words; each becomes "<prefix>/<word>", lower-cased.
//     /remove-<prefix> takes them off. Removing the last label of the kind,
//     priority, sig or triage kind adds needs-<kind> when the repository has
//     that label.
//   - /label and /remove-label take one label of label.additional_labels or
//     label.restricted_labels.
//   - Only labels the repository has are added; the others get an answer.
//     triage/accepted only by members of the org.
//   - A restricted label is changed only by its allowed_users and members
//     of its allowed_teams; when a label of its assign_on is added to a pull
//     request, its allowed users are assigned.
package label

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
	"github.com/bowline-ci/bowline/schema/plugins"
)

// Name is the plugin's name in plugins.yaml.
const Name = "label"

// TriageAccepted may be added by members of the org only.
const TriageAccepted = "triage/accepted"

// Prefixes are the kinds of labels with their own commands.
var Prefixes = []string{"area", "committee", "kind", "language", "priority", "sig", "triage", "wg"}

// needsKinds are the kinds whose last label, when removed, is replaced by
// needs-<kind> if the repository has that label.
var needsKinds = []string{"kind", "priority", "sig", "triage"}

// Commands, matched at the start of a line; case matters, as in Prow.
var (
	htmlCommentRe = regexp.MustCompile(`(?s)<!--(.*?)-->`)
	prefixedRe    = regexp.MustCompile(`(?m)^/(area|committee|kind|language|priority|sig|triage|wg)\s*(.*?)\s*$`)
	removeRe      = regexp.MustCompile(`(?m)^/remove-(area|committee|kind|language|priority|sig|triage|wg)\s*(.*?)\s*$`)
	customRe      = regexp.MustCompile(`(?m)^/label\s*(.*?)\s*$`)
	customRemove  = regexp.MustCompile(`(?m)^/remove-label\s*(.*?)\s*$`)
)

// Plugin is the label plugin.
type Plugin struct{ pluginbase.Base }

// New returns the label plugin.
func New(b pluginbase.Base) *Plugin { return &Plugin{b} }

// Name implements plugin.Plugin.
func (p *Plugin) Name() string { return Name }

// Events implements plugin.Plugin.
func (p *Plugin) Events() []string { return []string{plugin.GenericComment, "pull_request"} }

// Help implements plugin.Plugin.
func (p *Plugin) Help() plugin.Help {
	return plugin.Help{
		Description: "Adds and removes labels of the kinds `area/*`, `committee/*`, `kind/*`, `language/*`, `priority/*`, " +
			"`sig/*`, `triage/*` and `wg/*` on request, and the labels listed in `label.additional_labels` and " +
			"`label.restricted_labels` with `/label`. Only labels the repository has are added. Restricted labels " +
			"may be changed only by their allowed users and members of their allowed teams; adding one of the " +
			"labels of a restricted label's `assign_on` to a pull request assigns its allowed users. Removing the " +
			"last `kind`, `priority`, `sig` or `triage` label adds `needs-kind` (and so on) when the repository has that label.",
		Config: `label:
  additional_labels:          # usable with /label and /remove-label
  - api-review
  restricted_labels:          # by "*", org or org/repo
    "*":
    - label: tide/merge-method-squash
      allowed_teams: [maintainers]
      allowed_users: [alice]
      assign_on:              # assign allowed_users when these are added
      - label: needs-squash`,
		Commands: []plugin.Command{
			{
				Usage:       "/[remove-](area|committee|kind|language|priority|sig|triage|wg) <value> [<value>…]",
				Description: "Adds or removes `<prefix>/<value>` for each value.",
				WhoCanUse:   "Anyone, on issues and pull requests; `" + TriageAccepted + "` only members of the org; restricted labels only their allowed users and teams.",
				Examples:    []string{"/kind bug", "/remove-area prow", "/sig testing node", "/language zh", "/priority important-soon"},
				Featured:    true,
			},
			{
				Usage:       "/[remove-]label <label>",
				Description: "Adds or removes a label of `label.additional_labels` or `label.restricted_labels`.",
				WhoCanUse:   "Anyone; restricted labels only their allowed users and teams.",
				Examples:    []string{"/label api-review", "/remove-label api-review"},
			},
		},
	}
}

// Handle implements plugin.Plugin.
func (p *Plugin) Handle(ctx context.Context, log logr.Logger, ev *plugin.Event) error {
	if pe, ok := ev.Payload.(*github.PullRequestEvent); ok {
		if pe.GetAction() != "labeled" {
			return nil
		}
		env, err := p.Env(ctx, log, ev)
		if env == nil || err != nil {
			return err
		}
		return assignOn(ctx, env, pe.GetPullRequest().GetNumber(), pe.GetLabel().GetName())
	}
	c := ev.Comment
	if c == nil || c.Action != plugin.CommentCreated {
		return nil
	}
	body := htmlCommentRe.ReplaceAllString(c.Body, "")
	req := parse(body)
	if req.empty() {
		return nil
	}
	env, err := p.Env(ctx, log, ev)
	if env == nil || err != nil {
		return err
	}
	h := &handler{env: env, c: c, body: body, cfg: env.Plugins.Label,
		restricted: RestrictedFor(env.Plugins.Label, env.Org, env.Repo)}
	return h.handle(ctx, req)
}

// request is what one comment asks for.
type request struct {
	add, remove             []string // prefixed: "kind/bug"
	customAdd, customRemove []string // the word after /label, /remove-label
}

func (r request) empty() bool {
	return len(r.add)+len(r.remove)+len(r.customAdd)+len(r.customRemove) == 0
}

func parse(body string) request {
	var r request
	// The command must be a word of its own: "/kinda bug" and "/labels x"
	// are not commands.
	prefixed := func(re *regexp.Regexp, command string) []string {
		var out []string
		for _, m := range re.FindAllStringSubmatch(body, -1) {
			words := strings.Fields(m[0])
			if words[0] != command+m[1] {
				continue
			}
			for _, w := range words[1:] {
				out = append(out, strings.ToLower(m[1]+"/"+w))
			}
		}
		return out
	}
	custom := func(re *regexp.Regexp, command string) []string {
		var out []string
		for _, m := range re.FindAllStringSubmatch(body, -1) {
			// One label per command, as Prow; other forms are not a command.
			if words := strings.Fields(m[0]); len(words) == 2 && words[0] == command {
				out = append(out, strings.ToLower(words[1]))
			}
		}
		return out
	}
	r.add, r.remove = prefixed(prefixedRe, "/"), prefixed(removeRe, "/remove-")
	r.customAdd, r.customRemove = custom(customRe, "/label"), custom(customRemove, "/remove-label")
	return r
}

// RestrictedFor merges the restricted labels of "*", the org and the
// repository (the narrowest wins), keyed by lower-cased label.
func RestrictedFor(cfg plugins.Label, org, repo string) map[string]plugins.RestrictedLabel {
	out := map[string]plugins.RestrictedLabel{}
	for _, scope := range []string{"*", org, org + "/" + repo} {
		for _, rl := range cfg.RestrictedLabels[scope] {
			out[strings.ToLower(rl.Label)] = rl
		}
	}
	return out
}

type handler struct {
	env        *pluginbase.Env
	c          *plugin.Comment
	body       string
	cfg        plugins.Label
	restricted map[string]plugins.RestrictedLabel
}

func (h *handler) reply(ctx context.Context, msg string) error {
	return h.env.Comment(ctx, h.c.Number, pluginbase.Reply(&plugin.Comment{Author: h.c.Author, Body: h.body, HTMLURL: h.c.HTMLURL}, msg))
}

// allowedCustom reports whether /label may name a label.
func (h *handler) allowedCustom(label string) bool {
	_, restricted := h.restricted[label]
	return restricted || slices.ContainsFunc(h.cfg.AdditionalLabels, func(l string) bool { return strings.EqualFold(l, label) })
}

func (h *handler) handle(ctx context.Context, req request) error {
	env, c := h.env, h.c
	repoLabels, err := env.RepoLabels(ctx)
	if err != nil {
		return err
	}
	current, err := env.IssueLabels(ctx, c.Number)
	if err != nil {
		return err
	}
	var unknown []string // /label of a label plugins.yaml does not allow
	toAdd, toRemove := req.add, req.remove
	for _, l := range req.customAdd {
		if h.allowedCustom(l) {
			toAdd = append(toAdd, l)
		} else {
			unknown = append(unknown, l)
		}
	}
	for _, l := range req.customRemove {
		if h.allowedCustom(l) {
			toRemove = append(toRemove, l)
		} else {
			unknown = append(unknown, l)
		}
	}
	toAdd = append(toAdd, needsLabels(repoLabels, current, toAdd, toRemove)...)

	var notInRepo, notOnIssue []string
	triageDenied := false
	for _, l := range toAdd {
		if pluginbase.HasLabel(current, l) {
			continue
		}
		if !pluginbase.HasLabel(repoLabels, l) {
			notInRepo = append(notInRepo, l)
			continue
		}
		if l == TriageAccepted {
			member, err := env.IsMember(ctx, env.Org, c.Author)
			if err != nil {
				return err
			}
			if !member {
				triageDenied = true
				continue
			}
		}
		ok, err := h.allowed(ctx, l)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := env.AddLabel(ctx, c.Number, l); err != nil {
			return err
		}
	}
	for _, l := range toRemove {
		if !pluginbase.HasLabel(current, l) {
			notOnIssue = append(notOnIssue, l)
			continue
		}
		ok, err := h.allowed(ctx, l)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := env.RemoveLabel(ctx, c.Number, l); err != nil {
			return err
		}
	}
	switch {
	case len(unknown) > 0:
		allowed := slices.Clone(h.cfg.AdditionalLabels)
		for _, rl := range h.restricted {
			allowed = append(allowed, rl.Label)
		}
		slices.Sort(allowed)
		list := "none"
		if len(allowed) > 0 {
			list = "`" + strings.Join(allowed, "`, `") + "`"
		}
		return h.reply(ctx, fmt.Sprintf("The label(s) `%s` cannot be applied with `/label`, which takes only these labels: %s. "+
			"Labels are added to that list under `label.additional_labels` or `label.restricted_labels` in plugins.yaml.",
			strings.Join(unknown, ", "), list))
	case len(notInRepo) > 0:
		return h.reply(ctx, fmt.Sprintf("The label(s) `%s` cannot be applied: the repository does not have them.", strings.Join(notInRepo, ", ")))
	case len(notOnIssue) > 0:
		return h.reply(ctx, fmt.Sprintf("These labels are not set here, so there is nothing to remove: `%s`.", strings.Join(notOnIssue, ", ")))
	case triageDenied:
		return h.reply(ctx, fmt.Sprintf("The label `%s` cannot be applied: only members of the %s organization may add it.", TriageAccepted, env.Org))
	}
	return nil
}

// allowed checks that the commenter may change a label; for a restricted
// label they may not change, it answers why and returns false.
func (h *handler) allowed(ctx context.Context, label string) (bool, error) {
	rl, restricted := h.restricted[strings.ToLower(label)]
	if !restricted {
		return true, nil
	}
	if slices.ContainsFunc(rl.AllowedUsers, func(u string) bool { return strings.EqualFold(u, h.c.Author) }) {
		return true, nil
	}
	for _, team := range rl.AllowedTeams {
		in, err := h.env.TeamHasMember(ctx, h.env.Org, team, h.c.Author)
		if err != nil || in {
			return in, err
		}
	}
	msg := fmt.Sprintf("The label `%s` can only be applied or removed by its allowed users and members of its allowed teams.", label)
	if len(rl.AllowedTeams) > 0 {
		msg += " The teams are: " + strings.Join(rl.AllowedTeams, ", ") + "."
	} else if len(rl.AllowedUsers) > 0 {
		users := slices.Sorted(slices.Values(rl.AllowedUsers))
		msg += " You could ask one of them: " + strings.Join(users[:min(len(users), 20)], ", ") + "."
	}
	return false, h.reply(ctx, msg)
}

// needsLabels returns needs-<kind> for each kind of needsKinds whose labels
// the request removes all of, without adding one, when the repository has
// that label.
func needsLabels(repoLabels, current, toAdd, toRemove []string) []string {
	var out []string
	for _, kind := range needsKinds {
		needs := "needs-" + kind
		if !pluginbase.HasLabel(repoLabels, needs) {
			continue
		}
		removed, added, have := ofKind(toRemove, kind), ofKind(toAdd, kind), ofKind(current, kind)
		if len(removed) == 0 || len(added) > 0 {
			continue
		}
		if !slices.ContainsFunc(have, func(l string) bool { return !slices.Contains(removed, l) }) {
			out = append(out, needs)
		}
	}
	return out
}

func ofKind(labels []string, kind string) []string {
	var out []string
	for _, l := range labels {
		if l = strings.ToLower(l); strings.HasPrefix(l, kind+"/") {
			out = append(out, l)
		}
	}
	return out
}

// assignOn assigns the allowed users of the restricted labels whose
// assign_on names a label just added to a pull request.
func assignOn(ctx context.Context, env *pluginbase.Env, number int, added string) error {
	for _, rl := range RestrictedFor(env.Plugins.Label, env.Org, env.Repo) {
		if !slices.ContainsFunc(rl.AssignOn, func(a plugins.AssignOnLabel) bool { return strings.EqualFold(a.Label, added) }) {
			continue
		}
		if len(rl.AllowedUsers) == 0 {
			continue
		}
		if _, _, err := env.GitHub.Issues.AddAssignees(ctx, env.Org, env.Repo, number, rl.AllowedUsers); err != nil {
			return fmt.Errorf("assign %v to %s#%d: %w", rl.AllowedUsers, env.FullName(), number, err)
		}
		env.Log.Info("Assigned the allowed users of a restricted label", "number", number, "label", rl.Label, "on", added)
	}
	return nil
}

// DescribeConfig implements plugin.ConfigDescriber.
func (p *Plugin) DescribeConfig(org, repo string) string {
	set := p.Config()
	if set == nil || set.Plugins == nil {
		return ""
	}
	cfg := set.Plugins.Label
	var parts []string
	if len(cfg.AdditionalLabels) > 0 {
		parts = append(parts, "/label takes "+strings.Join(cfg.AdditionalLabels, ", "))
	}
	restricted := RestrictedFor(cfg, org, repo)
	names := make([]string, 0, len(restricted))
	for _, rl := range restricted {
		names = append(names, rl.Label)
	}
	slices.Sort(names)
	if len(names) > 0 {
		parts = append(parts, "restricted labels: "+strings.Join(names, ", "))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + "."
}
