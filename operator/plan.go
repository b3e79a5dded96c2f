package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-github/v89/github"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bowline-ci/bowline/automation/configplan"
	"github.com/bowline-ci/bowline/reconcilers/configrepo"
	"github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
	ghclient "github.com/bowline-ci/bowline/scm/github"
)

// PlanOptions configures `bowline plan`.
type PlanOptions struct {
	// Repo is a directory of the config repository's git working tree.
	Repo string
	// Base and Head are the revisions compared: branches, tags, commits
	// or anything git's rev-parse takes that go-git resolves.
	Base, Head string
	// Paths are the ConfigRepository's spec.paths.
	Paths v1alpha1.ConfigPaths
	// Strict is the ConfigRepository's spec.strict.
	Strict bool
	// Output is text, json or markdown.
	Output string
	// OrgStates are orgs as `bowline orgs dump` wrote them.
	OrgStates []string
	// GitHub, when it has credentials, counts open pull requests and
	// reads orgs.
	GitHub ghclient.Flags
}

// AddFlags registers the plan flags.
func (o *PlanOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Repo, "repo", ".", "the config repository: a git working tree (or a directory in one)")
	fs.StringVar(&o.Base, "base", "main", "the revision to compare with, usually the branch bowline applies")
	fs.StringVar(&o.Head, "head", "HEAD", "the revision to plan: a branch, tag or commit (commit your changes first)")
	fs.StringVar(&o.Paths.Config, "config-path", snapshot.DefaultConfigPath, "config.yaml in the repository (ConfigRepository spec.paths.config)")
	fs.StringVar(&o.Paths.Jobs, "job-config-path", snapshot.DefaultJobsPath, "job config directory (spec.paths.jobs)")
	fs.StringVar(&o.Paths.Plugins, "plugin-config", snapshot.DefaultPluginsPath, "plugins.yaml (spec.paths.plugins)")
	fs.StringVar(&o.Paths.Orgs, "org-config", snapshot.DefaultOrgsPath, "peribolos org config directory (spec.paths.orgs)")
	fs.StringVar(&o.Paths.Labels, "labels", snapshot.DefaultLabelsPath, "label_sync's labels.yaml (spec.paths.labels)")
	fs.StringVar(&o.Paths.Deploy, "deploy-path", snapshot.DefaultDeployPath, "bowline's own deployment settings (spec.paths.deploy)")
	fs.BoolVar(&o.Strict, "strict", false, "judge the head as a ConfigRepository with spec.strict: every warning is an error")
	fs.StringVar(&o.Output, "output", "text", "output format: text, json or markdown (the pull request comment)")
	fs.StringArrayVar(&o.OrgStates, "org-state", nil, "an org as `bowline orgs dump` read it, to plan against (repeatable)")
	o.GitHub.AddFlags(fs)
}

