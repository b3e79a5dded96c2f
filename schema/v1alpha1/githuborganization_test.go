package v1alpha1_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func validGitHubOrganization(ns string, mutate ...func(*v1alpha1.GitHubOrganization)) *v1alpha1.GitHubOrganization {
	o := &v1alpha1.GitHubOrganization{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "org-", Namespace: ns},
		Spec: v1alpha1.GitHubOrganizationSpec{
			Org:                 "acme",
			ConfigRepositoryRef: v1alpha1.LocalObjectReference{Name: "config"},
		},
	}
	for _, m := range mutate {
		m(o)
	}
	return o
}

func TestGitHubOrganizationValidation(t *testing.T) {
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "ghorg-"}}
	if err := env.Client.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	o := validGitHubOrganization(ns.Name)
	if err := env.Client.Create(ctx, o); err != nil {
		t.Fatalf("create a valid GitHubOrganization: %v", err)
	}
	s := o.Spec.Safety
	if o.Spec.DriftPolicy != v1alpha1.DriftReport || o.Spec.Interval.Duration != 15*time.Minute || o.Spec.Confirm ||
		*s.MaxRemovalPercent != 25 || *s.MinAdmins != 2 || !*s.RequireSelf || s.AllowRepoArchival || s.AllowRepoPublish {
		t.Fatalf("defaults: %+v", o.Spec)
	}
	o.Spec.Org = "other"
	if err := env.Client.Update(ctx, o); !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "org cannot change") {
		t.Fatalf("changing org: %v", err)
	}

	tests := []struct {
		name  string
		mut   func(*v1alpha1.GitHubOrganization)
		field string
	}{
		{"org with a slash", func(o *v1alpha1.GitHubOrganization) { o.Spec.Org = "acme/widgets" }, "spec.org"},
		{"org too long", func(o *v1alpha1.GitHubOrganization) { o.Spec.Org = strings.Repeat("a", 40) }, "spec.org"},
		{"no config repository", func(o *v1alpha1.GitHubOrganization) { o.Spec.ConfigRepositoryRef.Name = "" }, "configRepositoryRef"},
		{"unknown drift policy", func(o *v1alpha1.GitHubOrganization) { o.Spec.DriftPolicy = "Ignore" }, "driftPolicy"},
		{"interval too short", func(o *v1alpha1.GitHubOrganization) { o.Spec.Interval = &metav1.Duration{Duration: time.Second} }, "interval"},
		{"removal over 100%", func(o *v1alpha1.GitHubOrganization) { o.Spec.Safety.MaxRemovalPercent = ptr.To[int32](101) }, "maxRemovalPercent"},
		{"no admins", func(o *v1alpha1.GitHubOrganization) { o.Spec.Safety.MinAdmins = ptr.To[int32](0) }, "minAdmins"},
		{"approved plan not an ID", func(o *v1alpha1.GitHubOrganization) { o.Spec.Safety.ApprovedPlan = "yes" }, "approvedPlan"},
		{"unknown part", func(o *v1alpha1.GitHubOrganization) { o.Spec.Unmanaged = []v1alpha1.OrgPart{"Webhooks"} }, "unmanaged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := env.Client.Create(ctx, validGitHubOrganization(ns.Name, tt.mut))
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("err = %v, want an invalid %s", err, tt.field)
			}
		})
	}
}
