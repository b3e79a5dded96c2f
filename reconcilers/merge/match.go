package merge

import "github.com/bowline-ci/bowline/schema/prowconfig"

// SearchMatches reports whether GitHub's search for one of queries that
// cover the pull request's repository returns it: every requirement of the
// query but the status contexts (branch, author, milestone, labels, missing
// labels, approving review). It is how the merge controller decides that a
// pull request is a candidate of its pool; the plan of a configuration
// change uses it to say which pull requests a change of the queries moves
// in or out.
func SearchMatches(queries []prowconfig.TideQuery, pr *PR) bool {
	for i := range queries {
		if queryCovers(&queries[i], pr.Org, pr.Repo) && searchMatches(pr, &queries[i]) {
			return true
		}
	}
	return false
}

// QueryCovers says whether a query applies to a repository: one of its
// orgs (and not an excluded repository) or one of its repositories.
func QueryCovers(q *prowconfig.TideQuery, org, repo string) bool {
	return queryCovers(q, org, repo)
}
