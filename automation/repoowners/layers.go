package repoowners

import (
	"math/rand/v2"
	"slices"
)

// Layers is a set of logins kept in layers: layer 0 holds the logins of the
// OWNERS closest to a file, each further layer those one directory up.
// Reviewer selection prefers the nearest layer.
type Layers struct {
	layers [][]string
}

// insert adds logins to layer i, unless an earlier layer has them.
func (l *Layers) insert(i int, logins ...string) {
	for len(l.layers) <= i {
		l.layers = append(l.layers, nil)
	}
	for _, login := range logins {
		if !l.Has(login) {
			l.layers[i] = append(l.layers[i], login)
		}
	}
}

// Has reports whether login is in any layer.
func (l *Layers) Has(login string) bool {
	for _, layer := range l.layers {
		if slices.Contains(layer, login) {
			return true
		}
	}
	return false
}

// Len is the number of logins.
func (l *Layers) Len() int {
	n := 0
	for _, layer := range l.layers {
		n += len(layer)
	}
	return n
}

// Set returns every login, sorted.
func (l *Layers) Set() []string {
	var out []string
	for _, layer := range l.layers {
		out = append(out, layer...)
	}
	slices.Sort(out)
	return out
}

// Layer returns the logins of layer i, sorted.
func (l *Layers) Layer(i int) []string {
	if i >= len(l.layers) {
		return nil
	}
	return slices.Sorted(slices.Values(l.layers[i]))
}

// Depth is the number of layers.
func (l *Layers) Depth() int { return len(l.layers) }

// Without returns a copy without the given logins.
func (l *Layers) Without(logins ...string) *Layers {
	out := &Layers{layers: make([][]string, len(l.layers))}
	for i, layer := range l.layers {
		for _, login := range layer {
			if !slices.Contains(logins, login) {
				out.layers[i] = append(out.layers[i], login)
			}
		}
	}
	return out
}

// PopRandom removes and returns a login of the nearest non-empty layer,
// chosen with r; "" when empty.
func (l *Layers) PopRandom(r *rand.Rand) string {
	for i, layer := range l.layers {
		if len(layer) == 0 {
			continue
		}
		sorted := slices.Sorted(slices.Values(layer))
		pick := sorted[r.IntN(len(sorted))]
		l.layers[i] = slices.DeleteFunc(layer, func(s string) bool { return s == pick })
		return pick
	}
	return ""
}
