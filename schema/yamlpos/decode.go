package yamlpos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"

	yaml "go.yaml.in/yaml/v3"
)

// NodeUnmarshaler is implemented by types that decode themselves from a YAML
// node, such as durations and regular expressions. An error they return is
// reported at the node's position.
type NodeUnmarshaler interface {
	UnmarshalYAMLNode(n *yaml.Node) error
}

// NodeDecoder is implemented by types that decode themselves from a YAML
// node in more than one shape (a list or a mapping, say) and decode parts
// of it with decode, which shares the document's alias budget, file and
// error list, so that problems are reported where they are and aliases
// cannot expand past the limit through them.
type NodeDecoder interface {
	DecodeYAMLNode(n *yaml.Node, decode func(n *yaml.Node, out any)) error
}

// LenientFields is implemented by struct types whose documents Prow reads
// without checking field names (OWNERS files): an unknown field there is a
// warning, not an error, and is ignored.
type LenientFields interface {
	LenientFields()
}

var (
	lenientFieldsType   = reflect.TypeFor[LenientFields]()
	nodeDecoderType     = reflect.TypeFor[NodeDecoder]()
	nodeUnmarshalerType = reflect.TypeFor[NodeUnmarshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	posType             = reflect.TypeFor[Pos]()
)

// Decoder decodes YAML into Go values strictly. It caches what it learns
// about Go types, so one Decoder should be shared by all files of a load; it
// is safe for concurrent use.
type Decoder struct {
	types sync.Map // reflect.Type → *typeInfo

	watch func(owner reflect.Type, field string) bool
	seen  func(owner reflect.Type, field string, p Pos)
}

// NewDecoder returns a Decoder with an empty type cache.
func NewDecoder() *Decoder { return &Decoder{} }

// Watch asks the decoder to report, through seen, every field for which
// match is true that a document sets to something other than its zero
// value, with the position of its key. owner is the struct type that
// declares the field and field its JSON name. seen may be called from
// several goroutines at once. Call Watch before the first Decode.
func (d *Decoder) Watch(match func(owner reflect.Type, field string) bool, seen func(owner reflect.Type, field string, p Pos)) {
	d.watch, d.seen = match, seen
}

// Parse reads the first YAML document of data. A syntax error is returned as
// an Error with the file and, where the parser gives one, the line.
func Parse(file string, data []byte) (*yaml.Node, error) {
	if fast, ok := parseFast(data); ok {
		return fast, nil
	}
	return parseV3(file, data)
}

// parseV3 parses with yaml.v3 alone.
func parseV3(file string, data []byte) (root *yaml.Node, err error) {
	defer func() {
		// The YAML parser is third-party code fed with untrusted input; a
		// panic in it must become an error for this file, not a crash.
		if r := recover(); r != nil {
			root, err = nil, Error{File: file, Message: fmt.Sprintf("invalid YAML: %v", r)}
		}
	}()
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, syntaxError(file, data, err)
	}
	return &n, nil
}

// Decode parses data and decodes its first document into out, which must be
// a non-nil pointer. Every problem found is added to errs.
func (d *Decoder) Decode(file string, data []byte, out any, errs *Errors) {
	if root, ok := parseFast(data); ok {
		// The fast parser makes no aliases, so nothing can expand.
		d.decodeNode(file, root, out, errs, math.MaxInt)
		return
	}
	root, err := parseV3(file, data)
	if err != nil {
		errs.List = append(errs.List, err.(Error))
		return
	}
	d.DecodeNode(file, root, out, errs)
}

// DecodeNode decodes an already parsed node into out.
func (d *Decoder) DecodeNode(file string, n *yaml.Node, out any, errs *Errors) {
	d.decodeNode(file, n, out, errs, budgetFor(n))
}

