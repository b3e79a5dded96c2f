package plugin

import (
	"strings"
	"unicode/utf8"
)

// MaxCommandTextBytes bounds the text of a comment that commands are
// matched in. GitHub refuses comments, reviews and issue bodies longer than
// 65,536 characters; a longer text is cut here before any regular
// expression sees it, so that matching costs the same for every event.
const MaxCommandTextBytes = 64 << 10

// CommandText is the part of a comment in which slash commands count, as
// in Prow: the text without its fenced code blocks (``` or ~~~), cut to
// MaxCommandTextBytes. Commands are then matched at the start of a line, so
// quoted lines ("> /ok-to-test") and indented code never match either.
//
// A fence follows GitHub's rendering (CommonMark): it opens with three or
// more backticks or tildes, indented by at most three spaces, and closes
// with a line of the same character, at least as long, and nothing else; a
// fence that is never closed runs to the end of the text. What GitHub shows
// as code is never a command.
func CommandText(body string) string {
	if len(body) > MaxCommandTextBytes {
		body = body[:MaxCommandTextBytes]
		for !utf8.ValidString(body) {
			body = body[:len(body)-1]
		}
	}
	if !strings.Contains(body, "```") && !strings.Contains(body, "~~~") {
		return body
	}
	var out strings.Builder
	var fence string // the open fence's marker, "" outside a code block
	for line := range strings.Lines(body) {
		trimmed := strings.TrimRight(line, "\r\n")
		if fence == "" {
			if marker, ok := openingFence(trimmed); ok {
				fence = marker
				continue
			}
			out.WriteString(line)
			continue
		}
		if closesFence(trimmed, fence) {
			fence = ""
		}
	}
	return out.String()
}

// openingFence reports whether line opens a fenced code block, and its
// marker (the run of ` or ~).
func openingFence(line string) (string, bool) {
	rest := strings.TrimLeft(line, " ")
	if len(line)-len(rest) > 3 || len(rest) < 3 {
		return "", false
	}
	c := rest[0]
	if c != '`' && c != '~' {
		return "", false
	}
	n := 0
	for n < len(rest) && rest[n] == c {
		n++
	}
	if n < 3 {
		return "", false
	}
	// A backtick fence's info string may not contain a backtick.
	if c == '`' && strings.Contains(rest[n:], "`") {
		return "", false
	}
	return rest[:n], true
}

// closesFence reports whether line closes the block opened with marker.
func closesFence(line, marker string) bool {
	rest := strings.TrimLeft(line, " ")
	if len(line)-len(rest) > 3 {
		return false
	}
	rest = strings.TrimRight(rest, " \t")
	if len(rest) < len(marker) {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if rest[i] != marker[0] {
			return false
		}
	}
	return true
}

// CommandText is the comment's text in which commands count (see the
// package function CommandText): Body, as Decode sets it.
func (c *Comment) CommandText() string {
	if c.RawBody != "" {
		return CommandText(c.RawBody)
	}
	return CommandText(c.Body)
}
