package automation

import (
	"reflect"
	"unsafe"
)

// parsedSize is the memory a parsed event holds: the size of every value
// reachable from v (structs, the arrays behind slices, map entries, the
// bytes of strings), each pointer's target counted once. The queue's byte
// budget is kept in these bytes rather than the payload's: that is what
// queued events hold in memory (go-github's events are pointers to copies
// of every string, a fifth more than the JSON for a comment).
func parsedSize(v any) int64 {
	if v == nil {
		return 0
	}
	w := sizeWalker{seen: map[uintptr]bool{}}
	rv := reflect.ValueOf(v)
	return int64(rv.Type().Size()) + w.walk(rv)
}

type sizeWalker struct {
	seen map[uintptr]bool
}

// walk returns the bytes v refers to beyond its own size.
func (w *sizeWalker) walk(v reflect.Value) int64 {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || w.seen[v.Pointer()] {
			return 0
		}
		w.seen[v.Pointer()] = true
		return int64(v.Type().Elem().Size()) + w.walk(v.Elem())
	case reflect.Interface:
		if v.IsNil() {
			return 0
		}
		e := v.Elem()
		if e.Kind() == reflect.Pointer {
			return w.walk(e)
		}
		return int64(e.Type().Size()) + w.walk(e)
	case reflect.String:
		return int64(v.Len())
	case reflect.Slice:
		if v.IsNil() || w.seen[v.Pointer()] {
			return 0
		}
		w.seen[v.Pointer()] = true
		n := int64(v.Cap()) * int64(v.Type().Elem().Size())
		for i := range v.Len() {
			n += w.walk(v.Index(i))
		}
		return n
	case reflect.Array:
		var n int64
		for i := range v.Len() {
			n += w.walk(v.Index(i))
		}
		return n
	case reflect.Struct:
		var n int64
		for i := range v.NumField() {
			n += w.walk(v.Field(i))
		}
		return n
	case reflect.Map:
		if v.IsNil() || w.seen[v.Pointer()] {
			return 0
		}
		w.seen[v.Pointer()] = true
		// Buckets hold keys and values; count them and what they refer to.
		per := int64(v.Type().Key().Size() + v.Type().Elem().Size())
		n := int64(v.Len())*per + int64(unsafe.Sizeof(uintptr(0)))*8
		it := v.MapRange()
		for it.Next() {
			n += w.walk(it.Key()) + w.walk(it.Value())
		}
		return n
	}
	return 0
}