func (d *Decoder) decodeNode(file string, n *yaml.Node, out any, errs *Errors, budget int) {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		panic("yamlpos: DecodeNode needs a non-nil pointer")
	}
	s := &state{d: d, file: file, errs: errs, budget: budget}
	s.decode(n, v.Elem())
}

// budgetFor bounds the number of nodes one decode may visit. Aliases can make
// a small document expand exponentially ("billion laughs"); a document
// without aliases never comes near the bound.
func budgetFor(n *yaml.Node) int {
	const perNode, floor = 64, 1 << 16
	return max(floor, countNodes(n, 0)*perNode)
}

func countNodes(n *yaml.Node, acc int) int {
	if n == nil {
		return acc
	}
	acc++
	for _, c := range n.Content {
		acc = countNodes(c, acc)
	}
	return acc
}

type state struct {
	d       *Decoder
	file    string
	errs    *Errors
	budget  int
	aborted bool
	// reported counts the problems this decode added; past maxProblems
	// it stops, so that a document cannot fill memory with them.
	reported int
}

// maxProblems bounds the errors and warnings one document may produce.
const maxProblems = 1000

// report counts a problem, and reports whether there is room for it.
func (s *state) report(n *yaml.Node) bool {
	if s.reported++; s.reported < maxProblems {
		return true
	}
	if s.reported == maxProblems {
		s.aborted = true
		s.errs.Add(s.file, n.Line, n.Column, "too many problems in this file (%d); stopping here", maxProblems)
	}
	return false
}

func (s *state) fail(n *yaml.Node, format string, args ...any) {
	if s.report(n) {
		s.errs.Add(s.file, n.Line, n.Column, format, args...)
	}
}

func (s *state) warn(n *yaml.Node, code, format string, args ...any) {
	if s.report(n) {
		s.errs.Warn(s.file, n.Line, n.Column, code, format, args...)
	}
}

// kind classifies a Go type for decoding.
type kind uint8

const (
	kindPlain kind = iota
	kindNodeDecoder
	kindNodeUnmarshaler
	kindJSONUnmarshaler
	kindStruct
)

type typeInfo struct {
	kind   kind
	fields map[string]*fieldInfo
	lower  map[string]string // lower-cased name → name, for suggestions
	names  []string
	pos    []int // index of the Pos field, or nil
	// lenient makes unknown fields warnings (LenientFields).
	lenient bool
}

type fieldInfo struct {
	name  string
	index []int
	// owner declares the field; watch is set when the Decoder watches it.
	owner reflect.Type
	watch bool
}

func (d *Decoder) info(t reflect.Type) *typeInfo {
	if ti, ok := d.types.Load(t); ok {
		return ti.(*typeInfo)
	}
	ti := &typeInfo{}
	pt := reflect.PointerTo(t)
	switch {
	case pt.Implements(nodeDecoderType):
		ti.kind = kindNodeDecoder
	case pt.Implements(nodeUnmarshalerType):
		ti.kind = kindNodeUnmarshaler
	case pt.Implements(jsonUnmarshalerType):
		ti.kind = kindJSONUnmarshaler
	case t.Kind() == reflect.Struct:
		ti.kind = kindStruct
		ti.lenient = pt.Implements(lenientFieldsType)
		ti.fields = map[string]*fieldInfo{}
		ti.lower = map[string]string{}
		collectFields(t, nil, ti)
		if d.watch != nil {
			for _, f := range ti.fields {
				f.watch = d.watch(f.owner, f.name)
			}
		}
	}
	actual, _ := d.types.LoadOrStore(t, ti)
	return actual.(*typeInfo)
}

