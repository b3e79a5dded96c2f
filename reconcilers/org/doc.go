// Package org administers GitHub orgs from the configuration repository,
// continuously: peribolos' org settings, members, teams, repositories and
// collaborators, branchprotector's branch protection and label_sync's
// labels.
//
// One GitHubOrganization per org says which configuration describes it and
// how far bowline may go: whether to apply at all (spec.confirm), the
// safety limits, what to do with drift. Each sync reads the org through the
// shared GitHub client's ETag cache (Observe), plans with package plan,
// holds the plan to the limits, applies it one write at a time (Applier),
// records every change as an Event, and keeps the index of what it applied
// (the baseline) so that the next sync can tell changes made on GitHub by
// hand from changes of the configuration. Creator makes the
// GitHubOrganizations of the orgs a configuration names.
package org
