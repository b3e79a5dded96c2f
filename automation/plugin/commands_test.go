package plugin

import (
	"strings"
	"testing"
)

func TestCommandText(t *testing.T) {
	fenced := "```\n/ok-to-test\n```\n"
	tests := []struct {
		name, body, want string
	}{
		// Prow's markdown.DropCodeBlock cases.
		{"no code block", "should stay\n/retest\n", "should stay\n/retest\n"},
		{"one block", fenced, ""},
		{"tilde block", strings.ReplaceAll(fenced, "`", "~"), ""},
		{"block with a language", "```shell\n/ok-to-test\n```\n", ""},
		{"block between text", "before\n" + fenced + "after\n", "before\nafter\n"},
		{"several blocks", fenced + "/retest\n" + fenced + fenced, "/retest\n"},
		{"last block without a final newline", "x\n```\n/test all\n```", "x\n"},
		// GitHub renders these as code too (CommonMark), so they are no
		// commands either.
		{"a fence with text after it does not close", "```\n/ok-to-test\n``` not a fence\n/retest\n", ""},
		{"a fence never closed runs to the end", "```\n/ok-to-test\n", ""},
		{"a longer fence closes a shorter one", "```\n/ok-to-test\n`````\n/retest\n", "/retest\n"},
		{"a shorter run does not close a longer fence", "````\n```\n/ok-to-test\n````\n/retest\n", "/retest\n"},
		{"tilde does not close backticks", "```\n~~~\n/ok-to-test\n```\n/retest\n", "/retest\n"},
		{"indented fence up to three spaces", "   ```\n/ok-to-test\n   ```\n", ""},
		{"inline code is text", "run `/retest` to retry\n", "run `/retest` to retry\n"},
		{"CRLF lines", "```\r\n/ok-to-test\r\n```\r\n/retest\r\n", "/retest\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CommandText(tt.body); got != tt.want {
				t.Errorf("CommandText(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

func TestCommandTextIsBounded(t *testing.T) {
	body := strings.Repeat("é", MaxCommandTextBytes) + "\n/ok-to-test\n"
	got := CommandText(body)
	if len(got) > MaxCommandTextBytes || strings.Contains(got, "/ok-to-test") {
		t.Errorf("CommandText kept %d bytes, command past the bound: %t", len(got), strings.Contains(got, "/ok-to-test"))
	}
	if !strings.HasSuffix(got, "é") {
		t.Error("cut inside a character")
	}
}
