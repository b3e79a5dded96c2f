package sidecar

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/url"
	"slices"
	"strings"
)

// minSecretLength keeps very short values (a "1", a "true") from being
// censored everywhere they occur; it applies to every form of a secret.
const minSecretLength = 4

// censorer replaces every form of the secrets it was given by asterisks of
// the same length. The forms are those a secret takes in logs:
//
//   - the value trimmed of surrounding space;
//   - each line of a multi-line value (a key file, a JSON credential),
//     trimmed;
//   - base64, standard and URL-safe, with and without padding, of each of
//     the above and of the value as mounted, and the part of the encoding that does not depend on its
//     neighbours, at each of the three alignments a value can have inside a
//     longer encoded text (an "Authorization: Basic" header holding
//     "user:token", a Kubernetes Secret's data);
//   - URL-encoded (query and path escaping), where that differs.
//
// Prow's sidecar censors the value, its trimmed form and their standard
// base64 encoding.
type censorer struct {
	forms [][]byte
	// byPrefix indexes forms by their first four bytes, longest first;
	// lead is a bitmap of their first two, to pass most positions by.
	byPrefix map[uint32][]int
	lead     [1 << 16 / 64]uint64
	// keep is how many bytes a streaming reader holds back, so that a form
	// that straddles two chunks is seen whole.
	keep int
}

func newCensorer(secrets []string) *censorer {
	seen := map[string]bool{}
	var forms []string
	add := func(f string) {
		if len(f) >= minSecretLength && !seen[f] {
			seen[f] = true
			forms = append(forms, f)
		}
	}
	for _, s := range secrets {
		trimmed := strings.TrimSpace(s)
		if len(trimmed) < minSecretLength || strings.EqualFold(trimmed, "true") || strings.EqualFold(trimmed, "false") {
			continue
		}
		// The value as mounted, newline and all, matters only encoded: in
		// plain text its trimmed form covers it and keeps lines whole.
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			add(enc.EncodeToString([]byte(s)))
		}
		values := []string{trimmed}
		if strings.Contains(trimmed, "\n") {
			for _, line := range strings.Split(trimmed, "\n") {
				values = append(values, strings.TrimSpace(line))
			}
		}
		for _, v := range values {
			if len(v) < minSecretLength {
				continue
			}
			add(v)
			add(url.QueryEscape(v))
			add(url.PathEscape(v))
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
				add(enc.EncodeToString([]byte(v)))
			}
			for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
				for shift := range 3 {
					add(base64Core(enc, v, shift))
				}
			}
		}
	}
	return newCensorerOf(forms)
}

// base64Core is the part of v's base64 encoding that appears whatever
// comes before and after v, when v starts shift bytes past a multiple of
// three in the encoded text: the characters made only of v's bits.
func base64Core(enc *base64.Encoding, v string, shift int) string {
	full := enc.EncodeToString(append(make([]byte, shift), v...))
	from := (8*shift + 5) / 6
	to := 8 * (shift + len(v)) / 6
	if to <= from || to > len(full) {
		return ""
	}
	return full[from:to]
}

// newCensorerOf indexes the forms by their first bytes, so that a text is
// scanned once whatever the number of forms.
func newCensorerOf(forms []string) *censorer {
	// Longest first, so that the first form matching at a position is the
	// longest one there.
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	c := &censorer{byPrefix: map[uint32][]int{}}
	for _, f := range forms {
		c.byPrefix[prefix4([]byte(f))] = append(c.byPrefix[prefix4([]byte(f))], len(c.forms))
		c.lead[prefix2([]byte(f))/64] |= 1 << (prefix2([]byte(f)) % 64)
		c.forms = append(c.forms, []byte(f))
		c.keep = max(c.keep, len(f)-1)
	}
	return c
}

func prefix2(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }
func prefix4(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// longestAt is the length of the longest form that text holds at i, or 0.
func (c *censorer) longestAt(text []byte, i int) int {
	rest := text[i:]
	if len(rest) < minSecretLength {
		return 0
	}
	if p := prefix2(rest); c.lead[p/64]&(1<<(p%64)) == 0 {
		return 0
	}
	for _, k := range c.byPrefix[prefix4(rest)] {
		if bytes.HasPrefix(rest, c.forms[k]) {
			return len(c.forms[k])
		}
	}
	return 0
}

// censor returns a copy of b with every occurrence of every form replaced
// by asterisks; lengths do not change. Occurrences are found in the
// original text, so overlapping ones are all covered.
func (c *censorer) censor(b []byte) []byte {
	out := bytes.Clone(b)
	c.star(b, out, 0, len(b))
	return out
}

// star replaces in out, a copy of text, every form that text holds at a
// position from..to-1 (forms may extend past to).
func (c *censorer) star(text, out []byte, from, to int) {
	to = min(to, len(text)-minSecretLength+1)
	for i := from; i < to; i++ {
		// Most positions fail on the first two bytes; look no further.
		if p := uint16(text[i])<<8 | uint16(text[i+1]); c.lead[p>>6]&(1<<(p&63)) == 0 {
			continue
		}
		if n := c.longestAt(text, i); n > 0 {
			for j := i; j < i+n; j++ {
				out[j] = '*'
			}
		}
	}
}

// censorChunk is how much of a file the censoring reader reads at once.
const censorChunk = 64 << 10

// reader returns src censored, read in bounded chunks so that large
// artifacts are censored without being held in memory.
func (c *censorer) reader(src io.Reader) io.Reader {
	if len(c.forms) == 0 {
		return src
	}
	return &censoringReader{c: c, src: src, buf: make([]byte, censorChunk)}
}

// censoringReader censors its input a window at a time. It looks for
// forms starting at each position of the window whose longest form would
// fit, and holds the rest back until the next chunk: a form straddling
// two chunks is seen whole. Matching is on the original bytes, starring
// on a copy.
type censoringReader struct {
	c   *censorer
	src io.Reader
	buf []byte
	// orig and starred are the bytes not handed out yet, as read and as
	// censored; positions before scanned have been looked at.
	orig, starred []byte
	scanned       int
	// ready bytes of starred may be handed out.
	ready int
	err   error
}

func (r *censoringReader) Read(p []byte) (int, error) {
	for r.ready == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.fill()
	}
	n := copy(p, r.starred[:r.ready])
	r.orig, r.starred = r.orig[n:], r.starred[n:]
	r.scanned -= n
	r.ready -= n
	return n, nil
}

// fill reads the next chunk and censors what can be decided.
func (r *censoringReader) fill() {
	n, err := io.ReadFull(r.src, r.buf)
	r.orig = append(r.orig, r.buf[:n]...)
	r.starred = append(r.starred, r.buf[:n]...)
	limit := len(r.orig) - r.c.keep
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		r.err, limit = io.EOF, len(r.orig)
	default:
		r.err, limit = err, len(r.orig)
	}
	r.c.star(r.orig, r.starred, r.scanned, limit)
	r.scanned = max(r.scanned, limit)
	// A position before scanned cannot be covered by a form found later,
	// since those start at scanned or after.
	r.ready = r.scanned
}