// collectFields gathers a struct's fields by their json names, flattening
// embedded structs the way encoding/json does (an anonymous struct field
// without a name, or one tagged ",inline" as Kubernetes types do).
func collectFields(t reflect.Type, prefix []int, ti *typeInfo) {
	for i := range t.NumField() {
		f := t.Field(i)
		index := append(append([]int(nil), prefix...), i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if f.Type == posType && tag == "-" {
			ti.pos = index
			continue
		}
		if tag == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct || strings.Contains(opts, "inline") {
			collectFields(ft, index, ti)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := ti.fields[name]; dup {
			// encoding/json: the shallower field wins; ours come first.
			continue
		}
		ti.fields[name] = &fieldInfo{name: name, index: index, owner: t}
		ti.lower[strings.ToLower(name)] = name
		ti.names = append(ti.names, name)
	}
}

// fieldByIndex walks to a (possibly embedded) field, allocating nil embedded
// pointers on the way.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

func (s *state) decode(n *yaml.Node, v reflect.Value) {
	if s.aborted {
		return
	}
	if s.budget--; s.budget < 0 {
		s.aborted = true
		s.fail(n, "document expands too much through aliases")
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			s.decode(n.Content[0], v)
		}
		return
	case yaml.AliasNode:
		if n.Alias == nil {
			s.fail(n, "unknown alias")
			return
		}
		s.decode(n.Alias, v)
		return
	case 0:
		return
	}
	if isNull(n) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			v.SetZero()
		case reflect.Struct:
			// An empty list item is still somewhere: later checks of it
			// need a position.
			if ti := s.d.info(v.Type()); ti.kind == kindStruct && ti.pos != nil {
				fieldByIndex(v, ti.pos).Set(reflect.ValueOf(Pos{File: s.file, Line: n.Line, Column: n.Column}))
			}
		}
		return
	}
	if v.Kind() == reflect.Pointer {
		if !v.IsNil() {
			s.decode(n, v.Elem())
			return
		}
		// A scalar behind a pointer is set only when it decoded cleanly, so
		// that an invalid value does not also trip checks on a zero value
		// later. Structures are kept with what did decode.
		before := len(s.errs.List)
		p := reflect.New(v.Type().Elem())
		s.decode(n, p.Elem())
		switch p.Elem().Kind() {
		case reflect.Struct, reflect.Map, reflect.Slice, reflect.Interface:
			if s.d.info(p.Elem().Type()).kind == kindStruct || p.Elem().Kind() != reflect.Struct {
				v.Set(p)
				return
			}
		}
		if len(s.errs.List) == before {
			v.Set(p)
		}
		return
	}
	ti := s.d.info(v.Type())
	switch ti.kind {
	case kindNodeDecoder:
		sub := func(n *yaml.Node, out any) {
			if rv := reflect.ValueOf(out); rv.Kind() == reflect.Pointer && !rv.IsNil() {
				s.decode(n, rv.Elem())
			}
		}
		if err := v.Addr().Interface().(NodeDecoder).DecodeYAMLNode(n, sub); err != nil {
			s.fail(n, "%s", err.Error())
		}
		return
	case kindNodeUnmarshaler:
		if err := v.Addr().Interface().(NodeUnmarshaler).UnmarshalYAMLNode(n); err != nil {
			s.fail(n, "%s", err.Error())
		}
		return
	case kindJSONUnmarshaler:
		var buf bytes.Buffer
		if err := s.toJSON(&buf, n); err != nil {
			s.fail(n, "%s", err.Error())
			return
		}
		if err := v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(buf.Bytes()); err != nil {
			s.fail(n, "%s", cleanJSONError(err))
		}
		return
	case kindStruct:
		s.decodeStruct(n, v, ti)
		return
	}
	switch v.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			s.fail(n, "expected a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, ok := parseBool(n)
		if !ok {
			s.fail(n, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := parseInt(n, v.Type().Bits())
		if err != nil {
			s.fail(n, "%s", err.Error())
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, err := parseInt(n, 64)
		if err != nil || i < 0 || v.OverflowUint(uint64(i)) {
			s.fail(n, "expected a non-negative integer, got %s", describe(n))
			return
		}
		v.SetUint(uint64(i))
	case reflect.Float32, reflect.Float64:
		f, err := parseFloat(n)
		if err != nil {
			s.fail(n, "%s", err.Error())
			return
		}
		v.SetFloat(f)
	case reflect.Slice:
		s.decodeSlice(n, v)
	case reflect.Map:
		s.decodeMap(n, v)
	case reflect.Interface:
		if v.NumMethod() != 0 {
			s.fail(n, "cannot decode into %s", v.Type())
			return
		}
		v.Set(reflect.ValueOf(s.generic(n)))
	default:
		s.fail(n, "cannot decode into %s", v.Type())
	}
}

func (s *state) decodeSlice(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		s.fail(n, "expected a list, got %s", describe(n))
		return
	}
	sl := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		s.decode(c, sl.Index(i))
	}
	v.Set(sl)
}

