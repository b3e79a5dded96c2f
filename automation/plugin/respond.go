package plugin

import (
	"fmt"
	"strings"
)

// AboutBot closes every answer the plugins give, inside its details: where
// users learn the commands.
const AboutBot = "The commands I understand, and who may use them, are listed [here](https://go.k8s.io/bot-commands). " +
	"If I did something wrong, please tell the people who run CI for this repository."

// FormatResponse is how plugins answer someone, in Prow's shape: a mention
// with the message, then a collapsed block with the reason and AboutBot.
func FormatResponse(to, message, reason string) string {
	return fmt.Sprintf("@%s: %s\n\n<details>\n\n%s\n\n%s\n</details>", to, message, reason, AboutBot)
}

// FormatSimpleResponse answers someone without a reason to quote.
func FormatSimpleResponse(to, message string) string {
	return fmt.Sprintf("@%s: %s\n\n<details>\n\n%s\n</details>", to, message, AboutBot)
}

// FormatResponseRaw answers a comment: the reply, and in the collapsed
// block a link to the comment and its text quoted line by line.
func FormatResponseRaw(body, bodyURL, login, reply string) string {
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		lines[i] = ">" + l
	}
	reason := fmt.Sprintf("In response to [this](%s):\n\n%s\n", bodyURL, strings.Join(lines, "\n"))
	return FormatResponse(login, reply, reason)
}

// Respond answers the comment of a GenericComment event.
func (c *Comment) Respond(reply string) string {
	return FormatResponseRaw(c.Body, c.HTMLURL, c.Author, reply)
}
