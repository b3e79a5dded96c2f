package approve

import (
	"strings"

	"github.com/google/go-github/v89/github"
)

// addApprovers replays the approval comments, oldest first; the latest word
// of each user counts.
func addApprovers(st *state, comments []*comment, author string, considerReviews bool) {
	for _, c := range comments {
		if c.author == "" {
			continue
		}
		login := strings.ToLower(c.author)
		switch c.reviewState {
		case "APPROVED":
			delete(st.changeRequested, login)
			if considerReviews {
				st.add(c.author, "Approved", c.url, false)
			}
		case "CHANGES_REQUESTED":
			if considerReviews {
				st.changeRequested[login] = true
				st.remove(c.author)
			}
		}
		for _, m := range commandRE.FindAllStringSubmatch(c.body, -1) {
			cmd := strings.ToUpper(m[1])
			if cmd == removeApproveCommand {
				st.remove(c.author)
				continue
			}
			if cmd != approveCommand && cmd != lgtmCommand {
				continue
			}
			args := strings.ToLower(strings.TrimSpace(m[2]))
			if strings.Contains(args, cancelArgument) {
				st.remove(c.author)
				continue
			}
			noIssue := args == noIssueArgument
			if strings.EqualFold(c.author, author) {
				st.add(c.author, "Author self-approved", c.url, noIssue)
			}
			if cmd == approveCommand {
				st.add(c.author, "Approved", c.url, noIssue)
			} else {
				st.add(c.author, "LGTM", c.url, noIssue)
			}
		}
	}
}

func fromIssueComments(list []*github.IssueComment) []*comment {
	out := make([]*comment, 0, len(list))
	for _, c := range list {
		out = append(out, &comment{body: c.GetBody(), author: c.GetUser().GetLogin(), created: c.GetCreatedAt().Time,
			url: c.GetHTMLURL(), id: c.GetID()})
	}
	return out
}

func fromReviewComments(list []*github.PullRequestComment) []*comment {
	out := make([]*comment, 0, len(list))
	for _, c := range list {
		out = append(out, &comment{body: c.GetBody(), author: c.GetUser().GetLogin(), created: c.GetCreatedAt().Time,
			url: c.GetHTMLURL(), id: c.GetID()})
	}
	return out
}

func fromReviews(list []*github.PullRequestReview) []*comment {
	out := make([]*comment, 0, len(list))
	for _, r := range list {
		out = append(out, &comment{body: r.GetBody(), author: r.GetUser().GetLogin(), created: r.GetSubmittedAt().Time,
			url: r.GetHTMLURL(), id: r.GetID(), reviewState: strings.ToUpper(r.GetState())})
	}
	return out
}