func (s *state) decodeMap(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		s.fail(n, "expected a mapping, got %s", describe(n))
		return
	}
	t := v.Type()
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(t, len(n.Content)/2))
	}
	kt, et := t.Key(), t.Elem()
	s.eachPair(n, func(k, val *yaml.Node) {
		key := reflect.New(kt).Elem()
		switch kt.Kind() {
		case reflect.String:
			if k.Kind != yaml.ScalarNode {
				s.fail(k, "expected a string key, got %s", describe(k))
				return
			}
			key.SetString(k.Value)
		default:
			s.decode(k, key)
		}
		elem := reflect.New(et).Elem()
		if existing := v.MapIndex(key); existing.IsValid() {
			elem.Set(existing)
		}
		s.decode(val, elem)
		v.SetMapIndex(key, elem)
	})
}

func (s *state) decodeStruct(n *yaml.Node, v reflect.Value, ti *typeInfo) {
	if ti.pos != nil {
		fieldByIndex(v, ti.pos).Set(reflect.ValueOf(Pos{File: s.file, Line: n.Line, Column: n.Column}))
	}
	if n.Kind != yaml.MappingNode {
		s.fail(n, "expected a mapping, got %s", describe(n))
		return
	}
	s.eachPair(n, func(k, val *yaml.Node) {
		if k.Kind != yaml.ScalarNode {
			s.fail(k, "expected a field name, got %s", describe(k))
			return
		}
		f, ok := ti.fields[k.Value]
		if !ok {
			// encoding/json, and so Prow, match field names regardless of
			// case; accept that, but say so.
			if exact, found := ti.lower[strings.ToLower(k.Value)]; found {
				s.warn(k, "field-case", "field %q should be spelled %q (accepted, as Prow does)", k.Value, exact)
				f = ti.fields[exact]
			} else if ti.lenient {
				s.warn(k, "unknown-field", "unknown field %q is ignored, as Prow does%s", k.Value, suggest(k.Value, ti))
				return
			} else {
				s.fail(k, "unknown field %q%s", k.Value, suggest(k.Value, ti))
				return
			}
		}
		fv := fieldByIndex(v, f.index)
		s.decode(val, fv)
		if f.watch && setsSomething(fv) {
			s.d.seen(f.owner, f.name, Pos{File: s.file, Line: k.Line, Column: k.Column})
		}
	})
}

// eachPair calls fn once for every key of a mapping with the value the key
// takes, the way Prow's decoder resolves them: a key given twice takes its
// last value (with a warning), and keys merged in with "<<" apply unless the
// mapping sets them itself, the first merged mapping winning.
func (s *state) eachPair(n *yaml.Node, fn func(k, v *yaml.Node)) {
	c := n.Content
	merges, dups := false, false
	var seen map[string]int
	if len(c) > 16 {
		seen = make(map[string]int, len(c)/2)
	}
	for i := 0; i+1 < len(c); i += 2 {
		k := c[i]
		if k.Kind != yaml.ScalarNode {
			continue
		}
		if k.Tag == "!!merge" {
			merges = true
			continue
		}
		first := -1
		if seen != nil {
			if j, ok := seen[k.Value]; ok {
				first = j
			}
			seen[k.Value] = i
		} else {
			for j := 0; j < i; j += 2 {
				if c[j].Kind == yaml.ScalarNode && c[j].Tag != "!!merge" && c[j].Value == k.Value {
					first = j
					break
				}
			}
		}
		if first >= 0 {
			dups = true
			s.warn(k, "duplicate-key",
				"key %q is given twice in this mapping (first on line %d): this later value wins, as in Prow", k.Value, c[first].Line)
		}
	}
	if !merges && !dups {
		for i := 0; i+1 < len(c); i += 2 {
			fn(c[i], c[i+1])
		}
		return
	}
	for _, p := range s.pairs(n, map[string]bool{}, nil, 0) {
		fn(p.k, p.v)
	}
}