// Validate reports flag values that cannot work.
func (o *PlanOptions) Validate() error {
	var errs []error
	switch o.Output {
	case "text", "json", "markdown":
	default:
		errs = append(errs, fmt.Errorf("--output must be text, json or markdown, not %q", o.Output))
	}
	if o.Base == "" || o.Head == "" {
		errs = append(errs, errors.New("--base and --head name revisions; they may not be empty"))
	}
	if err := o.GitHub.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func newPlanCommand() *cobra.Command {
	o := &PlanOptions{}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Print what a change to the config repository would do",
		Long: `Plan a change to a config repository before it is applied: the plan bowline
comments on every pull request to the config repository, from a local
checkout, before there is a pull request.

The head revision is judged as the operator would apply it: the same
paths (the flags are a ConfigRepository's spec.paths, Prow's layout by
default), the same limits and loader, --strict as spec.strict. Its errors
and warnings are listed with their files and lines. The head is compared
with the merge base of --base and --head, as a pull request's diff is:
jobs added, removed and changed field by field, plugins per org and
repository, the merge pool's queries, the other settings, what the orgs
role would change in every org (its own planner and safety limits), and the
files under the deploy path.

Without GitHub credentials the orgs are planned against the configuration
alone, or against --org-state files. With them (--github-token-path, or a
GitHub App), open pull requests are counted: how many a changed job would
start or stop running on, and which enter or leave the merge pool; orgs are
read from GitHub as the orgs role reads them.

Checks that only a running install can make (its build clusters and
namespaces) are not made here; the pull request's plan makes them.

Exit status: 0 when the head would be applied, 1 when it would be refused,
2 when the flags are wrong.`,
		Example: `  bowline plan --base main --head my-change
  bowline plan --repo ../test-infra --base origin/master --head HEAD --output json
  bowline plan --head my-change --github-token-path ~/.github-token --output markdown`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "Error:", err)
				return exitError{code: 2}
			}
			return runPlan(cmd, o)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func runPlan(cmd *cobra.Command, o *PlanOptions) error {
	ctx := cmd.Context()
	repo, err := git.PlainOpenWithOptions(o.Repo, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return fmt.Errorf("open the repository %s: %w", o.Repo, err)
	}
	resolve := func(rev string) (*object.Commit, error) {
		h, err := repo.ResolveRevision(plumbing.Revision(rev))
		if err != nil {
			return nil, fmt.Errorf("revision %q: %w", rev, err)
		}
		return repo.CommitObject(*h)
	}
	headC, err := resolve(o.Head)
	if err != nil {
		return err
	}
	baseC, err := resolve(o.Base)
	if err != nil {
		return err
	}
	var notes []string
	if bases, err := headC.MergeBase(baseC); err == nil && len(bases) > 0 && bases[0].Hash != baseC.Hash {
		notes = append(notes, fmt.Sprintf("compared with the merge base %s of %s and %s", bases[0].Hash.String()[:12], o.Base, o.Head))
		baseC = bases[0]
	}
	spec := &v1alpha1.ConfigRepositorySpec{Paths: o.Paths, Strict: o.Strict}
	bv, cache, err := configplan.Load(ctx, repo, baseC, spec, configrepo.Limits{}, nil, nil)
	if err != nil {
		return fmt.Errorf("read %s: %w", o.Base, err)
	}
	if !bv.Valid() {
		return fmt.Errorf("the base revision %s is not valid, so there is nothing to compare with:\n  %s", o.Base, strings.Join(bv.Lines(), "\n  "))
	}
	hv, _, err := configplan.Load(ctx, repo, headC, spec, configrepo.Limits{}, nil, cache)
	if err != nil {
		return fmt.Errorf("read %s: %w", o.Head, err)
	}
	cmp, err := configplan.Compare(baseC, headC, snapshot.WithDefaults(o.Paths).Deploy)
	if err != nil {
		return err
	}
	// The plan describes an install by bowline bootstrap, whose operator
	// applies the deployment file (--deploy-template); bowline up runs
	// every role in one process and does not.
	in := configplan.Input{
		Base:          configplan.Side{Revision: configplan.Revision{Name: o.Base + "@sha1:" + baseC.Hash.String(), Commit: baseC.Hash.String()}, Verdict: bv},
		Head:          configplan.Side{Revision: configplan.Revision{Name: o.Head + "@sha1:" + headC.Hash.String(), Commit: headC.Hash.String()}, Verdict: hv},
		Changed:       cmp.Changed,
		ConfigPath:    snapshot.WithDefaults(o.Paths).Config,
		Deploy:        cmp.Deploy,
		DeployPath:    snapshot.WithDefaults(o.Paths).Deploy,
		DeployApplied: true,
		Plugins:       pluginNames(),
		Now:           time.Now(),
	}
	states, err := readOrgStates(o.OrgStates)
	if err != nil {
		return err
	}
	in.Orgs = states
	if o.GitHub.TokenPath != "" || o.GitHub.AppID != 0 {
		opts, err := o.GitHub.Options()
		if err != nil {
			return err
		}
		c, err := ghclient.New(opts)
		if err != nil {
			return err
		}
		forOrg := func(_ context.Context, org string) (*github.Client, error) { return c.ForOrg(org) }
		in.PullRequests = configplan.GitHub{ForOrg: forOrg}
		if len(states) == 0 {
			in.Orgs = configplan.ObservedOrgs{ForOrg: forOrg}
		}
	}
	p, err := configplan.Compute(ctx, in)
	if err != nil {
		return err
	}
	p.Notes = append(notes, p.Notes...)
	if err := writePlan(cmd.OutOrStdout(), p, o.Output); err != nil {
		return err
	}
	if !p.Valid {
		return exitError{code: 1}
	}
	return nil
}

func writePlan(w io.Writer, p *configplan.Plan, format string) error {
	switch format {
	case "json":
		return p.JSON(w)
	case "markdown":
		_, err := io.WriteString(w, p.Markdown())
		return err
	}
	return p.Text(w)
}

// readOrgStates reads `bowline orgs dump` files, by lower-cased org.
func readOrgStates(files []string) (configplan.OrgStates, error) {
	out := configplan.OrgStates{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		s := &plan.State{}
		if err := json.Unmarshal(b, s); err != nil || s.Org == "" {
			return nil, fmt.Errorf("%s is not an org state written by bowline orgs dump: %v", f, err)
		}
		out[strings.ToLower(s.Org)] = s
	}
	return out, nil
}
