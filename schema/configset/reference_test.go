package configset

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/labels"
	"github.com/bowline-ci/bowline/schema/orgs"
	"github.com/bowline-ci/bowline/schema/plugins"
	"github.com/bowline-ci/bowline/schema/prowconfig"
)

// fieldReference is docs/config/fields.md: every field the loader accepts,
// generated from the types that strict loading decodes into.
const fieldReference = "../../docs/config/fields.md"

// TestFieldReferenceIsCurrent fails when docs/config/fields.md differs from
// the types; UPDATE=1 rewrites it.
func TestFieldReferenceIsCurrent(t *testing.T) {
	var buf bytes.Buffer
	buf.WriteString("# Every configuration field\n\n")
	buf.WriteString("Each field bowline's strict loader accepts, with its YAML type, generated from the types it\n")
	buf.WriteString("decodes into; regenerate with `UPDATE=1 go test ./schema/configset -run TestFieldReferenceIsCurrent`.\n")
	buf.WriteString("A field not listed here is an error. What the fields mean is in the other pages of\n")
	buf.WriteString("[docs/config](.). `<key>` stands for a map key (an org, `org/repo`, a name); `[]` for a list\n")
	buf.WriteString("item. Kubernetes' own types (a job's `spec`, volumes, resources) are listed by name; every field\n")
	buf.WriteString("of theirs is accepted and checked as the API server would.\n\n")
	buf.WriteString("A field marked *(not supported yet)* is read but nothing in bowline acts on it yet;\n")
	buf.WriteString("`bowline check` warns where a configuration first sets it (warning code `not-supported`,\n")
	buf.WriteString("see [docs/check.md](../check.md#warnings)). What is below a marked field is not supported either.\n")
	files := []struct {
		title string
		typ   reflect.Type
	}{
		{"config.yaml", reflect.TypeFor[prowconfig.Config]()},
		{"Job config (`*.yaml` under the job config directory)", reflect.TypeFor[jobs.Config]()},
		{"plugins.yaml", reflect.TypeFor[plugins.Config]()},
		{"Org config (peribolos `org.yaml`; `teams.yaml` holds `teams`)", reflect.TypeFor[orgs.Org]()},
		{"labels.yaml", reflect.TypeFor[labels.Config]()},
	}
	for _, f := range files {
		fmt.Fprintf(&buf, "\n## %s\n\n```\n", f.title)
		walkFields(&buf, "", f.typ, map[reflect.Type]bool{})
		buf.WriteString("```\n")
	}
	buf.WriteString("\n## Not supported yet, besides fields\n\n")
	buf.WriteString("Plugins that `plugins.yaml` may enable but bowline does not run yet (enabling one is a warning):\n")
	buf.WriteString(strings.Join(quoted(unsupportedPlugins), ", ") + ".\n\n")
	buf.WriteString("Job agents bowline accepts but has no controller for, `jenkins` and `tekton-pipeline`, are\n")
	buf.WriteString("warned about by the job checks (code `unsupported-agent`).\n")
	got := buf.Bytes()
	if os.Getenv("UPDATE") != "" {
		if err := os.WriteFile(fieldReference, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(fieldReference)
	if err != nil {
		t.Fatalf("%v: run with UPDATE=1 to create it", err)
	}
	if !bytes.Equal(got, want) {
		t.Error("docs/config/fields.md is stale: run UPDATE=1 go test ./schema/configset -run TestFieldReferenceIsCurrent")
	}
}

// walkFields writes one line per field of struct type t, recursing into
// bowline's own types; seen stops recursion into a type already open.
func walkFields(buf *bytes.Buffer, prefix string, t reflect.Type, seen map[reflect.Type]bool) {
	t = deref(t)
	if t.Kind() != reflect.Struct || seen[t] {
		return
	}
	seen[t] = true
	defer delete(seen, t)
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" && (f.Anonymous || strings.Contains(opts, "inline")) {
			walkFields(buf, prefix, f.Type, seen)
			continue
		}
		if name == "" {
			name = f.Name
		}
		path := prefix + name
		mark := ""
		if _, ok := notSupportedField(t, name); ok {
			mark = " (not supported yet)"
		}
		fmt.Fprintf(buf, "%s: %s%s\n", path, typeName(f.Type), mark)
		walkInto(buf, path, f.Type, seen)
	}
}

// walkInto recurses into the element types of maps and slices and into
// structs of bowline's own packages.
func walkInto(buf *bytes.Buffer, path string, t reflect.Type, seen map[reflect.Type]bool) {
	t = deref(t)
	switch t.Kind() {
	case reflect.Map:
		walkInto(buf, path+".<key>", t.Elem(), seen)
	case reflect.Slice:
		walkInto(buf, path+"[]", t.Elem(), seen)
	case reflect.Struct:
		if strings.HasPrefix(t.PkgPath(), "github.com/bowline-ci/bowline/") {
			walkFields(buf, path+".", t, seen)
		}
	}
}

// typeName is a field's type as a YAML author sees it.
func typeName(t reflect.Type) string {
	t = deref(t)
	if d, ok := reflect.New(t).Elem().Interface().(interface{ YAMLType() string }); ok {
		return d.YAMLType()
	}
	switch t.Kind() {
	case reflect.Map:
		return "map of " + typeName(t.Elem())
	case reflect.Slice:
		return "list of " + typeName(t.Elem())
	case reflect.Struct:
		switch t.Name() {
		case "Duration":
			return "duration"
		case "Quantity":
			return "quantity"
		}
		if !strings.HasPrefix(t.PkgPath(), "github.com/bowline-ci/bowline/") {
			return "Kubernetes " + t.Name()
		}
		return "object"
	case reflect.Interface:
		return "any"
	case reflect.Bool:
		return "bool"
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	return t.Kind().String()
}

func quoted(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = "`" + s + "`"
	}
	return out
}
