package plugin

import "github.com/google/go-github/v89/github"

// PerPage is the page size plugins ask GitHub for: its largest, so that
// long lists cost few requests.
const PerPage = 100

// AllPages collects every page of a GitHub list call. list is called with
// the page to fetch (starting at the first) and PerPage items per page.
func AllPages[T any](list func(opts github.ListOptions) ([]T, *github.Response, error)) ([]T, error) {
	var out []T
	opts := github.ListOptions{PerPage: PerPage}
	for {
		items, resp, err := list(opts)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}
