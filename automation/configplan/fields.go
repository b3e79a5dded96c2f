package configplan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"
)

// maxValueChars bounds a value shown in a field change.
const maxValueChars = 200

// sameContent reports whether two configuration values say the same:
// equal, or equal once positions (which JSON leaves out) are ignored.
func sameContent(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// diffFields lists the fields whose values differ between two values of a
// configuration type, compared as the JSON the files' field names give
// them (positions are not part of it). Objects are compared key by key;
// lists of the same length item by item, lists of named objects (env,
// containers, volumes) by name; other lists as a whole.
func diffFields(before, after any) []FieldChange {
	var out []FieldChange
	walkFields("", jsonValue(before), jsonValue(after), &out)
	return out
}

// diffValues is diffFields of values already decoded from JSON.
func diffValues(prefix string, before, after any) []FieldChange {
	var out []FieldChange
	walkFields(prefix, before, after, &out)
	return out
}

// jsonValue is v as generic JSON: maps, lists, json.Number, strings,
// booleans and nil.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return string(b)
	}
	return out
}

func walkFields(path string, a, b any, out *[]FieldChange) {
	// An object added or removed as a whole is shown field by field; an
	// empty one as a whole, so that it is not lost.
	if _, ok := b.(map[string]any); ok && a == nil {
		n := len(*out)
		walkFields(path, map[string]any{}, b, out)
		if len(*out) == n {
			*out = append(*out, FieldChange{Path: path, After: render(b)})
		}
		return
	}
	if _, ok := a.(map[string]any); ok && b == nil {
		n := len(*out)
		walkFields(path, a, map[string]any{}, out)
		if len(*out) == n {
			*out = append(*out, FieldChange{Path: path, Before: render(a)})
		}
		return
	}
	switch av := a.(type) {
	case map[string]any:
		if bv, ok := b.(map[string]any); ok {
			keys := make([]string, 0, len(av)+len(bv))
			for k := range av {
				keys = append(keys, k)
			}
			for k := range bv {
				if _, ok := av[k]; !ok {
					keys = append(keys, k)
				}
			}
			slices.Sort(keys)
			for _, k := range keys {
				walkFields(joinPath(path, k), av[k], bv[k], out)
			}
			return
		}
	case []any:
		if bv, ok := b.([]any); ok {
			if an, bn, ok := byName(av, bv); ok {
				names := make([]string, 0, len(an)+len(bn))
				for _, it := range av {
					names = append(names, nameOf(it))
				}
				for _, it := range bv {
					if _, ok := an[nameOf(it)]; !ok {
						names = append(names, nameOf(it))
					}
				}
				for _, n := range names {
					walkFields(fmt.Sprintf("%s[%s]", path, n), an[n], bn[n], out)
				}
				return
			}
			if len(av) == len(bv) {
				for i := range av {
					walkFields(fmt.Sprintf("%s[%d]", path, i), av[i], bv[i], out)
				}
				return
			}
		}
	}
	if reflect.DeepEqual(a, b) {
		return
	}
	*out = append(*out, FieldChange{Path: path, Before: render(a), After: render(b)})
}

// byName indexes two lists of objects by their "name" field, when every
// item has a distinct one.
func byName(a, b []any) (map[string]any, map[string]any, bool) {
	index := func(list []any) (map[string]any, bool) {
		m := make(map[string]any, len(list))
		for _, it := range list {
			n := nameOf(it)
			if n == "" {
				return nil, false
			}
			if _, dup := m[n]; dup {
				return nil, false
			}
			m[n] = it
		}
		return m, true
	}
	if len(a) == 0 && len(b) == 0 {
		return nil, nil, false
	}
	am, okA := index(a)
	bm, okB := index(b)
	return am, bm, okA && okB
}

func nameOf(v any) string {
	if m, ok := v.(map[string]any); ok {
		if n, ok := m["name"].(string); ok {
			return n
		}
	}
	return ""
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// render is a value as compact JSON, bounded; "" for an absent value.
func render(v any) string {
	if v == nil {
		return ""
	}
	var s string
	if str, ok := v.(string); ok {
		s = str
		if b, err := json.Marshal(str); err == nil && (s == "" || strings.ContainsAny(s, "\n\"") || s != strings.TrimSpace(s)) {
			s = string(b)
		}
	} else {
		b, err := json.Marshal(v)
		if err != nil {
			s = fmt.Sprint(v)
		} else {
			s = string(b)
		}
	}
	return truncate(s, maxValueChars)
}

// truncate bounds s to n characters, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
