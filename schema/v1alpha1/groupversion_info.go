// Package v1alpha1 holds bowline's custom resource types, group bowline.dev,
// version v1alpha1: ConfigRepository (where the configuration lives and how it
// is applied), ProwJob (one run of one job) and MergePool (the merge queue of
// one repository's branch).
//
// +kubebuilder:object:generate=true
// +groupName=bowline.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the group and version of every type in this package.
var GroupVersion = schema.GroupVersion{Group: "bowline.dev", Version: "v1alpha1"}

// AddToScheme adds this package's types to a runtime.Scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&ConfigRepository{}, &ConfigRepositoryList{},
		&ProwJob{}, &ProwJobList{},
		&MergePool{}, &MergePoolList{},
		&GitHubOrganization{}, &GitHubOrganizationList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
