package yamlpos

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSyntaxErrorPositions: a syntax error is reported where it is, not
// where the block around it starts, and quotes the line as written.
func TestSyntaxErrorPositions(t *testing.T) {
	job := "presubmits:\n  org/repo:\n  - name: unit\n    always_run: true\n    decorate: true\n    spec:\n      containers:\n      - image: golang\n"
	tests := []struct {
		name, yaml, want string
	}{
		{
			name: "a key indented one space too little on line 16",
			yaml: job + "        command:\n        - make\n        - test\n        env:\n        - name: A\n          value: b\n        - name: C\n       value: d\n",
			want: `f.yaml:16:8: invalid YAML: value is not allowed in this context, in "value: d"`,
		},
		{
			name: "an unclosed flow list",
			yaml: job + "        command: [make, test\n        args: [x]\n",
			want: `f.yaml:10:9: invalid YAML: ',' or ']' must be specified, in "args: [x]"`,
		},
		{
			name: "an unterminated quoted string",
			yaml: "a:\n  b: 1\n  c: \"unterminated\n  d: 2\n",
			want: `f.yaml:3:6: invalid YAML: could not find end character of double-quoted text, in "c: \"unterminated"`,
		},
		{
			name: "a mapping value where none may be",
			yaml: "a:\n  b: 1\n  c: x: y\n",
			want: `f.yaml:3:6: invalid YAML: mapping value is not allowed in this context, in "c: x: y"`,
		},
		{
			name: "a tab in the indentation",
			yaml: "a:\n  b: 1\n\tc: 2\n",
			want: `f.yaml:3:1: invalid YAML: found character '\t' that cannot start any token, in "c: 2"`,
		},
		{
			name: "an unknown alias",
			yaml: "a: 1\nb: [x, *nope]\n",
			want: `f.yaml:2:8: invalid YAML: unknown anchor 'nope' referenced, in "b: [x, *nope]"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out any
			var errs Errors
			NewDecoder().Decode("f.yaml", []byte(tt.yaml), &out, &errs)
			if diff := cmp.Diff([]string{tt.want}, strs(errs.List)); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
