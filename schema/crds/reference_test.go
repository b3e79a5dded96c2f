package crds

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// reference is docs/resources.md: every field of bowline's custom
// resources, generated from the CRDs (and so from the Go types' comments).
const reference = "../../docs/resources.md"

// TestResourceReferenceIsCurrent fails when docs/resources.md differs from
// what the CRDs say; UPDATE=1 rewrites it.
func TestResourceReferenceIsCurrent(t *testing.T) {
	defs, err := All()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.WriteString("# Resource reference\n\n")
	buf.WriteString("Every field of bowline's custom resources (group `bowline.dev`, version `v1alpha1`),\n")
	buf.WriteString("generated from the CRDs; regenerate with `UPDATE=1 go test ./schema/crds`.\n")
	buf.WriteString("`kubectl explain` shows the same. Fields of Kubernetes' own types (a pod spec, resource\n")
	buf.WriteString("requirements, affinity) are listed by name only; their reference is Kubernetes'.\n")
	for _, d := range defs {
		for _, v := range d.Spec.Versions {
			fmt.Fprintf(&buf, "\n## %s (%s/%s)\n\n", d.Spec.Names.Kind, d.Spec.Group, v.Name)
			s := v.Schema.OpenAPIV3Schema
			fmt.Fprintf(&buf, "%s\n\n", oneLine(s.Description))
			buf.WriteString("| field | type | description |\n|---|---|---|\n")
			for _, top := range []string{"spec", "status"} {
				if p, ok := s.Properties[top]; ok {
					writeFields(&buf, top, p, 0)
				}
			}
		}
	}
	got := buf.Bytes()
	if os.Getenv("UPDATE") != "" {
		if err := os.WriteFile(reference, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(reference)
	if err != nil {
		t.Fatalf("%v: run with UPDATE=1 to create it", err)
	}
	if !bytes.Equal(got, want) {
		t.Error("docs/resources.md is stale: run UPDATE=1 go test ./schema/crds")
	}
}

// kubernetesTypes are fields whose schema is one of Kubernetes' own types;
// their insides are Kubernetes' to document.
var kubernetesTypes = map[string]bool{
	"spec.podSpec": true, "spec.pipelineRunSpec": true,
	"spec.decorationConfig.resources.clonerefs": true, "spec.decorationConfig.resources.initupload": true,
	"spec.decorationConfig.resources.placeEntrypoint": true, "spec.decorationConfig.resources.sidecar": true,
	"spec.decorationConfig.schedulingOptions.affinity": true, "spec.decorationConfig.schedulingOptions.tolerations": true,
	"status.conditions": true,
}

func writeFields(buf *bytes.Buffer, path string, s apiextensionsv1.JSONSchemaProps, depth int) {
	typ := s.Type
	if typ == "array" && s.Items != nil && s.Items.Schema != nil {
		typ = "[]" + s.Items.Schema.Type
	}
	if typ == "" {
		typ = "object"
	}
	fmt.Fprintf(buf, "| `%s` | %s | %s |\n", path, typ, oneLine(s.Description))
	if kubernetesTypes[path] || depth > 8 {
		return
	}
	props := s.Properties
	if s.Items != nil && s.Items.Schema != nil {
		props = s.Items.Schema.Properties
		path += "[]"
	}
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		writeFields(buf, path+"."+n, props[n], depth+1)
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", "\\|")
}
