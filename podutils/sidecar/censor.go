package sidecar

import (
	"bytes"
	"errors"
	"io"
	"strings"
)

// censor replaces every secret in s by asterisks of the same length.
func censor(s string, secrets []string) string {
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, strings.Repeat("*", len(v)))
	}
	return s
}

// censorChunk is how much of a file the censoring reader holds at once,
// besides the overlap it keeps to catch a secret across two chunks.
const censorChunk = 64 << 10

// newCensoringReader returns src with every secret replaced by asterisks
// of the same length, reading in bounded chunks so that large artifacts
// are censored without being held in memory.
func newCensoringReader(src io.Reader, secrets []string) io.Reader {
	if len(secrets) == 0 {
		return src
	}
	c := &censoringReader{src: src, buf: make([]byte, censorChunk)}
	for _, s := range secrets {
		c.secrets = append(c.secrets, []byte(s))
		c.keep = max(c.keep, len(s)-1)
	}
	return c
}

// censoringReader censors a window of the input at a time. Because
// replacements keep lengths, it holds back the window's last
// len(longest secret)-1 bytes and rescans them with the next chunk: a
// secret that straddles two chunks is whole in one window.
type censoringReader struct {
	src     io.Reader
	secrets [][]byte
	keep    int
	buf     []byte
	// window holds censored bytes; its first ready bytes may be handed out.
	window []byte
	ready  int
	err    error
}

func (c *censoringReader) Read(p []byte) (int, error) {
	for c.ready == 0 {
		if c.err != nil {
			return 0, c.err
		}
		c.fill()
	}
	n := copy(p, c.window[:c.ready])
	c.window = c.window[n:]
	c.ready -= n
	return n, nil
}

// fill reads the next chunk into the window and censors the window.
func (c *censoringReader) fill() {
	n, err := io.ReadFull(c.src, c.buf)
	c.window = append(c.window, c.buf[:n]...)
	for _, s := range c.secrets {
		c.window = bytes.ReplaceAll(c.window, s, bytes.Repeat([]byte("*"), len(s)))
	}
	switch {
	case err == nil:
		c.ready = len(c.window) - min(c.keep, len(c.window))
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		c.err, c.ready = io.EOF, len(c.window)
	default:
		c.err, c.ready = err, len(c.window)
	}
}
