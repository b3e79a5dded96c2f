package ui

import (
	"bytes"
	"html"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A build log is rendered line by line, each raw line one rendered line, so
// that line numbers (and links to them) are the file's and stay the same
// whether the log is rendered whole or streamed in pieces. Terminal
// libraries render a screen instead (cursor moves join and split lines), so
// this is a small renderer of what logs use: SGR colours and attributes,
// carried from line to line; a carriage return rewriting its line
// (progress bars); every other control sequence dropped.

// sgr is the graphic rendition in effect.
type sgr struct {
	fg, bg                                  int8 // 0–15, or -1 for the default
	bold, faint, italic, underline, inverse bool
}

var plain = sgr{fg: -1, bg: -1}

func (s sgr) classes() string {
	var c []string
	fg, bg := s.fg, s.bg
	if s.inverse {
		fg, bg = bg, fg
		if fg < 0 {
			fg = 16 // the default background, as a foreground
		}
		if bg < 0 {
			bg = 16
		}
	}
	if fg >= 0 {
		c = append(c, "f"+strconv.Itoa(int(fg)))
	}
	if bg >= 0 {
		c = append(c, "b"+strconv.Itoa(int(bg)))
	}
	if s.bold {
		c = append(c, "bo")
	}
	if s.faint {
		c = append(c, "fa")
	}
	if s.italic {
		c = append(c, "it")
	}
	if s.underline {
		c = append(c, "un")
	}
	return strings.Join(c, " ")
}

// apply applies an SGR sequence's parameters ("1;31", "38;5;208").
func (s *sgr) apply(params string) {
	if params == "" {
		*s = plain
		return
	}
	ps := strings.FieldsFunc(params, func(r rune) bool { return r == ';' || r == ':' })
	for i := 0; i < len(ps); i++ {
		n, err := strconv.Atoi(ps[i])
		if err != nil {
			continue
		}
		switch {
		case n == 0:
			*s = plain
		case n == 1:
			s.bold = true
		case n == 2:
			s.faint = true
		case n == 3:
			s.italic = true
		case n == 4:
			s.underline = true
		case n == 7:
			s.inverse = true
		case n == 22:
			s.bold, s.faint = false, false
		case n == 23:
			s.italic = false
		case n == 24:
			s.underline = false
		case n == 27:
			s.inverse = false
		case n >= 30 && n <= 37:
			s.fg = int8(n - 30)
		case n == 39:
			s.fg = -1
		case n >= 40 && n <= 47:
			s.bg = int8(n - 40)
		case n == 49:
			s.bg = -1
		case n >= 90 && n <= 97:
			s.fg = int8(n - 90 + 8)
		case n >= 100 && n <= 107:
			s.bg = int8(n - 100 + 8)
		case n == 38 || n == 48:
			c, used := extendedColour(ps[i+1:])
			i += used
			if c >= -1 {
				if n == 38 {
					s.fg = c
				} else {
					s.bg = c
				}
			}
		}
	}
}

// extendedColour reads "5;n" (256 colours) or "2;r;g;b" (true colour) and
// maps it to the nearest of the 16 colours the style sheet defines (no
// inline styles: the page's policy forbids them). It returns the colour,
// -2 when unreadable, and how many parameters it read.
func extendedColour(ps []string) (int8, int) {
	if len(ps) == 0 {
		return -2, 0
	}
	num := func(i int) int {
		if i >= len(ps) {
			return -1
		}
		n, err := strconv.Atoi(ps[i])
		if err != nil {
			return -1
		}
		return n
	}
	switch ps[0] {
	case "5":
		n := num(1)
		switch {
		case n < 0 || n > 255:
			return -2, 2
		case n < 16:
			return int8(n), 2
		case n < 232:
			n -= 16
			level := func(v int) int { return []int{0, 95, 135, 175, 215, 255}[v] }
			return nearest16(level(n/36), level(n/6%6), level(n%6)), 2
		}
		g := 8 + (n-232)*10
		return nearest16(g, g, g), 2
	case "2":
		r, g, b := num(1), num(2), num(3)
		if r < 0 || g < 0 || b < 0 {
			return -2, 4
		}
		return nearest16(r, g, b), 4
	}
	return -2, 1
}

// xterm's 16 colours, to find the nearest.
var palette16 = [16][3]int{
	{0, 0, 0}, {205, 0, 0}, {0, 205, 0}, {205, 205, 0}, {0, 0, 238}, {205, 0, 205}, {0, 205, 205}, {229, 229, 229},
	{127, 127, 127}, {255, 0, 0}, {0, 255, 0}, {255, 255, 0}, {92, 92, 255}, {255, 0, 255}, {0, 255, 255}, {255, 255, 255},
}

func nearest16(r, g, b int) int8 {
	best, bestD := 0, 1<<30
	for i, c := range palette16 {
		d := (c[0]-r)*(c[0]-r) + (c[1]-g)*(c[1]-g) + (c[2]-b)*(c[2]-b)
		if d < bestD {
			best, bestD = i, d
		}
	}
	return int8(best)
}

// lineRenderer renders lines, carrying the rendition from one to the next.
type lineRenderer struct {
	st sgr
}

func newLineRenderer() *lineRenderer { return &lineRenderer{st: plain} }

// render appends the HTML of one raw line (no newline) to out and returns
// its text without control sequences.
func (lr *lineRenderer) render(out *bytes.Buffer, line []byte) string {
	// A carriage return starts the line again: what follows the last one
	// that is followed by something is what a terminal shows at the end
	// (the renditions set before it still count).
	if i := lastCR(line); i >= 0 {
		lr.scan(line[:i], nil, nil)
		line = line[i+1:]
	}
	var text strings.Builder
	lr.scan(line, out, &text)
	return text.String()
}

// lastCR is the index of the last '\r' that has something after it.
func lastCR(line []byte) int {
	end := len(line)
	for end > 0 && line[end-1] == '\r' {
		end--
	}
	return bytes.LastIndexByte(line[:end], '\r')
}

// scan walks a line: text goes to out (escaped, in spans of the rendition)
// and to text; escape sequences change the rendition or are dropped.
func (lr *lineRenderer) scan(line []byte, out *bytes.Buffer, text *strings.Builder) {
	open := false
	var run bytes.Buffer
	flush := func() {
		if text != nil {
			text.Write(run.Bytes())
		}
		if run.Len() == 0 || out == nil {
			run.Reset()
			return
		}
		if c := lr.st.classes(); c != "" {
			out.WriteString(`<span class="`)
			out.WriteString(c)
			out.WriteString(`">`)
			open = true
		}
		out.WriteString(html.EscapeString(run.String()))
		if open {
			out.WriteString("</span>")
			open = false
		}
		run.Reset()
	}
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == 0x1b:
			n, params, final := escape(line[i:])
			if final == 'm' {
				flush()
				lr.st.apply(params)
			}
			i += n
		case c == '\t':
			run.WriteByte(c)
			i++
		case c < 0x20 || c == 0x7f:
			i++
		default:
			r, size := utf8.DecodeRune(line[i:])
			if r == utf8.RuneError && size <= 1 {
				run.WriteRune(utf8.RuneError)
				i++
				continue
			}
			run.Write(line[i : i+size])
			i += size
		}
	}
	flush()
}

// escape measures the escape sequence at the start of b (b[0] is ESC): its
// length, and for a CSI sequence its parameters and final byte.
func escape(b []byte) (n int, params string, final byte) {
	if len(b) < 2 {
		return len(b), "", 0
	}
	switch b[1] {
	case '[':
		j := 2
		for j < len(b) && b[j] >= 0x30 && b[j] <= 0x3f {
			j++
		}
		p := string(b[2:j])
		for j < len(b) && b[j] >= 0x20 && b[j] <= 0x2f {
			j++
		}
		if j < len(b) && b[j] >= 0x40 && b[j] <= 0x7e {
			return j + 1, p, b[j]
		}
		return j, "", 0
	case ']', 'P', '_', '^':
		// OSC, DCS, APC, PM: up to BEL or ST (ESC \).
		for j := 2; j < len(b); j++ {
			if b[j] == 0x07 {
				return j + 1, "", 0
			}
			if b[j] == 0x1b && j+1 < len(b) && b[j+1] == '\\' {
				return j + 2, "", 0
			}
		}
		return len(b), "", 0
	}
	return 2, "", 0
}
