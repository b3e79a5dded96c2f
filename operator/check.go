package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/deploy"
	"github.com/bowline-ci/bowline/schema/jobs"
)

// CheckOptions configures `bowline check`. Flag names are those of Prow's
// checkconfig where it has them.
type CheckOptions struct {
	// ConfigPath is config.yaml.
	ConfigPath string
	// JobConfigPath is a job config file or directory.
	JobConfigPath string
	// PluginConfig is plugins.yaml.
	PluginConfig string
	// SupplementalProwConfigDirs hold *_prowconfig.yaml files.
	SupplementalProwConfigDirs []string
	// SupplementalPluginConfigDirs hold *_pluginconfig.yaml files.
	SupplementalPluginConfigDirs []string
	// OrgConfig are peribolos files or directories of them.
	OrgConfig []string
	// Labels is label_sync's labels.yaml.
	Labels string
	// OwnersDir is searched for OWNERS and OWNERS_ALIASES files.
	OwnersDir string
	// DeployConfig is bowline's own deployment file, or the directory
	// holding it.
	DeployConfig string
	// Output is text or json.
	Output string
	// Strict turns every warning into an error.
	Strict bool
	// PlanOrgs prints the plan of every org the configuration manages.
	PlanOrgs bool
	// OrgStates are orgs as `bowline orgs dump` wrote them, to plan
	// against; they imply PlanOrgs.
	OrgStates []string
}

// AddFlags registers the check flags.
func (o *CheckOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.ConfigPath, "config-path", "", "Prow's config.yaml")
	fs.StringVar(&o.JobConfigPath, "job-config-path", "", "job config file, or directory searched for *.yaml and *.yml")
	fs.StringVar(&o.PluginConfig, "plugin-config", "", "Prow's plugins.yaml")
	fs.StringArrayVar(&o.SupplementalProwConfigDirs, "supplemental-prow-config-dir", nil, "directory of *"+configset.SupplementalProwConfigSuffix+" files merged into config.yaml (repeatable)")
	fs.StringArrayVar(&o.SupplementalPluginConfigDirs, "supplemental-plugin-config-dir", nil, "directory of *"+configset.SupplementalPluginConfigSuffix+" files merged into plugins.yaml (repeatable)")
	fs.StringArrayVar(&o.OrgConfig, "org-config", nil, "peribolos org config file, or directory of org.yaml and teams.yaml files (repeatable)")
	fs.StringVar(&o.Labels, "labels", "", "label_sync's labels.yaml")
	fs.StringVar(&o.OwnersDir, "owners-dir", "", "directory searched for OWNERS and OWNERS_ALIASES files")
	fs.StringVar(&o.DeployConfig, "deploy-config", "", "bowline's own deployment file ("+deploy.FileName+"), or the directory holding it (the ConfigRepository's paths.deploy)")
	fs.StringVar(&o.Output, "output", "text", "output format: text or json")
	fs.BoolVar(&o.Strict, "strict", false, "treat every warning as an error: what Prow accepts but is almost certainly a mistake, and what bowline does not act on yet")
	fs.BoolVar(&o.PlanOrgs, "plan-orgs", false, "print what the orgs role would change in each org the configuration manages, against an empty org or --org-state")
	fs.StringArrayVar(&o.OrgStates, "org-state", nil, "an org as `bowline orgs dump` wrote it, to plan against instead of an empty org (repeatable; implies --plan-orgs)")
}

// Validate reports flag values that cannot work.
func (o *CheckOptions) Validate() error {
	var errs []error
	switch o.Output {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("--output must be text or json, not %q", o.Output))
	}
	if o.ConfigPath == "" && o.JobConfigPath == "" && o.PluginConfig == "" && len(o.OrgConfig) == 0 &&
		o.Labels == "" && o.OwnersDir == "" && o.DeployConfig == "" && len(o.SupplementalProwConfigDirs) == 0 && len(o.SupplementalPluginConfigDirs) == 0 {
		errs = append(errs, errors.New("nothing to check: give --config-path, --job-config-path, --plugin-config, --org-config, --labels, --owners-dir or --deploy-config"))
	}
	return errors.Join(errs...)
}

func (o *CheckOptions) loadOptions() configset.Options {
	return configset.Options{
		ConfigPath:                   o.ConfigPath,
		JobConfigPath:                o.JobConfigPath,
		PluginConfigPath:             o.PluginConfig,
		SupplementalProwConfigDirs:   o.SupplementalProwConfigDirs,
		SupplementalPluginConfigDirs: o.SupplementalPluginConfigDirs,
		OrgConfigPaths:               o.OrgConfig,
		LabelsPath:                   o.Labels,
		OwnersDir:                    o.OwnersDir,
		DeployDir:                    o.DeployConfig,
		Strict:                       o.Strict,
	}
}

