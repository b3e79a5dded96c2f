package webhook

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"time"
)

// legacyTimestamp is the "2018-04-25 20:42:10" form that some older GitHub
// payloads (check_run's app, among GitHub's published examples) carry in
// *_at fields; go-github only accepts RFC 3339 and Unix seconds.
var legacyTimestamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`)

// normalizeTimestamps rewrites legacy timestamps in fields named *_at to
// RFC 3339 (UTC, as GitHub means them) and reports whether it changed any.
// Other values, including numbers, are re-encoded unchanged.
func normalizeTimestamps(payload []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return payload, false
	}
	if !rewriteTimestamps(doc) {
		return payload, false
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return payload, false
	}
	return out, true
}

func rewriteTimestamps(v any) bool {
	changed := false
	switch v := v.(type) {
	case map[string]any:
		for k, field := range v {
			if s, ok := field.(string); ok && strings.HasSuffix(k, "_at") && legacyTimestamp.MatchString(s) {
				if t, err := time.Parse(time.DateTime, s); err == nil {
					v[k] = t.UTC().Format(time.RFC3339)
					changed = true
				}
				continue
			}
			changed = rewriteTimestamps(field) || changed
		}
	case []any:
		for _, e := range v {
			changed = rewriteTimestamps(e) || changed
		}
	}
	return changed
}
