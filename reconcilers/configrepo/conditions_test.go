package configrepo

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/snapshot"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// cond is the part of a condition the table compares.
type cond struct {
	Status  metav1.ConditionStatus
	Reason  string
	Message string // a substring the message must contain
}

func TestSetConditions(t *testing.T) {
	sum := &v1alpha1.ConfigSummary{Presubmits: 2, Postsubmits: 1, Periodics: 3, Plugins: 4}
	errs := []string{"a.yaml:1:1: x", "b.yaml:2:3: y", "c.yaml:3:1: z", "d.yaml:4:1: w"}
	tests := []struct {
		name  string
		prior []metav1.Condition
		// warnings is status.warningCount, the last validated revision's.
		warnings int32
		o        outcome
		want     map[string]*cond // nil: the condition must be absent
	}{{
		name:     "applied, with warnings",
		warnings: 3,
		o:        outcome{Applied: "main@sha1:a", Attempted: "main@sha1:a", Summary: sum},
		want: map[string]*cond{
			v1alpha1.ConditionReady: {metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Applied revision main@sha1:a (3 warnings in status.warnings)"},
		},
	}, {
		name: "applied",
		o:    outcome{Applied: "main@sha1:a", Attempted: "main@sha1:a", NewlyApplied: true, Summary: sum},
		want: map[string]*cond{
			v1alpha1.ConditionReady:        {metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "Applied revision main@sha1:a"},
			v1alpha1.ConditionReconciling:  nil,
			v1alpha1.ConditionStalled:      nil,
			v1alpha1.ConditionJobsReady:    {metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "2 presubmits, 1 postsubmits and 3 periodics"},
			v1alpha1.ConditionPluginsReady: {metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "4 plugins"},
		},
	}, {
		name:  "invalid after a good revision",
		prior: []metav1.Condition{{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: "ProgressingWithRetry"}},
		o:     outcome{Failure: v1alpha1.ReasonValidationFailed, Applied: "main@sha1:a", Attempted: "main@sha1:b", Errors: errs, Summary: sum},
		want: map[string]*cond{
			v1alpha1.ConditionReady:        {metav1.ConditionFalse, v1alpha1.ReasonValidationFailed, "Revision main@sha1:b is invalid (4 errors): a.yaml:1:1: x; b.yaml:2:3: y; c.yaml:3:1: z; and 1 more in status.validationErrors; revision main@sha1:a stays applied"},
			v1alpha1.ConditionStalled:      {metav1.ConditionTrue, v1alpha1.ReasonValidationFailed, "b.yaml:2:3: y"},
			v1alpha1.ConditionReconciling:  nil,
			v1alpha1.ConditionJobsReady:    {metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "from revision main@sha1:a"},
			v1alpha1.ConditionPluginsReady: {metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "from revision main@sha1:a"},
		},
	}, {
		name: "the same invalid revision again keeps its message",
		o:    outcome{Failure: v1alpha1.ReasonValidationFailed, Detail: "Revision main@sha1:b is invalid (120 errors): …", Applied: "main@sha1:a", Attempted: "main@sha1:b", Errors: errs, Summary: sum},
		want: map[string]*cond{
			v1alpha1.ConditionReady:   {metav1.ConditionFalse, v1alpha1.ReasonValidationFailed, "(120 errors)"},
			v1alpha1.ConditionStalled: {metav1.ConditionTrue, v1alpha1.ReasonValidationFailed, "(120 errors)"},
		},
	}, {
		name: "invalid first revision",
		o:    outcome{Failure: v1alpha1.ReasonValidationFailed, Attempted: "main@sha1:b", Errors: errs[:1]},
		want: map[string]*cond{
			v1alpha1.ConditionReady:     {metav1.ConditionFalse, v1alpha1.ReasonValidationFailed, "(1 error): a.yaml:1:1: x; no valid revision has been applied yet"},
			v1alpha1.ConditionStalled:   {metav1.ConditionTrue, v1alpha1.ReasonValidationFailed, ""},
			v1alpha1.ConditionJobsReady: {metav1.ConditionFalse, v1alpha1.ReasonValidationFailed, "No revision applied yet"},
		},
	}, {
		name:  "fetch failure is transient: never stalled",
		prior: []metav1.Condition{{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonValidationFailed}},
		o:     outcome{Failure: v1alpha1.ReasonFetchFailed, Detail: "fetch branch main: authentication required", Applied: "main@sha1:a", Summary: sum},
		want: map[string]*cond{
			v1alpha1.ConditionReady:       {metav1.ConditionFalse, v1alpha1.ReasonFetchFailed, "authentication required; revision main@sha1:a stays applied"},
			v1alpha1.ConditionReconciling: {metav1.ConditionTrue, reasonProgressingWithRetry, "Retrying: fetch branch main"},
			v1alpha1.ConditionStalled:     nil,
			v1alpha1.ConditionJobsReady:   {metav1.ConditionTrue, v1alpha1.ReasonSucceeded, ""},
		},
	}, {
		name: "publish failure is transient",
		o:    outcome{Failure: v1alpha1.ReasonPublishFailed, Detail: "publish snapshot: forbidden"},
		want: map[string]*cond{
			v1alpha1.ConditionReady:       {metav1.ConditionFalse, v1alpha1.ReasonPublishFailed, "forbidden; no valid revision"},
			v1alpha1.ConditionReconciling: {metav1.ConditionTrue, reasonProgressingWithRetry, ""},
			v1alpha1.ConditionStalled:     nil,
		},
	}, {
		name: "plugins, orgs and deployment not implemented",
		o: outcome{Applied: "main@sha1:a", Attempted: "main@sha1:a", Summary: sum, OrgsReported: true, DeployReported: true, DeployDir: "config/bowline",
			Missing: NotImplemented{Plugins: []string{"approve", "lgtm"}, Enabled: 3, Orgs: 1, Labels: 12, DeployFiles: 2}},
		want: map[string]*cond{
			v1alpha1.ConditionReady:           {metav1.ConditionTrue, v1alpha1.ReasonSucceeded, ""},
			v1alpha1.ConditionPluginsReady:    {metav1.ConditionFalse, v1alpha1.ReasonNotImplemented, "2 of the 3 plugins enabled are not implemented yet and do nothing: approve, lgtm (revision main@sha1:a)"},
			v1alpha1.ConditionOrgsSynced:      {metav1.ConditionFalse, v1alpha1.ReasonNotImplemented, "Org administration is not implemented yet: the settings of 1 org (peribolos) and 12 labels (label_sync) are validated but not applied to GitHub"},
			v1alpha1.ConditionDeploymentReady: {metav1.ConditionFalse, v1alpha1.ReasonNotImplemented, "the 2 files under config/bowline are not applied"},
		},
	}, {
		name: "nothing left unimplemented removes what was reported",
		prior: []metav1.Condition{
			{Type: v1alpha1.ConditionOrgsSynced, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonNotImplemented},
			{Type: v1alpha1.ConditionDeploymentReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonNotImplemented},
		},
		o: outcome{Applied: "main@sha1:b", Attempted: "main@sha1:b", Summary: sum, OrgsReported: true, DeployReported: true, Missing: NotImplemented{Enabled: 4}},
		want: map[string]*cond{
			v1alpha1.ConditionPluginsReady:    {metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "4 plugins in effect"},
			v1alpha1.ConditionOrgsSynced:      nil,
			v1alpha1.ConditionDeploymentReady: nil,
		},
	}, {
		name: "conditions of implemented components are left to them",
		prior: []metav1.Condition{
			{Type: v1alpha1.ConditionOrgsSynced, Status: metav1.ConditionTrue, Reason: "Synced", Message: "by the orgs role"},
		},
		o: outcome{Applied: "main@sha1:b", Attempted: "main@sha1:b", Summary: sum, Missing: NotImplemented{Enabled: 4}},
		want: map[string]*cond{
			v1alpha1.ConditionOrgsSynced: {metav1.ConditionTrue, "Synced", "by the orgs role"},
		},
	}, {
		name: "suspended",
		prior: []metav1.Condition{
			{Type: v1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonValidationFailed},
			{Type: v1alpha1.ConditionJobsReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonSucceeded, Message: "kept"},
		},
		o: outcome{Suspended: true, Applied: "main@sha1:a"},
		want: map[string]*cond{
			v1alpha1.ConditionReady:       {metav1.ConditionFalse, v1alpha1.ReasonSuspended, "suspended; revision main@sha1:a stays applied"},
			v1alpha1.ConditionStalled:     nil,
			v1alpha1.ConditionReconciling: nil,
			v1alpha1.ConditionJobsReady:   {metav1.ConditionTrue, v1alpha1.ReasonSucceeded, "kept"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := &v1alpha1.ConfigRepository{ObjectMeta: metav1.ObjectMeta{Generation: 7}}
			obj.Status.Conditions, obj.Status.WarningCount = tt.prior, tt.warnings
			setConditions(obj, tt.o)
			for typ, want := range tt.want {
				var got *metav1.Condition
				for i := range obj.Status.Conditions {
					if obj.Status.Conditions[i].Type == typ {
						got = &obj.Status.Conditions[i]
					}
				}
				switch {
				case want == nil && got != nil:
					t.Errorf("%s = %s/%s, want absent", typ, got.Status, got.Reason)
				case want != nil && got == nil:
					t.Errorf("%s absent, want %s/%s", typ, want.Status, want.Reason)
				case want != nil:
					if got.Status != want.Status || got.Reason != want.Reason || !strings.Contains(got.Message, want.Message) {
						t.Errorf("%s = %s/%s %q, want %s/%s containing %q", typ, got.Status, got.Reason, got.Message, want.Status, want.Reason, want.Message)
					}
					if tt.o.Suspended && typ == v1alpha1.ConditionJobsReady || tt.name == "conditions of implemented components are left to them" {
						break // untouched
					}
					if got.ObservedGeneration != 7 {
						t.Errorf("%s observedGeneration = %d, want 7", typ, got.ObservedGeneration)
					}
				}
			}
		})
	}
}

func TestOutcomeResult(t *testing.T) {
	tests := []struct {
		o    outcome
		want string
	}{
		{outcome{NewlyApplied: true}, resultApplied},
		{outcome{}, resultUnchanged},
		{outcome{Failure: v1alpha1.ReasonFetchFailed}, v1alpha1.ReasonFetchFailed},
		{outcome{Failure: v1alpha1.ReasonValidationFailed, NewlyApplied: true}, v1alpha1.ReasonValidationFailed},
	}
	for _, tt := range tests {
		if got := tt.o.result(); got != tt.want {
			t.Errorf("%+v.result() = %s, want %s", tt.o, got, tt.want)
		}
	}
}

func TestRecordHistory(t *testing.T) {
	at := func(s int) metav1.Time { return metav1.NewTime(time.Unix(int64(s), 0)) }
	rec := func(rev, result string, s int) v1alpha1.ReconcileRecord {
		return v1alpha1.ReconcileRecord{Revision: rev, Result: result, Time: at(s)}
	}
	var five []v1alpha1.ReconcileRecord
	for i := 5; i >= 1; i-- {
		five = append(five, rec(fmt.Sprint(i), resultApplied, i))
	}
	tests := []struct {
		name string
		h    []v1alpha1.ReconcileRecord
		rec  v1alpha1.ReconcileRecord
		want []v1alpha1.ReconcileRecord
	}{
		{"first", nil, rec("a", resultApplied, 1), []v1alpha1.ReconcileRecord{rec("a", resultApplied, 1)}},
		{"new result goes first", []v1alpha1.ReconcileRecord{rec("a", resultApplied, 1)}, rec("a", resultUnchanged, 2),
			[]v1alpha1.ReconcileRecord{rec("a", resultUnchanged, 2), rec("a", resultApplied, 1)}},
		{"a repeat replaces the newest", []v1alpha1.ReconcileRecord{rec("a", resultUnchanged, 2), rec("a", resultApplied, 1)}, rec("a", resultUnchanged, 3),
			[]v1alpha1.ReconcileRecord{rec("a", resultUnchanged, 3), rec("a", resultApplied, 1)}},
		{"bounded to five", five, rec("6", resultApplied, 6),
			append([]v1alpha1.ReconcileRecord{rec("6", resultApplied, 6)}, five[:4]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, recordHistory(tt.h, tt.rec)); diff != "" {
				t.Errorf("recordHistory (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBoundErrors(t *testing.T) {
	var many []string
	for i := range 80 {
		many = append(many, fmt.Sprintf("f.yaml:%d:1: bad", i+1))
	}
	long := strings.Repeat("x", 2000)
	tests := []struct {
		name    string
		in      []string
		wantLen int
		wantMax int
	}{
		{"none", nil, 0, 0},
		{"few", many[:3], 3, 20},
		{"bounded", many, maxStatusErrors, 20},
		{"long lines cut", []string{long}, 1, maxErrorLen + len("…")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := boundErrors(tt.in)
			if len(got) != tt.wantLen {
				t.Fatalf("len = %d, want %d", len(got), tt.wantLen)
			}
			for _, e := range got {
				if len(e) > tt.wantMax {
					t.Errorf("entry of %d bytes, want at most %d", len(e), tt.wantMax)
				}
			}
		})
	}
}

func TestJitter(t *testing.T) {
	tests := []struct {
		r    float64
		want time.Duration
	}{
		{0, 57 * time.Second},
		{0.5, time.Minute},
		{0.999999, 63 * time.Second},
	}
	for _, tt := range tests {
		got := jitter(time.Minute, 0.05, tt.r)
		if d := got - tt.want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("jitter(1m, 5%%, %v) = %s, want %s", tt.r, got, tt.want)
		}
	}
}

func TestCapabilitiesMissing(t *testing.T) {
	load := func(t *testing.T, files map[string]string) *configset.Set {
		t.Helper()
		fsys := fstest.MapFS{}
		for name, content := range files {
			fsys[name] = &fstest.MapFile{Data: []byte(content)}
		}
		set, err := snapshot.Load(context.Background(), fsys, v1alpha1.ConfigPaths{}, false)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	withOrgs := load(t, map[string]string{
		"config/prow/plugins.yaml":   "plugins:\n  acme:\n    plugins: [trigger, lgtm, hold]\n",
		"config/orgs/acme/org.yaml":  "name: acme\n",
		"config/labels.yaml":         "default:\n  labels:\n  - {name: lgtm, color: 15dd18}\n",
		"config/prow/config.yaml":    "prowjob_namespace: default\n",
		"config/jobs/acme/jobs.yaml": "periodics: []\n",
	})
	tests := []struct {
		name string
		caps Capabilities
		want NotImplemented
	}{
		{name: "only trigger, no roles", caps: Capabilities{Plugins: []string{"trigger"}},
			want: NotImplemented{Plugins: []string{"hold", "lgtm"}, Enabled: 3, Orgs: 1, Labels: 1, DeployFiles: 5}},
		{name: "every plugin", caps: Capabilities{Plugins: []string{"trigger", "lgtm", "hold"}},
			want: NotImplemented{Enabled: 3, Orgs: 1, Labels: 1, DeployFiles: 5}},
		{name: "an orgs and a deploy role", caps: Capabilities{Plugins: []string{"trigger"}, Implemented: func(c string) bool { return c == "orgs" || c == "deploy" }},
			want: NotImplemented{Plugins: []string{"hold", "lgtm"}, Enabled: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.caps.Missing(withOrgs, 5)); diff != "" {
				t.Errorf("Missing (-want +got):\n%s", diff)
			}
		})
	}
}
