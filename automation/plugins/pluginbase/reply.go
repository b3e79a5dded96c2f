package pluginbase

import (
	"context"

	"github.com/bowline-ci/bowline/automation/plugin"
)

// Reply is the answer to a command, in Prow's shape (plugin.FormatResponseRaw):
// it addresses the commenter, says msg, and quotes the comment it answers in
// a collapsed block. Quoted lines start with ">", so commands in the quote
// are not commands again.
func Reply(c *plugin.Comment, msg string) string { return c.Respond(msg) }

// Notice is a message to a user that does not answer a command (a blocked
// pull request, a missing sign-off), in Prow's shape: it addresses the
// user, says msg, and puts details, when there are any, in the collapsed
// block.
func Notice(to, msg, details string) string {
	if details == "" {
		return plugin.FormatSimpleResponse(to, msg)
	}
	return plugin.FormatResponse(to, msg, details)
}

// Reply comments the answer to a command on the issue or pull request the
// command was given on.
func (e *Env) Reply(ctx context.Context, c *plugin.Comment, msg string) error {
	return e.Comment(ctx, c.Number, Reply(c, msg))
}
