package approve

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// notifierName marks the approve plugin's notification. Prow's tools find
// the comment by it, and read the suggested approvers from its META line.
const notifierName = "APPROVALNOTIFIER"

var notificationRE = regexp.MustCompile(`(?is)^\[` + notifierName + `\] *?([^\n]*)(?:\n\n(.*))?`)

// Prow's defaults for the links of the notification.
const (
	DefaultCommandHelpLink = "https://go.k8s.io/bot-commands"
	DefaultPRProcessLink   = "https://git.k8s.io/community/contributors/guide/owners.md#the-code-review-process"
)

// links are where the notification points.
type links struct {
	// web is the web root of the forge (https://github.com/), repo the
	// repository's page.
	web, repo              string
	commandHelp, prProcess string
	org, repoName, branch  string
	ownersFilename         string
}

func (l links) user(login string) string { return fmt.Sprintf("[%s](%s%s)", login, l.web, login) }

func (l links) users(logins []string) string {
	parts := make([]string, len(logins))
	for i, login := range logins {
		parts[i] = l.user(login)
	}
	return strings.Join(parts, ", ")
}

func (a approval) String() string {
	return fmt.Sprintf(`*<a href="%s" title="%s">%s</a>*`, a.reference, a.how, a.login)
}

func approvalList(list []approval) string {
	parts := make([]string, len(list))
	for i, a := range list {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

// message is the notification comment: the verdict, who approved, whom to
// ask next, the issue requirement, and every OWNERS file with its state.
func (s *state) message(l links) string {
	var b strings.Builder
	met := s.requirementsMet()
	// Whether a person added the label costs a request: ask only when it
	// matters.
	manual := !met && s.manuallyApproved()
	verdict := "APPROVED"
	if !met && !manual {
		verdict = "NOT APPROVED"
	}
	fmt.Fprintf(&b, "[%s] This PR is **%s**\n\n", notifierName, verdict)
	if manual {
		b.WriteString("The `approved` label was added by hand, which waives the approval requirements.\n\n")
	}
	var approvals []approval
	for _, k := range s.current().sorted() {
		approvals = append(approvals, s.approvals[k])
	}
	b.WriteString("Approved by:")
	if len(approvals) > 0 {
		b.WriteString(" " + approvalList(approvals))
	}
	b.WriteString("\n")
	if !s.filesApproved() && !manual {
		assigned, suggested := s.assignedCCs(), s.suggestedCCs()
		process := fmt.Sprintf(" The [review process](%s) explains the steps.", l.prProcess)
		switch {
		case len(assigned) > 0 && len(suggested) > 0:
			fmt.Fprintf(&b, "**Once this PR is reviewed and labelled lgtm**, ask %s to approve it, and also assign %s.%s\n",
				l.users(assigned), l.users(suggested), process)
		case len(suggested) > 0:
			fmt.Fprintf(&b, "**Once this PR is reviewed and labelled lgtm**, assign %s to approve it.%s\n", l.users(suggested), process)
		case len(assigned) > 0:
			fmt.Fprintf(&b, "**Once this PR is reviewed and labelled lgtm**, ask %s to approve it.%s\n", l.users(assigned), process)
		}
	}
	if blocking := s.blockingChangeRequests(); len(blocking) > 0 && !manual {
		fmt.Fprintf(&b, "\nChanges are requested by %s: their approving review, or the dismissal of theirs, lifts the block.\n",
			l.users(blocking))
	}
	b.WriteString("\n")
	if s.requireIssue {
		switch noIssue := s.noIssueApprovals(); {
		case s.associatedIssue != 0:
			fmt.Fprintf(&b, "Associated issue: *#%d*\n\n", s.associatedIssue)
		case len(noIssue) > 0:
			fmt.Fprintf(&b, "No associated issue needed, said: %s\n\n", approvalList(noIssue))
		case manual:
			b.WriteString("*No associated issue*; the `approved` label added by hand waives it.\n\n")
		default:
			b.WriteString("*No associated issue*. Reference one in the pull request's description, or have an approver write `/approve no-issue`.\n\n")
		}
	}
	fmt.Fprintf(&b, "The commands I understand are listed [here](%s?repo=%s).\n\n", l.commandHelp, url.QueryEscape(l.org+"/"+l.repoName))
	if s.filesApproved() || manual {
		fmt.Fprintf(&b, "The pull request process is described [here](%s)\n\n", l.prProcess)
	}
	open := ""
	if !s.filesApproved() && !manual {
		open = "open"
	}
	fmt.Fprintf(&b, "<details %s>\nEach of these files needs an approval from one of its approvers:\n\n", open)
	for _, f := range s.ownersFiles() {
		p := l.ownersFilename
		if f.dir != "" {
			p = f.dir + "/" + l.ownersFilename
		}
		link := fmt.Sprintf("%s/blob/%s/%s", l.repo, l.branch, p)
		switch {
		case f.approved:
			fmt.Fprintf(&b, "- ~~[%s](%s)~~ [%s]\n", p, link, strings.Join(f.approvers, ","))
		case len(f.approvers) > 0:
			fmt.Fprintf(&b, "- **[%s](%s)** [%s]\n  > Some of its files are approved; the others still need an approver.\n", p, link, strings.Join(f.approvers, ","))
		default:
			fmt.Fprintf(&b, "- **[%s](%s)**\n", p, link)
		}
	}
	b.WriteString("\nApprovers approve by writing `/approve` in a comment, and take it back with `/approve cancel`.\n</details>")
	meta, _ := json.Marshal(map[string][]string{"approvers": nonNil(s.ccs())})
	fmt.Fprintf(&b, "\n<!-- META=%s -->", meta)
	return b.String()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
