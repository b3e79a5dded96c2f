// Package plan computes what bowline changes in a GitHub org so that it
// matches the configuration: peribolos' org settings, members, teams,
// repositories and collaborators, branchprotector's branch protection and
// label_sync's labels, with the semantics of those tools.
//
// It is pure. Compute takes what the configuration says about one org
// (Desired, from DesiredFor) and what GitHub holds (a State, read by the
// org reconciler or loaded from a dump) and returns a Plan: one Change per
// object, in the order they can be applied, each with the Op that applies
// it. Plan.Check holds a plan against the safety limits, and
// Plan.ClassifyDrift tells the changes the configuration asks for from
// those that undo a change made on GitHub by hand. The org reconciler and
// bowline check use it alike.
package plan
