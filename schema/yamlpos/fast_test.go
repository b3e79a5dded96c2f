package yamlpos

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

// sameTree reports the first difference between a node tree from
// parseFast and yaml.v3's, or "".
func sameTree(path string, a, b *yaml.Node) string {
	if a.Kind != b.Kind || a.Value != b.Value || a.ShortTag() != b.ShortTag() || a.Line != b.Line || a.Column != b.Column ||
		len(a.Content) != len(b.Content) || styleOf(a) != styleOf(b) {
		return fmt.Sprintf("%s: fast {kind %d tag %s value %q at %d:%d, %d children, style %d} != yaml.v3 {kind %d tag %s value %q at %d:%d, %d children, style %d}",
			path, a.Kind, a.ShortTag(), a.Value, a.Line, a.Column, len(a.Content), styleOf(a),
			b.Kind, b.ShortTag(), b.Value, b.Line, b.Column, len(b.Content), styleOf(b))
	}
	for i := range a.Content {
		if d := sameTree(fmt.Sprintf("%s/%d", path, i), a.Content[i], b.Content[i]); d != "" {
			return d
		}
	}
	return ""
}

func styleOf(n *yaml.Node) yaml.Style {
	return n.Style & (yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle | yaml.FlowStyle)
}

// compareParsers checks that parseFast either declines or agrees with
// yaml.v3 exactly.
func compareParsers(t *testing.T, name string, data []byte) bool {
	t.Helper()
	fast, ok := parseFast(data)
	if !ok {
		return false
	}
	var want yaml.Node
	if err := yaml.Unmarshal(data, &want); err != nil {
		t.Errorf("%s: parseFast accepted what yaml.v3 rejects: %v", name, err)
		return true
	}
	if want.Kind == 0 {
		t.Errorf("%s: parseFast accepted an empty document", name)
		return true
	}
	if d := sameTree("", fast.Content[0], want.Content[0]); d != "" {
		t.Errorf("%s: %s", name, d)
	}
	return true
}

func TestParseFastMatchesYAMLv3(t *testing.T) {
	tests := map[string]string{
		"mapping":            "a: 1\nb: two # comment\nc:\n  d: [x, 'y', \"z\\n\"]\n  e: {f: g, h: }\n",
		"sequences":          "- a\n- b: c\n  d: e\n- - nested\n  - more\n-\n  k: v\n- \n",
		"same-indent list":   "key:\n- a\n- b\nother: x\n",
		"empty values":       "a:\nb: \n# c\nd: ~\n",
		"literal":            "s: |\n  line 1\n\n    indented\n  line 3\nt: x\n",
		"literal strip keep": "a: |-\n  x\n\nb: |+\n  y\n\n\nc: 1\n",
		"folded":             "f: >\n  one\n  two\n\n  three\ng: >-\n  x\n  y\n",
		"quoted keys":        "'*': a\n\"b c\": d\n",
		"document marker":    "# head\n---\na: 1\n",
		"unicode":            "é: ü\nb: \"\\u00e9 x\"\n",
		"urls in flow":       "u: {a: http://x/y, b: [https://z]}\n",
		"nested flow":        "a: [[1, 2], {b: [c]}, []]\n",
		"scalar doc":         "just a scalar\n",
		"windows newlines":   "a: 1\r\nb:\r\n- c\r\n",
	}
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			if !compareParsers(t, name, []byte(text)) {
				t.Errorf("parseFast declined %q", text)
			}
		})
	}
	declined := map[string]string{
		"anchor":          "a: &x 1\nb: *x\n",
		"tag":             "a: !!str 1\n",
		"multi-line":      "a: one\n  two\n",
		"two documents":   "a: 1\n---\nb: 2\n",
		"tab indentation": "a:\n\tb: 1\n",
		"bad indentation": "a:\n  b: 1\n c: 2\n",
		"complex key":     "? a\n: b\n",
		"empty":           "# nothing\n",
		"unclosed flow":   "a: [b\n",
	}
	for name, text := range declined {
		t.Run("declines "+name, func(t *testing.T) {
			if _, ok := parseFast([]byte(text)); ok {
				t.Errorf("parseFast accepted %q", text)
			}
		})
	}
}

// TestParseFastRealFiles compares both parsers on every YAML file of the
// test data and checks that the fast one handles nearly all of them.
func TestParseFastRealFiles(t *testing.T) {
	root := "../../test/testdata"
	var total, fast int
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") || d.Name() == "OWNERS") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		total++
		if compareParsers(t, p, data) {
			fast++
		} else if testing.Verbose() {
			t.Logf("declined: %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total == 0 || fast*100 < total*95 {
		t.Errorf("parseFast handled %d of %d files, want at least 95%%", fast, total)
	}
	t.Logf("parseFast handled %d of %d files", fast, total)
}

func FuzzParseFast(f *testing.F) {
	f.Add([]byte("a: 1\nb:\n- c: d\n  e: [f, {g: h}]\nlit: |\n  x\n"))
	f.Add([]byte("- - a\n  - b\n-\n  c: 'd''e'\n"))
	f.Add([]byte("k: >-\n  folded\n  text\n\n  more\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		compareParsers(t, "input", data)
	})
}
