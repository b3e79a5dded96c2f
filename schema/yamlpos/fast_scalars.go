package yamlpos

import (
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// blockScalar parses a literal (|) or folded (>) scalar whose header is
// text.
func (p *fastParser) blockScalar(l *fastLine, indent int, text string, n *yaml.Node) (*yaml.Node, bool) {
	header := text
	if i := strings.Index(header, " #"); i >= 0 {
		header = strings.TrimRight(header[:i], " ")
	}
	folded := header[0] == '>'
	chomp := header[1:]
	if chomp != "" && chomp != "-" && chomp != "+" {
		return nil, false
	}
	n.Style = yaml.LiteralStyle
	if folded {
		n.Style = yaml.FoldedStyle
	}
	// Content lines: blank ones, and those indented deeper than the
	// parent. The first content line sets the indentation.
	start := p.i
	bi := -1
	j := start
	for ; j < len(p.lines); j++ {
		ln := &p.lines[j]
		if strings.TrimLeft(ln.raw, " ") == "" {
			continue
		}
		if bi < 0 {
			if ln.indent <= indent {
				break
			}
			bi = ln.indent
		}
		if ln.indent < bi {
			break
		}
	}
	// Trailing blank lines belong to the scalar only for chomping.
	end := j
	for end > start && strings.TrimLeft(p.lines[end-1].raw, " ") == "" {
		end--
	}
	var b strings.Builder
	prevBlank, first := false, true
	for k := start; k < end; k++ {
		ln := &p.lines[k]
		if strings.TrimLeft(ln.raw, " ") == "" {
			if len(ln.raw) > bi && bi >= 0 {
				return nil, false // whitespace beyond the indentation
			}
			b.WriteByte('\n')
			prevBlank = true
			continue
		}
		body := ln.raw[bi:]
		if strings.ContainsAny(ln.raw[:bi], "\t") {
			return nil, false
		}
		if folded {
			if body[0] == ' ' || body[0] == '\t' {
				return nil, false
			}
			if !first && !prevBlank {
				b.WriteByte(' ')
			}
		} else if !first {
			b.WriteByte('\n')
		}
		b.WriteString(body)
		prevBlank, first = false, false
	}
	content := b.String()
	if bi < 0 {
		content = ""
		for k := start; k < end; k++ {
			content += "\n"
		}
	}
	for k := start; k < j; k++ {
		if raw := p.lines[k].raw; raw != "" && strings.TrimLeft(raw, " ") == "" && len(raw) > bi {
			return nil, false // spaces beyond the indentation are content
		}
	}
	// A line ends with a line break unless it is the last of the file.
	broken := func(k int) bool { return k < len(p.lines)-1 }
	if bi < 0 {
		return nil, false
	}
	switch chomp {
	case "-":
	case "+":
		if broken(end - 1) {
			content += "\n"
		}
		for k := end; k < j; k++ {
			if broken(k) {
				content += "\n"
			}
		}
	default:
		if broken(end - 1) {
			content += "\n"
		}
	}
	p.i = j
	n.Value = content
	return n, true
}

func unquote(t string) (string, bool) {
	body := t[1 : len(t)-1]
	if t[0] == '\'' {
		return strings.ReplaceAll(body, "''", "'"), true
	}
	if !strings.Contains(body, `\`) {
		return body, true
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(body) {
			return "", false
		}
		switch body[i] {
		case '0':
			b.WriteByte(0)
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 't', '\t':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'v':
			b.WriteByte('\v')
		case 'f':
			b.WriteByte('\f')
		case 'r':
			b.WriteByte('\r')
		case 'e':
			b.WriteByte(0x1b)
		case ' ', '"', '/', '\\':
			b.WriteByte(body[i])
		case 'x', 'u', 'U':
			width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[body[i]]
			if i+1+width > len(body) {
				return "", false
			}
			r, err := strconv.ParseUint(body[i+1:i+1+width], 16, 32)
			if err != nil || !utf8.ValidRune(rune(r)) {
				return "", false
			}
			b.WriteRune(rune(r))
			i += width
		default:
			return "", false
		}
	}
	return b.String(), true
}

// flowParser parses a one-line flow collection.
type flowParser struct {
	p     *fastParser
	line  *fastLine
	s     string
	pos   int
	depth int
}

func (f *flowParser) space() {
	for f.pos < len(f.s) && f.s[f.pos] == ' ' {
		f.pos++
	}
}

func (f *flowParser) value() (*yaml.Node, bool) {
	f.space()
	if f.pos >= len(f.s) {
		return nil, false
	}
	if f.depth++; f.depth > 64 {
		return nil, false
	}
	defer func() { f.depth-- }()
	n := f.p.node(yaml.Node{Line: f.line.num, Column: f.line.col(f.pos)})
	switch c := f.s[f.pos]; c {
	case '[', '{':
		closer := byte(']')
		n.Kind, n.Style = yaml.SequenceNode, yaml.FlowStyle
		if c == '{' {
			closer, n.Kind = '}', yaml.MappingNode
		}
		f.pos++
		for {
			f.space()
			if f.pos >= len(f.s) {
				return nil, false
			}
			if f.s[f.pos] == closer {
				f.pos++
				return n, true
			}
			item, ok := f.value()
			if !ok {
				return nil, false
			}
			f.space()
			if f.pos >= len(f.s) {
				return nil, false
			}
			if f.s[f.pos] == ':' {
				if n.Kind != yaml.MappingNode || item.Kind != yaml.ScalarNode || len(item.Value) > 900 {
					return nil, false
				}
				f.pos++
				if f.pos < len(f.s) && f.s[f.pos] != ' ' && item.Style == 0 {
					return nil, false
				}
				f.space()
				var val *yaml.Node
				if f.pos < len(f.s) && (f.s[f.pos] == ',' || f.s[f.pos] == closer) {
					val = f.p.node(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: f.line.num, Column: f.line.col(f.pos)})
				} else if val, ok = f.value(); !ok {
					return nil, false
				}
				n.Content = append(n.Content, item, val)
			} else {
				if n.Kind == yaml.MappingNode {
					return nil, false
				}
				n.Content = append(n.Content, item)
			}
			f.space()
			if f.pos < len(f.s) && f.s[f.pos] == ',' {
				f.pos++
				continue
			}
			if f.pos >= len(f.s) || f.s[f.pos] != closer {
				return nil, false
			}
		}
	case '"', '\'':
		end := quotedEnd(f.s[f.pos:])
		if end < 0 {
			return nil, false
		}
		v, ok := unquote(f.s[f.pos : f.pos+end])
		if !ok {
			return nil, false
		}
		n.Kind, n.Value, n.Style = yaml.ScalarNode, v, quoteStyle(c)
		f.pos += end
		return n, true
	}
	start := f.pos
	for f.pos < len(f.s) {
		c := f.s[f.pos]
		if c == ',' || c == ']' || c == '}' || c == '[' || c == '{' {
			break
		}
		if c == ':' && (f.pos+1 == len(f.s) || strings.IndexByte(" ,]}", f.s[f.pos+1]) >= 0) {
			break
		}
		if c == '#' && f.pos > start && f.s[f.pos-1] == ' ' {
			return nil, false
		}
		f.pos++
	}
	v := strings.TrimRight(f.s[start:f.pos], " ")
	if !plainOK(v, true) {
		return nil, false
	}
	n.Kind, n.Value = yaml.ScalarNode, v
	return n, true
}
