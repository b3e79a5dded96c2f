package yamlpos

import (
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Path leads from a mapping (the position a Pos field records) to a value
// inside it: keys and list indexes. Checks that run after decoding use it
// to point at the offending value itself rather than at the job or section
// it belongs to, without the decoder keeping a position for every value.
// The zero Path leads to the mapping itself.
type Path string

// Segment separators: keys, indexes and key nodes are told apart by the
// byte that starts them.
const (
	segKey   = '\x1f'
	segIndex = '\x1e'
	segName  = '\x1d'
)

// At is the path through the given keys.
func At(keys ...string) Path {
	var p Path
	for _, k := range keys {
		p = p.Key(k)
	}
	return p
}

// Key leads to the value of a key of the mapping p leads to.
func (p Path) Key(k string) Path { return p + Path(segKey) + Path(k) }

// Index leads to an item of the list p leads to.
func (p Path) Index(i int) Path { return p + Path(segIndex) + Path(strconv.Itoa(i)) }

// Name leads to a key itself rather than its value, for problems with the
// key (an invalid label name, say).
func (p Path) Name(k string) Path { return p + Path(segName) + Path(k) }

// Resolve moves every problem added with a path to the exact line and
// column of the value the path leads to, reading each file concerned once
// with read. Where the path leads nowhere (a value that came from a default
// rather than from the file), the problem stays at the deepest value found
// on the way. Call it before Sort or Err.
func (e *Errors) Resolve(read func(file string) ([]byte, bool)) {
	trees := map[string]*posIndex{}
	resolve := func(list []Error) {
		for i := range list {
			x := &list[i]
			if x.at == "" || x.File == "" {
				x.at = ""
				continue
			}
			idx, ok := trees[x.File]
			if !ok {
				if data, found := read(x.File); found {
					if root, err := Parse(x.File, data); err == nil {
						idx = newPosIndex(root)
					}
				}
				trees[x.File] = idx
			}
			if idx != nil {
				if n := idx.follow(x.Line, x.Column, x.at); n != nil {
					x.Line, x.Column = n.Line, n.Column
				}
			}
			x.at = ""
		}
	}
	resolve(e.List)
	resolve(e.Warnings)
}

// posIndex finds a file's nodes by position.
type posIndex struct {
	at map[[2]int]*yaml.Node
}

func newPosIndex(root *yaml.Node) *posIndex {
	idx := &posIndex{at: map[[2]int]*yaml.Node{}}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		k := [2]int{n.Line, n.Column}
		// A mapping starts where its first key does, and a list item where
		// the item does: keep the collection.
		if prev, ok := idx.at[k]; !ok || rank(n) > rank(prev) {
			idx.at[k] = n
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)
	return idx
}

func rank(n *yaml.Node) int {
	switch n.Kind {
	case yaml.MappingNode:
		return 3
	case yaml.SequenceNode:
		return 2
	case yaml.ScalarNode:
		return 1
	}
	return 0
}

// follow walks path from the node at line and column and returns the node
// reached, or the deepest one on the way; nil when no node is there.
func (idx *posIndex) follow(line, col int, path Path) *yaml.Node {
	n := idx.at[[2]int{line, col}]
	if n == nil {
		return nil
	}
	rest := string(path)
	for rest != "" {
		kind := rest[0]
		rest = rest[1:]
		end := strings.IndexAny(rest, "\x1f\x1e\x1d")
		seg := rest
		if end >= 0 {
			seg, rest = rest[:end], rest[end:]
		} else {
			rest = ""
		}
		var next *yaml.Node
		// A merge key may name mappings that merge others in turn: the
		// search is bounded as decoding is.
		visits := maxLookupVisits
		switch kind {
		case segKey:
			_, next = lookup(deref(n), seg, 0, &visits)
		case segName:
			next, _ = lookup(deref(n), seg, 0, &visits)
		case segIndex:
			i, _ := strconv.Atoi(seg)
			if m := deref(n); m.Kind == yaml.SequenceNode && i < len(m.Content) {
				next = m.Content[i]
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
	return deref(n)
}

// maxLookupVisits bounds the mappings one step of a path may search.
const maxLookupVisits = 10000

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 32; i++ {
		n = n.Alias
	}
	return n
}

// lookup finds a key of a mapping and its value the way the decoder
// applies them: the mapping's own keys (the last of duplicates), then
// those merged in with "<<" (the first merged mapping that has it).
func lookup(m *yaml.Node, key string, depth int, visits *int) (k, v *yaml.Node) {
	if *visits--; m.Kind != yaml.MappingNode || depth > 32 || *visits < 0 {
		return nil, nil
	}
	c := m.Content
	for i := len(c) - 2; i >= 0; i -= 2 {
		if c[i].Kind == yaml.ScalarNode && c[i].Tag != "!!merge" && c[i].Value == key {
			return c[i], c[i+1]
		}
	}
	for i := 0; i+1 < len(c); i += 2 {
		if c[i].Kind != yaml.ScalarNode || c[i].Tag != "!!merge" {
			continue
		}
		src := deref(c[i+1])
		list := []*yaml.Node{src}
		if src.Kind == yaml.SequenceNode {
			list = src.Content
		}
		for _, s := range list {
			if k, v := lookup(deref(s), key, depth+1, visits); k != nil {
				return k, v
			}
		}
	}
	return nil, nil
}
