package bootstrap

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// Change is what applying one object did.
type Change struct {
	// Object is "Kind namespace/name" or "Kind name".
	Object string
	// Action is created, configured or unchanged.
	Action string
}

// Apply server-side applies objs in order and reports what changed. An
// object whose resourceVersion did not move is unchanged.
func Apply(ctx context.Context, c client.Client, objs []client.Object) ([]Change, error) {
	changes := make([]Change, 0, len(objs))
	for _, o := range objs {
		u, err := toUnstructured(o)
		if err != nil {
			return changes, err
		}
		id := describe(u)
		before := &unstructured.Unstructured{}
		before.SetGroupVersionKind(u.GroupVersionKind())
		existed := c.Get(ctx, client.ObjectKeyFromObject(u), before) == nil
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return changes, fmt.Errorf("apply %s: %w", id, err)
		}
		action := "created"
		if existed {
			action = "configured"
			after := &unstructured.Unstructured{}
			after.SetGroupVersionKind(u.GroupVersionKind())
			if err := c.Get(ctx, client.ObjectKeyFromObject(u), after); err == nil && after.GetResourceVersion() == before.GetResourceVersion() {
				action = "unchanged"
			}
		}
		changes = append(changes, Change{Object: id, Action: action})
	}
	return changes, nil
}

// WriteYAML prints objs as one multi-document YAML stream, for --dry-run.
func WriteYAML(w io.Writer, objs []client.Object) error {
	var buf bytes.Buffer
	for i, o := range objs {
		u, err := toUnstructured(o)
		if err != nil {
			return err
		}
		b, err := yaml.Marshal(u.Object)
		if err != nil {
			return err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(b)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func toUnstructured(o client.Object) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, fmt.Errorf("convert %T: %w", o, err)
	}
	u := &unstructured.Unstructured{Object: m}
	// Server-side apply must not carry server-owned fields.
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	if tmpl, ok, _ := unstructured.NestedMap(u.Object, "spec", "template", "metadata"); ok {
		delete(tmpl, "creationTimestamp")
		_ = unstructured.SetNestedMap(u.Object, tmpl, "spec", "template", "metadata")
	}
	return u, nil
}

func describe(u *unstructured.Unstructured) string {
	if ns := u.GetNamespace(); ns != "" {
		return fmt.Sprintf("%s %s/%s", u.GetKind(), ns, u.GetName())
	}
	return fmt.Sprintf("%s %s", u.GetKind(), u.GetName())
}
