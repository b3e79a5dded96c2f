package yamlpos

import (
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// parseFast parses the plain block-style YAML that configuration files are
// written in — mappings, sequences, plain, quoted and block scalars, and
// one-line flow collections — several times faster than the general
// parser. It builds the same nodes as yaml.v3 (kinds, values, styles,
// lines and columns; tags are left for Node.ShortTag to resolve) and gives
// up (ok false) on anything else: anchors, tags, multi-line plain or quoted
// scalars, several documents, tabs in indentation, and all that is not well
// formed. The caller then parses with yaml.v3, which reports errors.
func parseFast(data []byte) (doc *yaml.Node, ok bool) {
	defer func() {
		// A mistake here must never cost more than the general parser.
		if recover() != nil {
			doc, ok = nil, false
		}
	}()
	p := fastParser{src: string(data)}
	if !p.split() {
		return nil, false
	}
	p.skipBlank()
	if p.i >= len(p.lines) {
		return nil, false
	}
	root, ok := p.block(0, true)
	if !ok || root == nil {
		return nil, false
	}
	p.skipBlank()
	if p.i < len(p.lines) {
		return nil, false
	}
	return &yaml.Node{Kind: yaml.DocumentNode, Line: root.Line, Column: root.Column, Content: []*yaml.Node{root}}, true
}

type fastLine struct {
	num    int    // 1-based line number
	indent int    // leading spaces
	text   string // the line without leading spaces and trailing spaces
	raw    string // the whole line (for block scalars)
	ascii  bool
}

type fastParser struct {
	src   string
	lines []fastLine // content lines; comment-only and blank lines are kept with text ""
	i     int
	slab  []yaml.Node
	// slabbed counts the nodes allocated so far.
	slabbed int
}

// node allocates nodes in chunks: a file's nodes live and die together.
// The first chunk is sized for the file (about two nodes a line), so small
// files do not waste a large chunk.
func (p *fastParser) node(n yaml.Node) *yaml.Node {
	if len(p.slab) == 0 {
		size := 64
		if p.slabbed == 0 {
			size = max(size, 2*len(p.lines))
		}
		p.slab = make([]yaml.Node, size)
		p.slabbed += size
	}
	x := &p.slab[0]
	p.slab = p.slab[1:]
	*x = n
	return x
}

func (p *fastParser) split() bool {
	if strings.HasPrefix(p.src, "\ufeff") || !printable(p.src) {
		return false
	}
	n := strings.Count(p.src, "\n") + 1
	p.lines = make([]fastLine, 0, n)
	sawDoc, sawContent := false, false
	rest := p.src
	for num := 1; ; num++ {
		line, tail, more := strings.Cut(rest, "\n")
		rest = tail
		line = strings.TrimSuffix(line, "\r")
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		text := strings.TrimRight(line[indent:], " \t")
		if strings.HasPrefix(text, "\t") {
			return false
		}
		if strings.HasPrefix(text, "#") {
			text = ""
		}
		if indent == 0 && (text == "---" || strings.HasPrefix(text, "--- ") || text == "..." || strings.HasPrefix(text, "%")) {
			if text != "---" && !strings.HasPrefix(text, "--- #") {
				return false
			}
			if sawDoc || sawContent {
				return false
			}
			sawDoc = true
			text = ""
		}
		if text != "" {
			sawContent = true
		}
		p.lines = append(p.lines, fastLine{num: num, indent: indent, text: text, raw: line, ascii: isASCII(line)})
		if !more {
			break
		}
	}
	return true
}

// printable reports whether s has only characters YAML allows in a stream.
func printable(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			// Tabs are left to yaml.v3: where they may appear is subtle.
			if c < 0x20 && c != '\n' && c != '\r' || c == 0x7f {
				return false
			}
			if c == '\r' && (i+1 == len(s) || s[i+1] != '\n') {
				return false // a lone CR is a line break to YAML
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return false
		case r == 0x2028 || r == 0x2029:
			return false // line breaks to YAML
		case r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF, r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
		i += size
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// col is the 1-based column of byte offset off in a line, counted in
// characters as yaml.v3 counts them.
func (l *fastLine) col(off int) int {
	if l.ascii {
		return off + 1
	}
	return utf8.RuneCountInString(l.raw[:off]) + 1
}

func (p *fastParser) skipBlank() {
	for p.i < len(p.lines) && p.lines[p.i].text == "" {
		p.i++
	}
}

// block parses the node starting at the current line, which must be
// indented at least min. top allows a scalar alone on its line.
func (p *fastParser) block(min int, top bool) (*yaml.Node, bool) {
	p.skipBlank()
	if p.i >= len(p.lines) {
		return nil, true
	}
	l := &p.lines[p.i]
	if l.indent < min {
		return nil, true
	}
	switch {
	case isSeqItem(l.text):
		return p.sequence(l.indent)
	case keyEnd(l.text) >= 0:
		return p.mapping(l.indent)
	}
	if !top {
		return nil, false
	}
	p.i++
	return p.inlineValue(l, l.indent, l.text, -1)
}

func isSeqItem(t string) bool { return t == "-" || strings.HasPrefix(t, "- ") }

// keyEnd finds the colon that ends a simple key on a line, or -1.
func keyEnd(t string) int {
	if t == "" {
		return -1
	}
	switch t[0] {
	case '"', '\'':
		end := quotedEnd(t)
		if end < 0 || end > 1000 || end >= len(t) || t[end] != ':' || (end+1 < len(t) && t[end+1] != ' ') {
			return -1
		}
		return end
	case '[', '{', '?', '&', '*', '!', '|', '>', '%', '@', '`', '#', ',', ']', '}':
		return -1
	}
	// yaml.v3 allows simple keys of up to 1024 characters.
	for i := 0; i < len(t) && i < 1000; i++ {
		switch t[i] {
		case ':':
			if i+1 == len(t) || t[i+1] == ' ' {
				return i
			}
		case '#':
			if i > 0 && t[i-1] == ' ' {
				return -1
			}
		}
	}
	return -1
}

// quotedEnd returns the offset just after the closing quote of the quoted
// scalar starting t, or -1.
func quotedEnd(t string) int {
	q := t[0]
	for i := 1; i < len(t); i++ {
		switch {
		case q == '\'' && t[i] == '\'':
			if i+1 < len(t) && t[i+1] == '\'' {
				i++
				continue
			}
			return i + 1
		case q == '"' && t[i] == '\\':
			i++
		case q == '"' && t[i] == '"':
			return i + 1
		}
	}
	return -1
}

// continues reports whether the next content line is indented deeper than
// parent, i.e. would continue a plain scalar over several lines.
func (p *fastParser) continues(parent int) bool {
	for j := p.i; j < len(p.lines); j++ {
		if p.lines[j].text != "" {
			return p.lines[j].indent > parent
		}
	}
	return false
}

func (p *fastParser) mapping(indent int) (*yaml.Node, bool) {
	first := &p.lines[p.i]
	m := p.node(yaml.Node{Kind: yaml.MappingNode, Line: first.num, Column: first.col(first.indent)})
	for {
		p.skipBlank()
		if p.i >= len(p.lines) {
			return m, true
		}
		l := &p.lines[p.i]
		if l.indent < indent {
			return m, true
		}
		if l.indent > indent {
			return nil, false
		}
		end := keyEnd(l.text)
		if end < 0 {
			if isSeqItem(l.text) {
				return m, true // a sequence at the parent's indentation ends here
			}
			return nil, false
		}
		key, ok := p.key(l, l.text[:end])
		if !ok {
			return nil, false
		}
		rest := strings.TrimLeft(l.text[end+1:], " ")
		restOff := l.indent + len(l.text) - len(rest)
		p.i++
		var val *yaml.Node
		if rest == "" || rest[0] == '#' {
			val, ok = p.nested(l, indent, true, l.col(l.indent+end)+1)
		} else {
			val, ok = p.inlineValue(l, indent, rest, restOff)
		}
		if !ok {
			return nil, false
		}
		m.Content = append(m.Content, key, val)
	}
}

// nested parses the value of a key or item with nothing after it on its
// line: a deeper block, a sequence at the same indentation (for keys), or
// null, placed as yaml.v3 places it: just after the colon or dash (col).
func (p *fastParser) nested(l *fastLine, indent int, isKey bool, col int) (*yaml.Node, bool) {
	p.skipBlank()
	if p.i < len(p.lines) {
		next := &p.lines[p.i]
		if next.indent > indent {
			return p.block(indent+1, false)
		}
		if next.indent == indent && isSeqItem(next.text) && isKey {
			return p.sequence(indent)
		}
	}
	return p.node(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: l.num, Column: col}), true
}

func (p *fastParser) key(l *fastLine, text string) (*yaml.Node, bool) {
	k := p.node(yaml.Node{Kind: yaml.ScalarNode, Line: l.num, Column: l.col(l.indent)})
	if text == "" {
		return nil, false
	}
	if text[0] == '"' || text[0] == '\'' {
		v, ok := unquote(text)
		if !ok {
			return nil, false
		}
		k.Value = v
		k.Style = quoteStyle(text[0])
		return k, true
	}
	v := strings.TrimRight(text, " ")
	if v == "<<" || !plainOK(v, false) {
		return nil, false
	}
	k.Value = v
	return k, true
}

func quoteStyle(q byte) yaml.Style {
	if q == '"' {
		return yaml.DoubleQuotedStyle
	}
	return yaml.SingleQuotedStyle
}

// plainOK reports whether a plain scalar may be written as is.
func plainOK(v string, flow bool) bool {
	if v == "" {
		return false
	}
	switch v[0] {
	case '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', '[', ']', '{', '}', '#', ',':
		return false
	case '-', '?', ':':
		if len(v) == 1 || v[1] == ' ' {
			return false
		}
	}
	if strings.Contains(v, ": ") || strings.HasSuffix(v, ":") || strings.Contains(v, " #") || strings.ContainsAny(v, "\t") {
		return false
	}
	if flow && strings.ContainsAny(v, ",[]{}") {
		return false
	}
	return true
}

// inlineValue parses a value written after a key or item marker. off is
// its byte offset in l.raw, or -1 for a value alone on its line.
func (p *fastParser) inlineValue(l *fastLine, indent int, text string, off int) (*yaml.Node, bool) {
	if off < 0 {
		off = l.indent
	}
	n := p.node(yaml.Node{Kind: yaml.ScalarNode, Line: l.num, Column: l.col(off)})
	switch text[0] {
	case '|', '>':
		return p.blockScalar(l, indent, text, n)
	case '[', '{':
		f := flowParser{p: p, line: l, s: l.raw, pos: off}
		v, ok := f.value()
		if !ok {
			return nil, false
		}
		f.space()
		if f.pos < len(f.s) && f.s[f.pos] != '#' {
			return nil, false
		}
		return v, true
	case '"', '\'':
		end := quotedEnd(text)
		if end < 0 {
			return nil, false
		}
		tail := strings.TrimLeft(text[end:], " ")
		if tail != "" && (tail[0] != '#' || end == len(text)-len(tail)) {
			return nil, false
		}
		v, ok := unquote(text[:end])
		if !ok {
			return nil, false
		}
		n.Value, n.Style = v, quoteStyle(text[0])
		return n, true
	}
	v := text
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimRight(v[:i], " ")
	}
	if !plainOK(v, false) || p.continues(indent) {
		return nil, false
	}
	n.Value = v
	return n, true
}

// sequence parses block sequence items at indent.
func (p *fastParser) sequence(indent int) (*yaml.Node, bool) {
	first := &p.lines[p.i]
	s := p.node(yaml.Node{Kind: yaml.SequenceNode, Line: first.num, Column: first.col(first.indent)})
	for {
		p.skipBlank()
		if p.i >= len(p.lines) {
			return s, true
		}
		l := &p.lines[p.i]
		if l.indent < indent || l.indent == indent && !isSeqItem(l.text) {
			return s, true
		}
		if l.indent > indent {
			return nil, false
		}
		rest := strings.TrimLeft(l.text[1:], " ")
		if rest == "" || rest[0] == '#' {
			p.i++
			item, ok := p.nested(l, indent, false, l.col(l.indent)+1)
			if !ok {
				return nil, false
			}
			s.Content = append(s.Content, item)
			continue
		}
		contentIndent := l.indent + len(l.text) - len(rest)
		if isSeqItem(rest) || keyEnd(rest) >= 0 {
			// A compact nested block: parse it as if it started on its
			// own line at the item's content column.
			l.indent, l.text = contentIndent, rest
			item, ok := p.block(contentIndent, false)
			if !ok || item == nil {
				return nil, false
			}
			s.Content = append(s.Content, item)
			continue
		}
		p.i++
		item, ok := p.inlineValue(l, indent, rest, contentIndent)
		if !ok {
			return nil, false
		}
		s.Content = append(s.Content, item)
	}
}
