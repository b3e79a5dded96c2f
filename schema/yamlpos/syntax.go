package yamlpos

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
)

// syntaxError turns a parse error of yaml.v3 into a positioned Error.
// yaml.v3 reports the line where the enclosing block started rather than
// where the problem is (a bad line 16 of a job is reported on line 3, where
// the job begins), so the position comes from a second parser that tracks
// tokens; yaml.v3's verdict (the document is invalid) stands either way.
// The message quotes the offending line as the user wrote it.
func syntaxError(file string, data []byte, err error) Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ":"); i > 0 {
			if n, convErr := strconv.Atoi(rest[:i]); convErr == nil {
				line, msg = n, strings.TrimSpace(rest[i+1:])
			}
		}
	}
	col := 0
	if l, c, m, ok := locateSyntaxError(data); ok {
		line, col, msg = l, c, m
	} else if name, ok := unknownAnchor(msg); ok {
		line, col = findAlias(data, name)
	}
	if text := sourceLine(data, line); text != "" {
		msg = fmt.Sprintf("%s, in %q", msg, text)
	}
	return Error{File: file, Line: line, Column: col, Message: "invalid YAML: " + msg}
}

// locateSyntaxError parses data with a parser that reports the token where
// a document goes wrong.
func locateSyntaxError(data []byte) (line, col int, msg string, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_, err := goccyparser.ParseBytes(data, 0)
	var se *goccy.SyntaxError
	if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil || se.Token.Position.Line <= 0 {
		return 0, 0, "", false
	}
	p := se.Token.Position
	return p.Line, max(p.Column, 1), strings.ReplaceAll(se.Message, "\t", `\t`), true
}

var unknownAnchorRe = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

func unknownAnchor(msg string) (string, bool) {
	m := unknownAnchorRe.FindStringSubmatch(msg)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// findAlias finds the first use of an alias, *name, in data.
func findAlias(data []byte, name string) (line, col int) {
	for i, l := range strings.Split(string(data), "\n") {
		for off := 0; ; {
			j := strings.Index(l[off:], "*"+name)
			if j < 0 {
				break
			}
			j += off
			end := j + 1 + len(name)
			if end == len(l) || strings.ContainsRune(" ,]}\r", rune(l[end])) {
				return i + 1, utf8.RuneCountInString(l[:j]) + 1
			}
			off = j + 1
		}
	}
	return 0, 0
}

// sourceLine is line n of data without surrounding spaces, cut short when
// long.
func sourceLine(data []byte, n int) string {
	if n <= 0 {
		return ""
	}
	lines := strings.SplitN(string(data), "\n", n+1)
	if len(lines) < n {
		return ""
	}
	l := strings.TrimSpace(strings.TrimSuffix(lines[n-1], "\r"))
	if utf8.RuneCountInString(l) > 80 {
		r := []rune(l)
		l = string(r[:80]) + "…"
	}
	return l
}
