package size

import "testing"

func TestGeneratedMatch(t *testing.T) {
	g := newGenerated()
	from := g.parse([]byte(`# generated code
file-prefix zz_generated.
file-name   generated.pb.go
path-prefix vendor/
prefix      third_party/
path        api/openapi.json
paths-from-repo hack/generated.txt
not a statement
unknown-key value
`))
	if len(from) != 1 || from[0] != "hack/generated.txt" {
		t.Fatalf("paths-from-repo = %q", from)
	}
	if len(g.Invalid) != 2 {
		t.Errorf("invalid lines = %q, want 2", g.Invalid)
	}
	g.parsePaths([]byte("# listed\npkg/listed.go\n\n"))
	g.parseAttributes([]byte(`*.gen.go linguist-generated=true
docs/** linguist-generated
docs/handwritten.md -linguist-generated
*.txt linguist-generated=false
`))
	tests := []struct {
		file string
		want bool
	}{
		{"pkg/zz_generated.deepcopy.go", true},
		{"zz_generated.go", true},
		{"pkg/a_zz_generated.go", false},
		{"api/generated.pb.go", true},
		{"api/generated.pb.go.orig", false},
		{"vendor/x/y.go", true},
		{"pkg/vendor/y.go", false},
		{"third_party/z.go", true},
		{"api/openapi.json", true},
		{"other/openapi.json", false},
		{"pkg/listed.go", true},
		{"pkg/types.gen.go", true},
		{"docs/guide.md", true},
		{"docs/handwritten.md", false},
		{"notes.txt", false},
		{"main.go", false},
	}
	for _, tc := range tests {
		if got := g.Match(tc.file); got != tc.want {
			t.Errorf("Match(%q) = %v, want %v", tc.file, got, tc.want)
		}
	}
}
