package bootstrap

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

// APIServerCIDRs returns the addresses the cluster's API server answers
// on, from the EndpointSlices of the default/kubernetes Service, as /32 or
// /128 CIDRs.
func APIServerCIDRs(ctx context.Context, c client.Reader) ([]string, error) {
	var slices discoveryv1.EndpointSliceList
	if err := c.List(ctx, &slices, client.InNamespace(metav1.NamespaceDefault), client.MatchingLabels{discoveryv1.LabelServiceName: "kubernetes"}); err != nil {
		return nil, fmt.Errorf("find the API server's addresses: %w", err)
	}
	var out []string
	for _, s := range slices.Items {
		for _, e := range s.Endpoints {
			for _, a := range e.Addresses {
				ip := net.ParseIP(a)
				switch {
				case ip == nil:
				case ip.To4() != nil:
					out = append(out, ip.String()+"/32")
				default:
					out = append(out, ip.String()+"/128")
				}
			}
		}
	}
	return out, nil
}
