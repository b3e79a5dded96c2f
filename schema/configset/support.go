package configset

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/bowline-ci/bowline/schema/jobs"
	"github.com/bowline-ci/bowline/schema/orgs"
	"github.com/bowline-ci/bowline/schema/plugins"
	"github.com/bowline-ci/bowline/schema/prowconfig"
	"github.com/bowline-ci/bowline/schema/yamlpos"
)

// CodeNotSupported is the code of warnings about what bowline reads but
// does not act on yet.
const CodeNotSupported = "not-supported"

type unsupported struct {
	In, Path, Needs string
}

// fieldKey names a field as the decoder sees it: the struct type that
// declares it and its name in YAML.
type fieldKey struct {
	owner reflect.Type
	name  string
}

// registry is notSupported resolved to the fields it names.
type registry struct {
	fields map[fieldKey]*unsupported
}

var (
	registryOnce sync.Once
	theRegistry  *registry
	registryErr  error
)

// supportRegistry resolves notSupported once; an entry that names no field
// is a mistake in this package, reported by its tests.
func supportRegistry() (*registry, error) {
	registryOnce.Do(func() {
		r := &registry{fields: map[fieldKey]*unsupported{}}
		var errs []string
		for i := range notSupported {
			e := &notSupported[i]
			k, err := resolveField(rootOf(e.In), e.Path)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s %s: %v", e.In, e.Path, err))
				continue
			}
			r.fields[k] = e
		}
		theRegistry = r
		if len(errs) > 0 {
			registryErr = fmt.Errorf("unsupported-field registry: %s", strings.Join(errs, "; "))
		}
	})
	return theRegistry, registryErr
}

func rootOf(in string) reflect.Type {
	switch in {
	case inConfig:
		return reflect.TypeFor[prowconfig.Config]()
	case inJobs:
		return reflect.TypeFor[jobs.Config]()
	case inPlugins:
		return reflect.TypeFor[plugins.Config]()
	case inOrgs:
		return reflect.TypeFor[orgs.Org]()
	}
	return nil
}

// resolveField follows a docs/config/fields.md path ("a.<key>[].b") from a
// root type to the field it ends at.
func resolveField(t reflect.Type, path string) (fieldKey, error) {
	if t == nil {
		return fieldKey{}, fmt.Errorf("unknown input")
	}
	var key fieldKey
	for i, seg := range strings.Split(path, ".") {
		name := strings.TrimRight(seg, "[]")
		if name == "<key>" {
			if t = deref(t); t.Kind() != reflect.Map {
				return fieldKey{}, fmt.Errorf("%q: not a map", seg)
			}
			t = t.Elem()
		} else {
			owner, f, ok := fieldByJSONName(deref(t), name)
			if !ok {
				return fieldKey{}, fmt.Errorf("no field %q", name)
			}
			key, t = fieldKey{owner, name}, f.Type
		}
		for range (len(seg) - len(name)) / 2 {
			if t = deref(t); t.Kind() != reflect.Slice {
				return fieldKey{}, fmt.Errorf("%q: not a list", seg)
			}
			t = t.Elem()
		}
		if i == 0 && name == "<key>" {
			return fieldKey{}, fmt.Errorf("a path starts with a field")
		}
	}
	if key.owner == nil {
		return fieldKey{}, fmt.Errorf("a path must end at a field")
	}
	return key, nil
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// fieldByJSONName finds a field the way the decoder does, through inline
// embedded structs, and returns the struct type that declares it.
func fieldByJSONName(t reflect.Type, name string) (reflect.Type, reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return nil, reflect.StructField{}, false
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "-" {
			continue
		}
		if tag == "" && (f.Anonymous || strings.Contains(opts, "inline")) {
			if owner, sf, ok := fieldByJSONName(deref(f.Type), name); ok {
				return owner, sf, true
			}
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if tag == name && f.IsExported() {
			return t, f, true
		}
	}
	return nil, reflect.StructField{}, false
}

// notSupportedField reports whether the registry lists a field.
func notSupportedField(owner reflect.Type, name string) (*unsupported, bool) {
	r, _ := supportRegistry()
	e, ok := r.fields[fieldKey{owner, name}]
	return e, ok
}

// NotSupportedPlugins lists the plugin names plugins.yaml may enable that
// bowline does not run yet.
func NotSupportedPlugins() []string { return slices.Clone(unsupportedPlugins) }

// fieldUses records where each listed field is first set, across files
// decoded concurrently.
type fieldUses struct {
	mu    sync.Mutex
	first map[fieldKey]yamlpos.Pos
}

func (u *fieldUses) seen(owner reflect.Type, name string, p yamlpos.Pos) {
	u.mu.Lock()
	defer u.mu.Unlock()
	k := fieldKey{owner, name}
	if prev, ok := u.first[k]; !ok || comparePos(p, prev) < 0 {
		if u.first == nil {
			u.first = map[fieldKey]yamlpos.Pos{}
		}
		u.first[k] = p
	}
}

func comparePos(a, b yamlpos.Pos) int {
	return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
}

// jobPrefixes are cut from a job field's path in messages: the field is
// the same for every kind of job.
var jobPrefixes = []string{"presubmits.<key>[].", "postsubmits.<key>[].", "periodics[]."}

func displayName(e *unsupported) string {
	for _, p := range jobPrefixes {
		if rest, ok := strings.CutPrefix(e.Path, p); ok {
			return rest
		}
	}
	return e.Path
}

// warnUnsupported adds one warning per field, plugin and agent that the
// configuration uses and bowline does not act on yet, at its first use.
func (l *loader) warnUnsupported(set *Set) {
	type use struct {
		pos  yamlpos.Pos
		at   yamlpos.Path
		what string
	}
	var uses []use
	for k, p := range l.uses.first {
		e, _ := notSupportedField(k.owner, k.name)
		uses = append(uses, use{p, "", fmt.Sprintf("%s is not supported yet: nothing in bowline acts on it; it needs %s", displayName(e), e.Needs)})
	}
	firstOf := func(cands map[string]use) {
		for _, u := range cands {
			uses = append(uses, u)
		}
	}
	pluginUses := map[string]use{}
	for _, key := range sortedKeys(set.Plugins.Plugins) {
		o := set.Plugins.Plugins[key]
		for i, name := range o.Plugins {
			if !slices.Contains(unsupportedPlugins, name) {
				continue
			}
			p := o.PluginPos(i)
			if prev, ok := pluginUses[name]; ok && comparePos(prev.pos, p) <= 0 {
				continue
			}
			pluginUses[name] = use{p, "", fmt.Sprintf("plugin %q is not supported yet: bowline has no such plugin yet, so enabling it does nothing", name)}
		}
	}
	firstOf(pluginUses)
	for _, u := range uses {
		l.errs.WarnAt(u.pos, u.at, CodeNotSupported, "%s", u.what)
	}
}