type pair struct{ k, v *yaml.Node }

// pairs lists the effective keys of mapping n that given does not hold yet:
// its own (the last of duplicates), then those of the mappings it merges
// in.
func (s *state) pairs(n *yaml.Node, given map[string]bool, out []pair, depth int) []pair {
	c := n.Content
	last := map[string]int{}
	for i := 0; i+1 < len(c); i += 2 {
		if k := c[i]; k.Kind == yaml.ScalarNode && k.Tag != "!!merge" {
			last[k.Value] = i
		}
	}
	for i := 0; i+1 < len(c); i += 2 {
		k := c[i]
		if k.Kind == yaml.ScalarNode {
			if k.Tag == "!!merge" || last[k.Value] != i || given[k.Value] {
				continue
			}
			given[k.Value] = true
		}
		out = append(out, pair{k, c[i+1]})
	}
	for i := 0; i+1 < len(c); i += 2 {
		if k := c[i]; k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			out = s.merged(c[i+1], given, out, depth)
		}
	}
	return out
}

// merged adds the pairs of what a merge key names: a mapping, or a list of
// them of which the first to set a key wins.
func (s *state) merged(n *yaml.Node, given map[string]bool, out []pair, depth int) []pair {
	if depth > 32 {
		s.fail(n, "merge keys nested too deeply")
		return out
	}
	if s.budget--; s.budget < 0 {
		if !s.aborted {
			s.aborted = true
			s.fail(n, "document expands too much through aliases")
		}
		return out
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias != nil {
			return s.merged(n.Alias, given, out, depth+1)
		}
	case yaml.MappingNode:
		return s.pairs(n, given, out, depth+1)
	case yaml.SequenceNode:
		for _, c := range n.Content {
			out = s.merged(c, given, out, depth+1)
		}
	default:
		s.fail(n, "a merge key (<<) needs a mapping, got %s", describe(n))
	}
	return out
}

// generic decodes a node into plain Go values, for fields typed any.
func (s *state) generic(n *yaml.Node) any {
	if s.budget--; s.budget < 0 || s.aborted {
		if !s.aborted {
			s.aborted = true
			s.fail(n, "document expands too much through aliases")
		}
		return nil
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil
		}
		return s.generic(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		s.eachPair(n, func(k, v *yaml.Node) { m[k.Value] = s.generic(v) })
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			l[i] = s.generic(c)
		}
		return l
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool":
			b, _ := parseBool(n)
			return b
		case "!!int":
			if i, err := parseInt(n, 64); err == nil {
				return i
			}
		case "!!float":
			if f, err := parseFloat(n); err == nil {
				return f
			}
		}
		return n.Value
	}
	return nil
}

// setsSomething reports whether a decoded value holds anything beyond
// positions: "deck: {}" or "retry: null" set nothing.
func setsSomething(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && setsSomething(v.Elem())
	case reflect.Map, reflect.Slice:
		return v.Len() > 0
	case reflect.Struct:
		if v.Type() == posType {
			return false
		}
		for i := range v.NumField() {
			if setsSomething(v.Field(i)) {
				return true
			}
		}
		return false
	}
	return !v.IsZero()
}
