package pluginbase

import (
	"context"
	"fmt"
	"strings"

	"github.com/bowline-ci/bowline/automation/plugin"
)

// Reply is the answer to a command, in Prow's shape: it addresses the
// commenter, says msg, and quotes the comment it answers in a collapsed
// block, so that a reader sees what was asked without scrolling up. Quoted
// lines start with ">", so commands in the quote are not commands again.
func Reply(c *plugin.Comment, msg string) string {
	return Notice(c.Author, msg, quote(c))
}

func quote(c *plugin.Comment) string {
	var b strings.Builder
	if c.HTMLURL != "" {
		fmt.Fprintf(&b, "In reply to [this comment](%s):\n\n", c.HTMLURL)
	} else {
		b.WriteString("In reply to:\n\n")
	}
	for _, line := range strings.Split(strings.TrimRight(c.Body, "\r\n"), "\n") {
		b.WriteString(">" + strings.TrimRight(line, "\r") + "\n")
	}
	return b.String()
}

// Notice is a message to a user that is not an answer to a command (a
// blocked pull request, a missing sign-off): it addresses the user, says
// msg, and puts details, when there are any, in a collapsed block.
func Notice(to, msg, details string) string {
	var b strings.Builder
	if to != "" {
		fmt.Fprintf(&b, "@%s: ", to)
	}
	b.WriteString(msg)
	if details = strings.TrimSpace(details); details != "" {
		fmt.Fprintf(&b, "\n\n<details>\n\n%s\n\n</details>", details)
	}
	return b.String()
}

// Reply comments the answer to a command on the issue or pull request the
// command was given on.
func (e *Env) Reply(ctx context.Context, c *plugin.Comment, msg string) error {
	return e.Comment(ctx, c.Number, Reply(c, msg))
}
