// Package crds embeds the CustomResourceDefinitions that controller-gen
// generates from schema/v1alpha1, so that the test environment, `bowline up`
// and `bowline bootstrap` install exactly what the types declare.
package crds

import (
	"embed"
	"fmt"
	"io/fs"
	"path"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

//go:embed bases/*.yaml
var files embed.FS

// Dir is the directory of the generated YAML, relative to this package.
const Dir = "bases"

// All returns bowline's CRDs, parsed.
func All() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	entries, err := fs.ReadDir(files, Dir)
	if err != nil {
		return nil, err
	}
	out := make([]*apiextensionsv1.CustomResourceDefinition, 0, len(entries))
	for _, e := range entries {
		b, err := files.ReadFile(path.Join(Dir, e.Name()))
		if err != nil {
			return nil, err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.UnmarshalStrict(b, crd); err != nil {
			return nil, fmt.Errorf("parse %s: %w", e.Name(), err)
		}
		out = append(out, crd)
	}
	return out, nil
}
