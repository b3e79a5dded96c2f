package deploy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	deployfile "github.com/bowline-ci/bowline/schema/deploy"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestDesiredReport(t *testing.T) {
	const rev = "main@sha1:0123"
	file := &deployfile.Config{Image: deployfile.Image{Ref: "ghcr.io/bowline-ci/bowline:v2"}}
	entry := func(name, state, msg string, avail, replicas int32) v1alpha1.DeployedRole {
		return v1alpha1.DeployedRole{Name: name, Deployment: DeploymentName(name), State: state, Message: msg, AvailableReplicas: avail, Replicas: replicas}
	}
	earlier := []v1alpha1.DeployedRole{entry("jobs", v1alpha1.RoleReady, "", 2, 2)}
	tests := []struct {
		name        string
		sc          scope
		wantStatus  metav1.ConditionStatus
		wantReason  string
		wantMessage string
		wantRev     string
		wantRoles   []v1alpha1.DeployedRole
	}{
		{
			name: "no template: nothing looked at, the roles as last reported",
			sc: scope{obj: &v1alpha1.ConfigRepository{ObjectMeta: metav1.ObjectMeta{Namespace: "bowline-system"},
				Status: v1alpha1.ConfigRepositoryStatus{Deployment: &v1alpha1.DeploymentStatus{Roles: earlier}}}, revision: rev, file: file},
			wantStatus: metav1.ConditionFalse, wantReason: v1alpha1.ReasonTemplateNotFound,
			wantMessage: "Deployment bowline-system/bowline-operator, the operator's own, is not found: the roles' Deployments are made from it; what runs stays as it is",
			wantRoles:   earlier,
		},
		{
			name:       "no file: every role in the operator",
			sc:         scope{obj: &v1alpha1.ConfigRepository{}, template: &appsv1.Deployment{}, revision: rev},
			wantStatus: metav1.ConditionTrue, wantReason: v1alpha1.ReasonSucceeded, wantRev: rev,
			wantMessage: "Every role runs in Deployment bowline-operator: revision " + rev + " has no deployment file",
		},
		{
			name: "every role ready",
			sc: scope{obj: &v1alpha1.ConfigRepository{}, template: &appsv1.Deployment{}, revision: rev, file: file,
				roles: []v1alpha1.DeployedRole{entry("jobs", v1alpha1.RoleReady, "", 2, 2), entry("hook", v1alpha1.RoleReady, "", 3, 3)}},
			wantStatus: metav1.ConditionTrue, wantReason: v1alpha1.ReasonSucceeded, wantRev: rev,
			wantMessage: "Revision " + rev + " deployed: jobs (2/2), hook (3/3) in Deployments of their own, running ghcr.io/bowline-ci/bowline:v2; the other roles in bowline-operator",
		},
		{
			name: "one role rolling out, one returning",
			sc: scope{obj: &v1alpha1.ConfigRepository{}, template: &appsv1.Deployment{}, revision: rev, file: file,
				roles: []v1alpha1.DeployedRole{entry("jobs", v1alpha1.RoleRemoving, "returning to bowline-operator", 2, 2), entry("hook", v1alpha1.RoleProgressing, "rolling out: 1 of 3 new pods created", 2, 3)}},
			wantStatus: metav1.ConditionFalse, wantReason: v1alpha1.ReasonProgressing,
			wantMessage: "Revision " + rev + ": jobs: returning to bowline-operator; hook: rolling out: 1 of 3 new pods created",
		},
		{
			name: "rolled back, the later roles held",
			sc: scope{obj: &v1alpha1.ConfigRepository{}, template: &appsv1.Deployment{}, revision: rev, file: file,
				roles: []v1alpha1.DeployedRole{entry("jobs", v1alpha1.RoleRolledBack, "rolled back: pod x keeps crashing (3 restarts)", 2, 2),
					entry("merge", v1alpha1.RoleHeld, "", 1, 1), entry("hook", v1alpha1.RoleHeld, "", 2, 2)}},
			wantStatus: metav1.ConditionFalse, wantReason: v1alpha1.ReasonRolledBack,
			wantMessage: "Revision " + rev + ": jobs rolled back: pod x keeps crashing (3 restarts); merge, hook keep what they run",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cond, dep := desiredReport(&tt.sc, "bowline-operator")
			if cond.Status != tt.wantStatus || cond.Reason != tt.wantReason || cond.Message != tt.wantMessage {
				t.Errorf("condition %s %s %q\nwant        %s %s %q", cond.Status, cond.Reason, cond.Message, tt.wantStatus, tt.wantReason, tt.wantMessage)
			}
			if dep.Revision != tt.wantRev {
				t.Errorf("revision %q, want %q", dep.Revision, tt.wantRev)
			}
			wantRoles := tt.wantRoles
			if wantRoles == nil {
				wantRoles = tt.sc.roles
			}
			if d := cmp.Diff(wantRoles, dep.Roles); d != "" {
				t.Errorf("roles (-want +got):\n%s", d)
			}
		})
	}
}