func newCheckCommand() *cobra.Command {
	o := &CheckOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate a Prow-style configuration offline",
		Long: `Load and validate a configuration the way Prow's checkconfig does, but
strictly: unknown fields, wrong types and invalid values are errors, all of
them reported at once as file:line:col: message.

What Prow accepts but is almost certainly a mistake (a key given twice, a
deprecated plugin name), and what bowline reads but does not act on yet, is
reported as a warning; --strict makes every warning an error.

Exit status: 0 when the configuration is valid, 1 when it is not (the errors
are printed), 2 when the flags are wrong. --output json prints the errors,
the warnings, the summary and every job for other tools.

--plan-orgs prints what the orgs role would change in every org the
configuration administers (peribolos' org config, branch protection,
labels), with the same planner: against an empty org, or against an org as
"bowline orgs dump" read it (--org-state). Plans that the default safety
limits would refuse are marked.`,
		Example: `  bowline check --config-path config/prow/config.yaml \
    --job-config-path config/jobs --plugin-config config/prow/plugins.yaml
  bowline check --org-config config/ --labels label_sync/labels.yaml --output json
  bowline check --strict --config-path config.yaml --job-config-path jobs
  bowline check --org-config config/orgs --config-path config/prow/config.yaml \
    --job-config-path config/jobs --labels config/labels.yaml --plan-orgs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "Error:", err)
				return exitError{code: 2}
			}
			return runCheck(cmd, o)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

// checkReport is the JSON output of `bowline check --output json`.
type checkReport struct {
	Valid    bool               `json:"valid"`
	Errors   []configset.Error  `json:"errors"`
	Warnings []configset.Error  `json:"warnings"`
	Summary  *configset.Summary `json:"summary,omitempty"`
	Jobs     []checkJob         `json:"jobs"`
	// OrgPlans are the orgs' plans, with --plan-orgs.
	OrgPlans []orgPlanReport `json:"orgPlans,omitempty"`
	// Deployment is what the deployment file deploys, with --deploy-config.
	Deployment *checkDeployment `json:"deployment,omitempty"`
}

// checkDeployment describes bowline's own deployment for other tools.
type checkDeployment struct {
	Image string            `json:"image"`
	Roles []checkDeployRole `json:"roles"`
}

// checkDeployRole is one role deployed apart.
type checkDeployRole struct {
	Name     string   `json:"name"`
	Replicas int32    `json:"replicas"`
	Flags    []string `json:"flags,omitempty"`
}

func describeDeployment(c *deploy.Config) *checkDeployment {
	if c == nil {
		return nil
	}
	d := &checkDeployment{Image: c.Image.Ref, Roles: []checkDeployRole{}}
	for _, name := range c.Names() {
		r := c.Roles[name]
		d.Roles = append(d.Roles, checkDeployRole{Name: name, Replicas: r.ReplicasOrDefault(), Flags: r.Args()})
	}
	return d
}

// checkJob describes one job for other tools.
type checkJob struct {
	Type    string `json:"type"`
	Repo    string `json:"repo,omitempty"`
	Name    string `json:"name"`
	Context string `json:"context,omitempty"`
	// TriggerMode keeps Prow's distinctions: always, run_if_changed,
	// skip_if_only_changed or manual (presubmits); always, run_if_changed,
	// skip_if_only_changed or never (postsubmits); cron, interval or
	// minimum_interval (periodics).
	TriggerMode string `json:"triggerMode"`
	// RunIfChanged and SkipIfOnlyChanged are the change matcher's pattern.
	RunIfChanged      string `json:"runIfChanged,omitempty"`
	SkipIfOnlyChanged string `json:"skipIfOnlyChanged,omitempty"`
	// RunBeforeMerge jobs are started by the merge pool, not by trigger.
	RunBeforeMerge bool   `json:"runBeforeMerge,omitempty"`
	Schedule       string `json:"schedule,omitempty"`
	Optional       bool   `json:"optional"`
	RerunCommand   string `json:"rerunCommand,omitempty"`
	Cluster        string `json:"cluster"`
	File           string `json:"file,omitempty"`
	Line           int    `json:"line,omitempty"`
}

func runCheck(cmd *cobra.Command, o *CheckOptions) error {
	set, err := configset.LoadDir(cmd.Context(), "", o.loadOptions())
	var errs *configset.Errors
	if err != nil && !errors.As(err, &errs) {
		return err
	}
	report := checkReport{Valid: err == nil, Errors: []configset.Error{}, Warnings: []configset.Error{}, Jobs: []checkJob{}}
	if errs != nil {
		report.Errors, report.Warnings = errs.List, append(report.Warnings, errs.Warnings...)
	}
	if set != nil {
		sum := set.Summary()
		report.Summary = &sum
		report.Warnings = append(report.Warnings, set.Warnings...)
		report.Jobs = listJobs(set.Jobs)
		report.Deployment = describeDeployment(set.Deploy)
		if o.PlanOrgs || len(o.OrgStates) > 0 {
			if report.OrgPlans, err = planOrgs(set, o.OrgStates, time.Now()); err != nil {
				return err
			}
		}
	}
	out := cmd.OutOrStdout()
	if o.Output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			return err
		}
	} else {
		printCheckText(out, cmd.ErrOrStderr(), report)
		printOrgPlans(out, report.OrgPlans)
	}
	if !report.Valid {
		return exitError{code: 1}
	}
	return nil
}

func printCheckText(out, errOut io.Writer, r checkReport) {
	for _, w := range r.Warnings {
		fmt.Fprintln(errOut, "warning: "+w.String())
	}
	if !r.Valid {
		for _, e := range r.Errors {
			fmt.Fprintln(errOut, e.String())
		}
		fmt.Fprintf(errOut, "Configuration is invalid: %d %s.\n", len(r.Errors), plural(len(r.Errors), "error", "errors"))
		return
	}
	s := r.Summary
	fmt.Fprintln(out, "Configuration is valid.")
	fmt.Fprintf(out, "Jobs: %d presubmits, %d postsubmits, %d periodics (%d in all) across %d repositories\n",
		s.Presubmits, s.Postsubmits, s.Periodics, s.Presubmits+s.Postsubmits+s.Periodics, s.Repositories)
	fmt.Fprintf(out, "Plugins: %d enabled, %d external\n", s.Plugins, s.ExternalPlugins)
	var extra []string
	if s.Orgs > 0 {
		extra = append(extra, fmt.Sprintf("%d orgs with %d teams", s.Orgs, s.Teams))
	}
	if s.Labels > 0 {
		extra = append(extra, fmt.Sprintf("%d labels", s.Labels))
	}
	if s.OwnersFiles > 0 {
		extra = append(extra, fmt.Sprintf("%d OWNERS files", s.OwnersFiles))
	}
	if len(extra) > 0 {
		fmt.Fprintln(out, "Also: "+strings.Join(extra, ", "))
	}
	if d := r.Deployment; d != nil {
		var roles []string
		for _, role := range d.Roles {
			roles = append(roles, fmt.Sprintf("%s (%d)", role.Name, role.Replicas))
		}
		fmt.Fprintf(out, "Deployment: %s; in Deployments of their own: %s\n", d.Image, strings.Join(roles, ", "))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// listJobs lists every job, sorted by type, repo and name.
func listJobs(c *jobs.Config) []checkJob {
	var out []checkJob
	for repo, list := range c.Presubmits {
		for _, p := range list {
			out = append(out, checkJob{
				Type: jobs.TypePresubmit, Repo: repo, Name: p.Name, Context: p.Context,
				TriggerMode: p.TriggerMode(), RunIfChanged: p.RunIfChanged, SkipIfOnlyChanged: p.SkipIfOnlyChanged,
				RunBeforeMerge: p.RunBeforeMerge, Optional: p.Optional, RerunCommand: p.RerunCommand,
				Cluster: p.Cluster, File: p.Pos.File, Line: p.Pos.Line,
			})
		}
	}
	for repo, list := range c.Postsubmits {
		for _, p := range list {
			out = append(out, checkJob{
				Type: jobs.TypePostsubmit, Repo: repo, Name: p.Name, Context: p.Context,
				TriggerMode: p.TriggerMode(), RunIfChanged: p.RunIfChanged, SkipIfOnlyChanged: p.SkipIfOnlyChanged,
				Cluster: p.Cluster, File: p.Pos.File, Line: p.Pos.Line,
			})
		}
	}
	for _, p := range c.Periodics {
		j := checkJob{Type: jobs.TypePeriodic, Repo: p.Repo(), Name: p.Name, Cluster: p.Cluster, File: p.Pos.File, Line: p.Pos.Line}
		switch {
		case p.Cron != "":
			j.TriggerMode, j.Schedule = "cron", p.Cron
		case p.Interval != "":
			j.TriggerMode, j.Schedule = "interval", p.Interval
		default:
			j.TriggerMode, j.Schedule = "minimum_interval", p.MinimumInterval
		}
		out = append(out, j)
	}
	slices.SortFunc(out, func(a, b checkJob) int {
		return strings.Compare(a.Type+"\x00"+a.Repo+"\x00"+a.Name+"\x00"+a.File, b.Type+"\x00"+b.Repo+"\x00"+b.Name+"\x00"+b.File)
	})
	return out
}
