package merge

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/bowline-ci/bowline/schema/prowconfig"
)

// queryCovers says whether a query applies to a repository: one of its orgs
// (and not an excluded repo) or one of its repos, as Prow's ForRepo.
func queryCovers(q *prowconfig.TideQuery, org, repo string) bool {
	full := org + "/" + repo
	for _, o := range q.Orgs {
		if strings.EqualFold(o, org) {
			return !slices.ContainsFunc(q.ExcludedRepos, func(r string) bool { return strings.EqualFold(r, full) })
		}
	}
	return slices.ContainsFunc(q.Repos, func(r string) bool { return strings.EqualFold(r, full) })
}

// hasLabel says whether the pull request has one of the alternatives of a
// query label ("a,b" means a or b). GitHub compares label names without
// regard to case.
func hasLabel(labels []string, want string) bool {
	for _, alt := range strings.Split(want, ",") {
		if slices.ContainsFunc(labels, func(l string) bool { return strings.EqualFold(l, alt) }) {
			return true
		}
	}
	return false
}

// requirementDiff compares a pull request with a query, as Tide's status
// controller does: it returns the description of the first unmet
// requirement, in Tide's order (branch, author, milestone, labels, missing
// labels, failing contexts, approving review), and a weight that makes the
// query closest to being met the one to report. A zero weight means the
// query matches. Contexts count only when unsuccessful is not nil.
func requirementDiff(pr *PR, q *prowconfig.TideQuery, unsuccessful []Context) (string, int) {
	const maxLabelChars = 50
	var desc string
	diff := 0
	note := func(weight int, text string) {
		diff += weight
		if desc == "" {
			desc = text
		}
	}
	// Drop items to fit the description, keeping at least one.
	truncate := func(items []string) []string {
		n, chars := 1, len(items[0])
		for ; n < len(items); n++ {
			if chars+len(items[n]) > maxLabelChars {
				break
			}
			chars += len(items[n]) + 2
		}
		return items[:n]
	}
	plural := func(items []string, one, many string) string {
		t := truncate(items)
		if len(t) == 1 {
			return fmt.Sprintf(one, t[0])
		}
		return fmt.Sprintf(many, strings.Join(t, ", "))
	}

	denied := slices.Contains(q.ExcludedBranches, pr.BaseRef)
	allowed := len(q.IncludedBranches) == 0 || slices.Contains(q.IncludedBranches, pr.BaseRef)
	if denied || !allowed {
		note(2000, fmt.Sprintf(" Merging to branch %s is forbidden.", pr.BaseRef))
	}
	if q.Author != "" && !strings.EqualFold(q.Author, pr.Author) {
		note(1000, fmt.Sprintf(" Must be by author %s.", q.Author))
	}
	if q.Milestone != "" && pr.Milestone != q.Milestone {
		note(100, fmt.Sprintf(" Must be in milestone %s.", q.Milestone))
	}
	var missing []string
	for _, l := range q.Labels {
		if !hasLabel(pr.Labels, l) {
			missing = append(missing, strings.ReplaceAll(l, ",", " or "))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		note(len(missing), plural(missing, " Needs %s label.", " Needs %s labels."))
	}
	var present []string
	for _, l := range q.MissingLabels {
		if hasLabel(pr.Labels, l) {
			present = append(present, l)
		}
	}
	if len(present) > 0 {
		sort.Strings(present)
		note(len(present), plural(present, " Should not have %s label.", " Should not have %s labels."))
	}
	if len(unsuccessful) > 0 {
		var names []string
		for _, c := range unsuccessful {
			names = append(names, c.Name)
		}
		sort.Strings(names)
		note(len(names), plural(names, " Job %s has not succeeded.", " Jobs %s have not succeeded."))
	}
	if q.ReviewApprovedRequired && !pr.Approved {
		note(50, " PullRequest is missing sufficient approving GitHub review(s)")
	}
	return desc, diff
}

// searchMatches says whether GitHub's search for the query would return the
// pull request: every requirement but the status contexts.
func searchMatches(pr *PR, q *prowconfig.TideQuery) bool {
	_, diff := requirementDiff(pr, q, nil)
	return diff == 0
}
