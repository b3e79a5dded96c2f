package reporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"text/template"

	"github.com/slack-go/slack"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// SlackName is the Slack reporter's key in status.reports.
const SlackName = "slack"

// DefaultSlackHost names the Slack workspace of --slack-token-file, the one
// a setting without host posts to.
const DefaultSlackHost = "*"

// DefaultSlackTemplate is Prow's default report_template.
const DefaultSlackTemplate = `Job {{.Spec.Job}} of type {{.Spec.Type}} ended with state {{.Status.State}}. <{{.Status.URL}}|View logs>`

// SlackConfig is the configuration's slack_reporter_configs.
type SlackConfig struct {
	// Namespace is config.yaml's prowjob_namespace; empty reports every
	// namespace.
	Namespace string
	// Reporters maps "*", "org" or "org/repo" to the Slack settings of
	// their runs; the most specific key wins.
	Reporters map[string]SlackSettings
}

// SlackSettings is one slack_reporter_configs entry.
type SlackSettings struct {
	// JobTypesToReport are the job types reported (Prow's default: all).
	JobTypesToReport []v1alpha1.ProwJobType
	// SlackReporterConfig is where and what: host, channel, states,
	// template, report.
	v1alpha1.SlackReporterConfig
}

// SlackConfigFrom reads slack_reporter_configs from a loaded configuration.
// An entry with an empty job_states_to_report reports nothing, as in Prow.
func SlackConfigFrom(set *configset.Set) SlackConfig {
	var c SlackConfig
	if set == nil || set.Config == nil {
		return c
	}
	c.Namespace = set.Config.ProwJobNamespace
	for k, s := range set.Config.SlackReporterConfigs {
		e := SlackSettings{SlackReporterConfig: v1alpha1.SlackReporterConfig{
			Host: s.Host, Channel: s.Channel, ReportTemplate: s.ReportTemplate, Report: s.Report,
		}}
		for _, t := range s.JobTypesToReport {
			e.JobTypesToReport = append(e.JobTypesToReport, v1alpha1.ProwJobType(t))
		}
		for _, st := range s.JobStatesToReport {
			e.JobStatesToReport = append(e.JobStatesToReport, v1alpha1.ProwJobState(st))
		}
		if s.JobStatesToReport != nil && len(s.JobStatesToReport) == 0 && e.Report == nil {
			no := false
			e.Report = &no
		}
		if c.Reporters == nil {
			c.Reporters = map[string]SlackSettings{}
		}
		c.Reporters[k] = e
	}
	return c
}

// settingsFor is the entry for a run's repository: its refs, or its first
// extra ref; org/repo, then org, then "*".
func (c SlackConfig) settingsFor(pj *v1alpha1.ProwJob) SlackSettings {
	refs := pj.Spec.Refs
	if refs == nil && len(pj.Spec.ExtraRefs) > 0 {
		refs = &pj.Spec.ExtraRefs[0]
	}
	if refs != nil {
		if s, ok := c.Reporters[refs.Org+"/"+refs.Repo]; ok {
			return s
		}
		if s, ok := c.Reporters[refs.Org]; ok {
			return s
		}
	}
	return c.Reporters["*"]
}

// mergeSlack is the job's reporter_config.slack with the configuration's
// entry filling what it leaves unset (Prow's ApplyDefault).
func mergeSlack(job *v1alpha1.SlackReporterConfig, def v1alpha1.SlackReporterConfig) v1alpha1.SlackReporterConfig {
	if job == nil {
		return def
	}
	m := *job.DeepCopy()
	if m.Channel == "" {
		m.Channel = def.Channel
	}
	if m.Host == "" {
		m.Host = def.Host
	}
	if m.JobStatesToReport == nil {
		m.JobStatesToReport = def.JobStatesToReport
	}
	if m.ReportTemplate == "" {
		m.ReportTemplate = def.ReportTemplate
	}
	if m.Report == nil {
		m.Report = def.Report
	}
	return m
}

func jobSlack(pj *v1alpha1.ProwJob) *v1alpha1.SlackReporterConfig {
	if rc := pj.Spec.ReporterConfig; rc != nil {
		return rc.Slack
	}
	return nil
}

// shouldSlack applies Prow's rules (crier's slack reporter): the run's type
// is in the entry's job_types_to_report, or the job names a channel of its
// own; and its state is in job_states_to_report (the job's overriding the
// entry's), unless report is false. It returns the merged settings.
func (c SlackConfig) shouldSlack(pj *v1alpha1.ProwJob) (v1alpha1.SlackReporterConfig, bool) {
	entry := c.settingsFor(pj)
	job := jobSlack(pj)
	typeReports := slices.Contains(entry.JobTypesToReport, pj.Spec.Type)
	jobReports := job != nil && job.Channel != ""
	merged := mergeSlack(job, entry.SlackReporterConfig)
	if merged.Report != nil && !*merged.Report {
		return merged, false
	}
	stateReports := slices.Contains(merged.JobStatesToReport, pj.Status.State)
	return merged, stateReports && (typeReports || jobReports)
}

