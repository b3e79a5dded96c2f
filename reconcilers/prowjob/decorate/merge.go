package decorate

import (
	"encoding/json"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// MergeDecorationConfig lays a job's decoration config over the defaults:
// every field the job sets wins, nested objects (utility images, storage,
// resources, censoring options) are merged field by field, and lists are
// taken whole from whichever sets them, as Prow applies
// default_decoration_config. Neither argument is changed.
func MergeDecorationConfig(job, defaults *v1alpha1.DecorationConfig) *v1alpha1.DecorationConfig {
	if defaults == nil {
		return job.DeepCopy()
	}
	if job == nil {
		return defaults.DeepCopy()
	}
	merged := mergeJSON(toMap(defaults), toMap(job))
	raw, err := json.Marshal(merged)
	if err != nil {
		// Both sides came from the same type; this cannot fail.
		return job.DeepCopy()
	}
	out := &v1alpha1.DecorationConfig{}
	if err := json.Unmarshal(raw, out); err != nil {
		return job.DeepCopy()
	}
	return out
}

func toMap(v any) map[string]any {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil
	}
	return m
}

// mergeJSON returns base with over laid on top, objects merged recursively.
func mergeJSON(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook {
			out[k] = mergeJSON(bm, om)
			continue
		}
		out[k] = v
	}
	return out
}
