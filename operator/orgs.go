package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bowline-ci/bowline/reconcilers/org"
	"github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/schema/configset"
	ghclient "github.com/bowline-ci/bowline/scm/github"
)

// orgPlanReport is one org's plan in `bowline check` output.
type orgPlanReport struct {
	Org string `json:"org"`
	// Against is what the plan was made against: "an empty org" or the
	// state file given.
	Against    string   `json:"against"`
	ID         string   `json:"id,omitempty"`
	Create     int      `json:"create"`
	Update     int      `json:"update"`
	Delete     int      `json:"delete"`
	Blocked    int      `json:"blocked,omitempty"`
	Changes    []string `json:"changes"`
	Problems   []string `json:"problems,omitempty"`
	Notes      []string `json:"notes,omitempty"`
	Violations []string `json:"violations,omitempty"`

	text string
}

// checkLimits are a GitHubOrganization's default safety limits.
var checkLimits = plan.Limits{MaxRemovalPercent: 25, MinAdmins: 2, RequireSelf: true}

// planOrgs plans every org the configuration manages, with the planner the
// orgs role uses: against the state dumped for it by `bowline orgs dump`
// when one of stateFiles holds it, otherwise against an empty org.
func planOrgs(set *configset.Set, stateFiles []string, now time.Time) ([]orgPlanReport, error) {
	states := map[string]*plan.State{}
	source := map[string]string{}
	for _, f := range stateFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		s := &plan.State{}
		if err := json.Unmarshal(b, s); err != nil || s.Org == "" {
			return nil, fmt.Errorf("%s is not an org state written by bowline orgs dump: %v", f, err)
		}
		states[strings.ToLower(s.Org)], source[strings.ToLower(s.Org)] = s, f
	}
	orgs := plan.ManagedOrgs(set)
	for k, s := range states {
		if !containsFold(orgs, k) {
			orgs = append(orgs, s.Org)
		}
	}
	var out []orgPlanReport
	for _, name := range orgs {
		s, against := states[strings.ToLower(name)], source[strings.ToLower(name)]
		if s == nil {
			s, against = &plan.State{Org: name}, "an empty org"
		}
		p := plan.Compute(plan.DesiredFor(set, name, plan.Options{}, now), s)
		c := p.Counts()
		r := orgPlanReport{Org: name, Against: against, Create: c.Create, Update: c.Update, Delete: c.Delete, Blocked: c.Blocked,
			Changes: []string{}, Problems: p.Problems, Notes: p.Notes, text: p.Format()}
		if len(p.Changes) > 0 {
			r.ID = p.ID()
		}
		for _, ch := range p.Changes {
			r.Changes = append(r.Changes, ch.String())
		}
		for _, v := range p.Check(checkLimits, s.Bot, p.Changes) {
			r.Violations = append(r.Violations, v.Message)
		}
		out = append(out, r)
	}
	return out, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func printOrgPlans(out io.Writer, plans []orgPlanReport) {
	for _, r := range plans {
		fmt.Fprintf(out, "\nPlan against %s, ", r.Against)
		fmt.Fprint(out, r.text)
		for _, v := range r.Violations {
			fmt.Fprintf(out, "  ! refused with the default limits: %s\n", v)
		}
	}
}

// OrgsDumpOptions configures `bowline orgs dump`.
type OrgsDumpOptions struct {
	// Org is the org to read.
	Org string
	// Output is the file written; empty means standard output.
	Output string
	// Config are the configuration's files, which say what to read.
	Config CheckOptions
	GitHub ghclient.Flags
}

// AddFlags registers the flags.
func (o *OrgsDumpOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Org, "org", "", "the GitHub org to read")
	fs.StringVarP(&o.Output, "output", "o", "", "file to write the state to; standard output when empty")
	fs.StringVar(&o.Config.ConfigPath, "config-path", "", "Prow's config.yaml (its branch-protection section)")
	fs.StringVar(&o.Config.JobConfigPath, "job-config-path", "", "job config file or directory (required contexts of branch protection)")
	fs.StringArrayVar(&o.Config.OrgConfig, "org-config", nil, "peribolos org config file, or directory of org.yaml and teams.yaml files (repeatable)")
	fs.StringVar(&o.Config.Labels, "labels", "", "label_sync's labels.yaml")
	o.GitHub.AddFlags(fs)
}

// Validate reports flag values that cannot work.
func (o *OrgsDumpOptions) Validate() error {
	var errs []error
	if o.Org == "" {
		errs = append(errs, errors.New("--org is required"))
	}
	if o.Config.ConfigPath == "" && len(o.Config.OrgConfig) == 0 && o.Config.Labels == "" {
		errs = append(errs, errors.New("give the configuration to plan with: --org-config, --config-path or --labels"))
	}
	if o.GitHub.TokenPath == "" && o.GitHub.AppID == 0 {
		errs = append(errs, errors.New("GitHub credentials are required: --github-token-path or --github-app-id"))
	}
	if err := o.GitHub.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func newOrgsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "orgs",
		Short: "Work with the GitHub orgs a configuration administers",
		Args:  cobra.NoArgs,
	}
	o := &OrgsDumpOptions{}
	dump := &cobra.Command{
		Use:   "dump",
		Short: "Write what an org looks like on GitHub, for bowline check --org-state",
		Long: `Read one org from GitHub, as the orgs role reads it before planning, and
write it as JSON. Only what the configuration manages is read: settings,
members and teams when it has an org config, branches and their protection
where branch protection applies, labels when it has labels.yaml.

bowline check --plan-orgs --org-state FILE then prints, offline, exactly the
plan the orgs role would make against that org.`,
		Example: `  bowline orgs dump --org acme --org-config config/orgs \
    --config-path config/prow/config.yaml --labels config/labels.yaml \
    --github-token-path token -o acme.json
  bowline check --org-config config/orgs --plan-orgs --org-state acme.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "Error:", err)
				return exitError{code: 2}
			}
			return runOrgsDump(cmd, o)
		},
	}
	o.AddFlags(dump.Flags())
	cmd.AddCommand(dump)
	return cmd
}

func runOrgsDump(cmd *cobra.Command, o *OrgsDumpOptions) error {
	set, err := configset.LoadDir(cmd.Context(), "", o.Config.loadOptions())
	if err != nil {
		return fmt.Errorf("load the configuration: %w", err)
	}
	opts, err := o.GitHub.Options()
	if err != nil {
		return err
	}
	c, err := ghclient.New(opts)
	if err != nil {
		return err
	}
	gh, err := c.ForOrg(o.Org)
	if err != nil {
		return err
	}
	s, err := org.Observe(cmd.Context(), gh, plan.DesiredFor(set, o.Org, plan.Options{}, time.Now()))
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if o.Output == "" {
		_, err = cmd.OutOrStdout().Write(b)
		return err
	}
	return os.WriteFile(o.Output, b, 0o600)
}
