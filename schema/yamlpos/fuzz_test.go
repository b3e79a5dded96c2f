package yamlpos

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func FuzzDecode(f *testing.F) {
	f.Add([]byte("name: x\ntags: [a]\ninner: {value: v, count: 1}\nfree: {a: [1, 2.5, true, ~]}\n"))
	f.Add([]byte("a: &a {b: *a}\n"))
	f.Add([]byte("<<: [{name: x}, {size: 1}]\n"))
	f.Add([]byte("spec:\n  containers:\n  - resources: {limits: {cpu: 1e3}}\n    ports: [{containerPort: 80}]\n"))
	f.Add([]byte("--- !!binary\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := NewDecoder()
		var errs Errors
		var s sample
		dec.Decode("f.yaml", data, &s, &errs)
		var spec struct {
			Spec corev1.PodSpec `json:"spec"`
		}
		dec.Decode("f.yaml", data, &spec, &errs)
		var generic any
		dec.Decode("f.yaml", data, &generic, &errs)
		for _, e := range errs.List {
			if e.File != "f.yaml" || e.Message == "" {
				t.Fatalf("malformed error %+v", e)
			}
		}
	})
}
