package yamlpos

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

type inner struct {
	Value string `json:"value"`
	Count *int   `json:"count,omitempty"`
}

type embedded struct {
	Shared string `json:"shared,omitempty"`
}

type sample struct {
	embedded `json:",inline"`
	Name     string            `json:"name"`
	Enabled  bool              `json:"enabled,omitempty"`
	Size     int32             `json:"size,omitempty"`
	Ratio    float64           `json:"ratio,omitempty"`
	Tags     []string          `json:"tags,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Inner    *inner            `json:"inner,omitempty"`
	Items    []inner           `json:"items,omitempty"`
	Free     any               `json:"free,omitempty"`
	Skipped  string            `json:"-"`
	Pos      Pos               `json:"-"`
}

func ptr[T any](v T) *T { return &v }

func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		want     sample
		wantErrs []string
		wantWarn []string
	}{
		{
			name: "every kind of field",
			yaml: `
name: job
shared: from-inline
enabled: true
size: 0x10
ratio: 1.5
tags: [a, b]
labels: {x: "1"}
inner: {value: v, count: 3}
items:
- value: one
free: {a: [1, true, null, x]}
`,
			want: sample{
				embedded: embedded{Shared: "from-inline"}, Name: "job", Enabled: true, Size: 16, Ratio: 1.5,
				Tags: []string{"a", "b"}, Labels: map[string]string{"x": "1"},
				Inner: &inner{Value: "v", Count: ptr(3)}, Items: []inner{{Value: "one"}},
				Free: map[string]any{"a": []any{int64(1), true, nil, "x"}},
				Pos:  Pos{File: "f.yaml", Line: 2, Column: 1},
			},
		},
		{
			name: "scalars of any type decode into strings, as in Prow",
			yaml: "name: 123\ntags: [true, 1.5]\n",
			want: sample{Name: "123", Tags: []string{"true", "1.5"}, Pos: Pos{File: "f.yaml", Line: 1, Column: 1}},
		},
		{
			name:     "unknown field with a suggestion",
			yaml:     "name: x\nenabeld: true\nbogus: 1\n",
			want:     sample{Name: "x", Pos: Pos{File: "f.yaml", Line: 1, Column: 1}},
			wantErrs: []string{`f.yaml:2:1: unknown field "enabeld", did you mean "enabled"?`, `f.yaml:3:1: unknown field "bogus"`},
		},
		{
			name:     "fields of json:\"-\" are unknown",
			yaml:     "Skipped: x\n",
			want:     sample{Pos: Pos{File: "f.yaml", Line: 1, Column: 1}},
			wantErrs: []string{`f.yaml:1:1: unknown field "Skipped"`},
		},
		{
			name: "wrong types, all reported",
			yaml: "name: {a: 1}\nenabled: maybe\nsize: big\ntags: one\nlabels: [x]\ninner: 3\nratio: x\n",
			want: sample{Inner: &inner{}, Pos: Pos{File: "f.yaml", Line: 1, Column: 1}},
			wantErrs: []string{
				`f.yaml:1:7: expected a string, got a mapping`,
				`f.yaml:2:10: expected true or false, got "maybe"`,
				`f.yaml:3:7: expected an integer, got "big"`,
				`f.yaml:4:7: expected a list, got "one"`,
				`f.yaml:5:9: expected a mapping, got a list`,
				`f.yaml:6:8: expected a mapping, got "3"`,
				`f.yaml:7:8: expected a number, got "x"`,
			},
		},
		{
			name:     "integer overflow",
			yaml:     "size: 99999999999\n",
			want:     sample{Pos: Pos{File: "f.yaml", Line: 1, Column: 1}},
			wantErrs: []string{`f.yaml:1:7: integer "99999999999" out of range`},
		},
		{
			name: "duplicate keys: the last value wins, with a warning",
			yaml: "name: a\ninner: {value: x, count: 1}\nname: b\ninner: {value: y}\n",
			want: sample{Name: "b", Inner: &inner{Value: "y"}, Pos: Pos{File: "f.yaml", Line: 1, Column: 1}},
			wantWarn: []string{
				`f.yaml:3:1: key "name" is given twice in this mapping (first on line 1): this later value wins, as in Prow`,
				`f.yaml:4:1: key "inner" is given twice in this mapping (first on line 2): this later value wins, as in Prow`,
			},
		},
		{
			name: "duplicate keys in a large mapping",
			yaml: "labels:\n" + func() string {
				var b strings.Builder
				for i := range 20 {
					fmt.Fprintf(&b, "  k%d: v\n", i)
				}
				return b.String()
			}() + "  k3: last\n",
			want: sample{Labels: func() map[string]string {
				m := map[string]string{}
				for i := range 20 {
					m[fmt.Sprintf("k%d", i)] = "v"
				}
				m["k3"] = "last"
				return m
			}(), Pos: Pos{File: "f.yaml", Line: 1, Column: 1}},
			wantWarn: []string{`f.yaml:22:3: key "k3" is given twice in this mapping (first on line 5): this later value wins, as in Prow`},
		},
		{
			name: "a merge key's value is replaced whole by the mapping's own",
			yaml: "free: &base {value: v, count: 2}\ninner:\n  <<: *base\n  value: own\nitems:\n- <<: [{value: first}, {value: second, count: 3}]\n",
			want: sample{
				Free:  map[string]any{"value": "v", "count": int64(2)},
				Inner: &inner{Value: "own", Count: ptr(2)},
				Items: []inner{{Value: "first", Count: ptr(3)}},
				Pos:   Pos{File: "f.yaml", Line: 1, Column: 1},
			},
		},
		{
			name: "anchors, aliases and merge keys",
			yaml: "free: &base {value: v, count: 2}\ninner:\n  <<: *base\n  value: own\nitems: [*base]\n",
			want: sample{
				Free:  map[string]any{"value": "v", "count": int64(2)},
				Inner: &inner{Value: "own", Count: ptr(2)}, Items: []inner{{Value: "v", Count: ptr(2)}},
				Pos: Pos{File: "f.yaml", Line: 1, Column: 1},
			},
		},
		{
			name:     "case-insensitive match is a warning",
			yaml:     "Name: x\n",
			want:     sample{Name: "x", Pos: Pos{File: "f.yaml", Line: 1, Column: 1}},
			wantWarn: []string{`f.yaml:1:1: field "Name" should be spelled "name" (accepted, as Prow does)`},
		},
		{
			name:     "syntax error",
			yaml:     "name: [unclosed\n",
			wantErrs: []string{`f.yaml:1:7: invalid YAML: sequence end token ']' not found, in "name: [unclosed"`},
		},
		{
			name: "empty document",
			yaml: "# only a comment\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got sample
			var errs Errors
			NewDecoder().Decode("f.yaml", []byte(tt.yaml), &got, &errs)
			errs.Sort()
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(sample{})); diff != "" {
				t.Errorf("value mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErrs, strs(errs.List)); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWarn, strs(errs.Warnings)); diff != "" {
				t.Errorf("warnings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func strs(list []Error) []string {
	var out []string
	for _, e := range list {
		out = append(out, e.String())
	}
	return out
}

func TestDecodeKubernetesTypes(t *testing.T) {
	type job struct {
		Spec *corev1.PodSpec    `json:"spec"`
		Port intstr.IntOrString `json:"port"`
	}
	tests := []struct {
		name     string
		yaml     string
		check    func(t *testing.T, j job)
		wantErrs []string
	}{
		{
			name: "pod spec with quantities",
			yaml: `
spec:
  containers:
  - image: golang
    command: [make]
    resources:
      requests: {cpu: 2, memory: 4Gi}
    securityContext: {privileged: true}
port: http
`,
			check: func(t *testing.T, j job) {
				c := j.Spec.Containers[0]
				if !c.Resources.Requests.Cpu().Equal(resource.MustParse("2")) || !c.Resources.Requests.Memory().Equal(resource.MustParse("4Gi")) {
					t.Errorf("requests = %v", c.Resources.Requests)
				}
				if c.SecurityContext == nil || !*c.SecurityContext.Privileged || j.Port.StrVal != "http" {
					t.Errorf("decoded %+v, port %v", c, j.Port)
				}
			},
		},
		{
			name:     "unknown field in a container",
			yaml:     "spec:\n  containers:\n  - image: x\n    imagee: y\n",
			wantErrs: []string{`f.yaml:4:5: unknown field "imagee", did you mean "image"?`},
		},
		{
			name:     "invalid quantity",
			yaml:     "spec:\n  containers:\n  - resources: {limits: {cpu: lots}}\n",
			wantErrs: []string{`f.yaml:3:31: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got job
			var errs Errors
			NewDecoder().Decode("f.yaml", []byte(tt.yaml), &got, &errs)
			if diff := cmp.Diff(tt.wantErrs, strs(errs.List)); diff != "" {
				t.Fatalf("errors mismatch (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

func TestDecodeAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 12; i++ {
		b.WriteString("a" + string(rune('a'+i)) + ": &a" + string(rune('a'+i)) + " [")
		prev := "a0"
		if i > 1 {
			prev = "a" + string(rune('a'+i-1))
		}
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*" + prev)
		}
		b.WriteString("]\n")
	}
	var out map[string]any
	var errs Errors
	NewDecoder().Decode("bomb.yaml", []byte(b.String()), &out, &errs)
	if errs.Len() == 0 || !strings.Contains(errs.List[0].Message, "expands too much") {
		t.Fatalf("errors = %v, want the expansion to be refused", errs.List)
	}
}

func TestErrors(t *testing.T) {
	var errs Errors
	errs.Add("b.yaml", 2, 1, "second")
	errs.Add("a.yaml", 10, 3, "third")
	errs.Add("a.yaml", 9, 5, "first %d", 1)
	errs.Add("a.yaml", 0, 0, "whole file")
	errs.Add("a.yaml", 9, 5, "first 1")
	err := errs.Err()
	var target *Errors
	if !errors.As(err, &target) {
		t.Fatalf("errors.As(%T) failed", err)
	}
	want := "a.yaml: whole file\na.yaml:9:5: first 1\na.yaml:10:3: third\nb.yaml:2:1: second"
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("Error() mismatch (-want +got):\n%s", diff)
	}
	if got := strs(target.First(2)); !cmp.Equal(got, []string{"a.yaml: whole file", "a.yaml:9:5: first 1"}) {
		t.Errorf("First(2) = %q", got)
	}
	if got, want := target.Summary(1), "a.yaml: whole file\n… and 3 more"; got != want {
		t.Errorf("Summary(1) = %q, want %q", got, want)
	}
	var none Errors
	if none.Err() != nil {
		t.Error("Err() of no errors is not nil")
	}
}
