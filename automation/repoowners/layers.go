package repoowners

import "slices"

// Layers is a set of logins kept in layers: layer 0 holds the logins of the
// OWNERS closest to a file, each further layer those one directory up.
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
