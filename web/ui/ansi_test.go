package ui

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestRenderLine(t *testing.T) {
	tests := []struct {
		name, in, want, text string
	}{
		{"plain, escaped", "a <b> & 'c'", "a &lt;b&gt; &amp; &#39;c&#39;", "a <b> & 'c'"},
		{"colour and reset", "\x1b[31mred\x1b[0m plain", `<span class="f1">red</span> plain`, "red plain"},
		{"bold bright", "\x1b[1;92mok\x1b[m", `<span class="f10 bo">ok</span>`, "ok"},
		{"background", "\x1b[41;37m X \x1b[49m", `<span class="f7 b1"> X </span>`, " X "},
		{"256 colours map to the nearest of 16", "\x1b[38;5;196mhot\x1b[39m", `<span class="f9">hot</span>`, "hot"},
		{"true colour", "\x1b[38;2;0;205;0mgreen", `<span class="f2">green</span>`, "green"},
		{"inverse", "\x1b[7mrev", `<span class="f16 b16">rev</span>`, "rev"},
		{"other sequences dropped", "\x1b[2K\x1b[1Gdone\x1b]0;title\x07!", "done!", "done!"},
		{"OSC 8 link: the text stays", "\x1b]8;;http://x.example\x1b\\link\x1b]8;;\x1b\\", "link", "link"},
		{"a carriage return rewrites the line", "10%\r50%\r100%", "100%", "100%"},
		{"CRLF is not a rewrite", "dos line\r", "dos line", "dos line"},
		{"colour set before the rewrite counts", "\x1b[32m1%\r2%", `<span class="f2">2%</span>`, "2%"},
		{"control bytes dropped, tabs kept", "a\x00b\tc\x07", "ab\tc", "ab\tc"},
		{"invalid UTF-8 replaced", "bad\xffbyte", "bad\ufffdbyte", "bad\ufffdbyte"},
		{"a cut sequence", "x\x1b[3", "x", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			text := newLineRenderer().render(&b, []byte(tt.in))
			if b.String() != tt.want || text != tt.text {
				t.Errorf("got %q (text %q), want %q (text %q)", b.String(), text, tt.want, tt.text)
			}
		})
	}
	// The rendition carries over to the next line, as in a terminal.
	lr := newLineRenderer()
	var b bytes.Buffer
	lr.render(&b, []byte("\x1b[33mstill"))
	b.Reset()
	lr.render(&b, []byte("yellow"))
	if b.String() != `<span class="f3">yellow</span>` {
		t.Errorf("second line: %q", b.String())
	}
}

func TestFoldRanges(t *testing.T) {
	hi := func(n int, at ...int) []bool {
		h := make([]bool, n)
		for _, i := range at {
			h[i] = true
		}
		return h
	}
	tests := []struct {
		name string
		hi   []bool
		want string
	}{
		{"short logs stay whole", hi(200), "[]"},
		{"long quiet log: all but the first 10 and last 100", hi(500), "[[10 400]]"},
		{"around a highlighted line", hi(1000, 500), "[[10 490] [511 900]]"},
		{"gaps under 30 lines stay open", hi(300, 40, 75), "[[86 200]]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(foldRanges(tt.hi)); got != tt.want && !(got == "[]" && tt.want == "[]") {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestReadTail(t *testing.T) {
	var log strings.Builder
	for i := 1; i <= 1000; i++ {
		fmt.Fprintf(&log, "line %04d\n", i) // 10 bytes a line
	}
	data, skipped, lines, err := readTail(strings.NewReader(log.String()), 95)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "line 0992\n") || skipped != 9910 || lines != 991 || !strings.HasSuffix(string(data), "line 1000\n") {
		t.Errorf("tail: %q, skipped %d bytes and %d lines", data, skipped, lines)
	}
	data, skipped, lines, _ = readTail(strings.NewReader("short\n"), 95)
	if string(data) != "short\n" || skipped != 0 || lines != 0 {
		t.Errorf("short: %q %d %d", data, skipped, lines)
	}
}
