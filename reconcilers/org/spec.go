package org

import (
	"github.com/bowline-ci/bowline/reconcilers/org/plan"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// OptionsFrom is what a GitHubOrganization tells the planner: the parts
// left alone and what may be done, as the orgs role plans its org. Others
// that plan an org as this role would (the plan of a configuration change)
// use it.
func OptionsFrom(o *v1alpha1.GitHubOrganization) plan.Options { return optionsFrom(o) }

// LimitsFrom is the safety limits a GitHubOrganization holds its plans to,
// the CRD's defaults for what it leaves unset.
func LimitsFrom(o *v1alpha1.GitHubOrganization) plan.Limits { return limitsFrom(o) }

// DefaultLimits are the limits of a GitHubOrganization that sets none.
func DefaultLimits() plan.Limits { return limitsFrom(&v1alpha1.GitHubOrganization{}) }