// SlackPoster posts a message to a channel; a *slack.Client is one.
type SlackPoster interface {
	PostMessageContext(ctx context.Context, channel string, options ...slack.MsgOption) (string, string, error)
}

// SlackReconciler reports runs to Slack, as Prow's crier does with its
// Slack reporter: one message per reported state, recorded under "slack"
// in status.reports so that nothing is posted twice.
type SlackReconciler struct {
	// Client reads ProwJobs (through the cache) and patches their status.
	Client client.Client
	// APIReader reads a run afresh when recording a report conflicted
	// with another writer; default the manager's uncached reader.
	APIReader client.Reader
	// Config returns slack_reporter_configs of the applied configuration.
	Config func() SlackConfig
	// Clients are the Slack workspaces by host: DefaultSlackHost for
	// --slack-token-file, others from --additional-slack-token-files.
	Clients map[string]SlackPoster
	// Clock stamps the reports.
	Clock clock.PassiveClock
	// MaxConcurrentReconciles is how many runs are reported at once;
	// default 1, as prow.k8s.io's --slack-workers.
	MaxConcurrentReconciles int
}

// Reconcile posts one run's state if the settings want it and it was not
// posted yet.
func (r *SlackReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	pj := &v1alpha1.ProwJob{}
	if err := r.Client.Get(ctx, req.NamespacedName, pj); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	cfg := r.Config()
	if (cfg.Namespace != "" && pj.Namespace != cfg.Namespace) || pj.Status.State == "" || reportedBy(pj, SlackName) == pj.Status.State {
		return ctrl.Result{}, nil
	}
	settings, ok := cfg.shouldSlack(pj)
	if !ok {
		return ctrl.Result{}, nil
	}
	text, err := slackMessage(settings.ReportTemplate, pj)
	if err != nil {
		// A template that cannot render will not render on a retry.
		ctrl.LoggerFrom(ctx).Error(err, "Cannot render the Slack message", "job", pj.Spec.Job)
		return ctrl.Result{}, nil
	}
	host := settings.Host
	if host == "" {
		host = DefaultSlackHost
	}
	poster, ok := r.Clients[host]
	if !ok {
		ctrl.LoggerFrom(ctx).Info("No Slack token for the workspace a job reports to", "host", host, "job", pj.Spec.Job)
		return ctrl.Result{}, nil
	}
	if settings.Channel == "" {
		ctrl.LoggerFrom(ctx).Info("No Slack channel for a job", "job", pj.Spec.Job)
		return ctrl.Result{}, nil
	}
	if _, _, err := poster.PostMessageContext(ctx, settings.Channel, slack.MsgOptionText(text, false)); err != nil {
		return ctrl.Result{}, fmt.Errorf("post to Slack channel %s: %w", settings.Channel, err)
	}
	orig := pj.DeepCopy()
	setReportBy(&pj.Status, SlackName, pj.Status.State, metav1.NewTime(r.Clock.Now()))
	return ctrl.Result{}, patchReports(ctx, r.Client, r.APIReader, orig, pj)
}

// slackMessage renders the report template (Prow's default when empty)
// over the run.
func slackMessage(tmpl string, pj *v1alpha1.ProwJob) (string, error) {
	if tmpl == "" {
		tmpl = DefaultSlackTemplate
	}
	t, err := template.New("report_template").Parse(tmpl)
	if err != nil {
		return "", fmt.Errorf("parse report_template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, pj); err != nil {
		return "", fmt.Errorf("render report_template: %w", err)
	}
	return b.String(), nil
}

// SetupWithManager registers the Slack reporter.
func (r *SlackReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if len(r.Clients) == 0 {
		return errors.New("slack reporter: no Slack token")
	}
	if r.Config == nil {
		return errors.New("slack reporter: Config is required")
	}
	if r.Client == nil {
		r.Client = mgr.GetClient()
	}
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.MaxConcurrentReconciles <= 0 {
		r.MaxConcurrentReconciles = 1
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("reporter-slack").
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		For(&v1alpha1.ProwJob{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool {
			pj := o.(*v1alpha1.ProwJob)
			return pj.Status.State != "" && reportedBy(pj, SlackName) != pj.Status.State
		}))).
		Complete(r)
}
