package merge

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// PR is an open pull request as the merge controller knows it.
type PR struct {
	Org, Repo string
	Number    int
	Author    string
	Title     string
	// BaseRef is the branch it targets.
	BaseRef string
	// HeadRef is its source branch; HeadSHA its head commit.
	HeadRef, HeadSHA string
	Labels           []string
	// Milestone is the milestone's title, or empty.
	Milestone string
	Draft     bool
	// Approved is GitHub's review decision (the review:approved search
	// qualifier).
	Approved bool
	// Conflict is true when GitHub reports the pull request unmergeable
	// onto its base; unknown counts as mergeable, as in Tide.
	Conflict bool
	// NotRebaseable is true when GitHub reports that it cannot be rebased.
	NotRebaseable bool
	// MergeBlocked is true when GitHub reports the merge blocked (its
	// mergeable_state: branch protection or rulesets unmet).
	MergeBlocked bool
	// Contexts are the head commit's statuses and check runs; ContextsKnown
	// is false until the statuses were read, ChecksKnown until the check
	// runs were too (they are read only for pull requests a query matches).
	Contexts      []Context
	ContextsKnown bool
	ChecksKnown   bool
	// Files are the files it changes, when they were needed and read.
	Files      []string
	FilesKnown bool
	// InRepo are the presubmits its own in-repo config (.prow.yaml or
	// .prow/) adds, merged into InRepoBase, when the repository enables
	// in-repo config and a query matches it.
	InRepo     []jobs.Presubmit
	InRepoBase string
	// UpdatedAt is GitHub's updated_at.
	UpdatedAt time.Time
}

// key is "org/repo#number".
func (p *PR) key() string { return v1alpha1.PullKey(p.Org, p.Repo, p.Number) }

// pull is the pull request at its head commit.
func (p *PR) pull() v1alpha1.PoolPull {
	return v1alpha1.PoolPull{Number: int32(p.Number), SHA: p.HeadSHA}
}

// Run is what the merge controller reads from a ProwJob of type presubmit or
// batch.
type Run struct {
	// Name is the ProwJob's name.
	Name    string
	Job     string
	Context string
	Type    v1alpha1.ProwJobType
	State   v1alpha1.ProwJobState
	BaseSHA string
	// Pulls are the tested pull requests in merge order.
	Pulls []v1alpha1.PoolPull
	// ByMerge is true for runs the merge controller created; Kind is then
	// why.
	ByMerge bool
	Kind    v1alpha1.PoolBatchKind
	// Created orders runs.
	Created time.Time
}

// outcome is a run's or a set of runs' state reduced to Tide's three.
type outcome int

const (
	outcomeNone outcome = iota
	outcomeFailure
	outcomePending
	outcomeSuccess
)

func outcomeOf(s v1alpha1.ProwJobState) outcome {
	switch s {
	case v1alpha1.SuccessState:
		return outcomeSuccess
	case v1alpha1.TriggeredState, v1alpha1.PendingState, v1alpha1.SchedulingState, "":
		return outcomePending
	}
	return outcomeFailure
}

func (o outcome) batchState() v1alpha1.PoolBatchState {
	switch o {
	case outcomeSuccess:
		return v1alpha1.PoolBatchSuccess
	case outcomePending:
		return v1alpha1.PoolBatchPending
	}
	return v1alpha1.PoolBatchFailure
}

// pullsKey identifies a base and an ordered list of pulls.
func pullsKey(base string, pulls []v1alpha1.PoolPull) string {
	var b strings.Builder
	b.WriteString(base)
	for _, p := range pulls {
		b.WriteString("|")
		b.WriteString(strconv.Itoa(int(p.Number)))
		b.WriteString("@")
		b.WriteString(p.SHA)
	}
	return b.String()
}

// samePulls compares two lists of pulls in order.
func samePulls(a, b []v1alpha1.PoolPull) bool {
	return slices.EqualFunc(a, b, func(x, y v1alpha1.PoolPull) bool { return x.Number == y.Number && x.SHA == y.SHA })
}

// hasPrefix says whether pulls starts with prefix.
func hasPrefix(pulls, prefix []v1alpha1.PoolPull) bool {
	return len(pulls) >= len(prefix) && samePulls(pulls[:len(prefix)], prefix)
}

// effectiveBase reduces what a run tested to the current base: a run on an
// older base whose leading pulls were merged since, in that order and with
// nothing else merged in between, tested exactly the current base plus its
// remaining pulls. merges are the pool's last merges, newest first. It
// returns ok=false when the run's base is neither the current one nor
// reachable that way.
func effectiveBase(base string, pulls []v1alpha1.PoolPull, current string, merges []v1alpha1.PoolMerge) ([]v1alpha1.PoolPull, bool) {
	if base == current {
		return pulls, true
	}
	// Walk back from the current base through merges that produced it.
	want := current
	var chain [][]v1alpha1.PoolPull
	for _, m := range merges {
		if m.CompletionTime == nil || m.Error != "" || len(m.Pulls) == 0 || m.Pulls[len(m.Pulls)-1].MergeSHA != want {
			continue
		}
		chain = append(chain, m.Pulls)
		want = m.BaseSHA
		if want == base {
			// Apply the merges oldest first.
			rest := pulls
			for i := len(chain) - 1; i >= 0; i-- {
				if !hasPrefix(rest, chain[i]) {
					return nil, false
				}
				rest = rest[len(chain[i]):]
			}
			return rest, true
		}
	}
	return nil, false
}
