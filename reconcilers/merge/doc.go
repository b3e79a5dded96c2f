// Package merge is bowline's merge controller, Prow's Tide: it merges the
// pull requests that meet a tide query once their required jobs passed
// against the current head of their branch, testing several together in
// batches first.
//
// The work is split in three:
//
//   - Syncer talks to GitHub: Discover finds the pull requests in the
//     queries' scope with the search API (incrementally between full
//     resyncs) into an in-memory store, which webhooks keep current
//     (Events); SyncPool reads what one pool's decision needs, decides and
//     carries the decision out (merges, tide statuses).
//   - Decide is the decision, a pure function of a pool's pull requests,
//     runs and configuration: Tide's order of actions, plus speculative
//     batches stacked on the batch under test and bisection of a failed
//     batch. It is table-tested.
//   - Reconciler keeps one MergePool per org/repo/branch and syncs it,
//     leader-only; a merge is recorded in the MergePool before it starts,
//     so that a new leader finishes it. PRPage answers GET /pr/… from the
//     MergePools.
//
// docs/merge.md describes the behaviour for users.
package merge
