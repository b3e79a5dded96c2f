package sidecar

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCensoringReader(t *testing.T) {
	secret := "hunter2-secret-value"
	// A secret placed across each chunk boundary, and at the very end.
	var in strings.Builder
	for i := range 3 {
		in.WriteString(strings.Repeat("x", censorChunk-(i+1)*7))
		in.WriteString(secret)
	}
	in.WriteString("tail " + secret)
	tests := []struct {
		name    string
		src     io.Reader
		secrets []string
	}{
		{name: "straddling chunks", src: strings.NewReader(in.String()), secrets: []string{secret, "short"}},
		{name: "one byte at a time", src: iotest.OneByteReader(strings.NewReader(in.String())), secrets: []string{secret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := io.ReadAll(newCensoringReader(tt.src, tt.secrets))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(got, []byte(secret)) {
				t.Error("a secret survived censoring")
			}
			want := strings.ReplaceAll(in.String(), secret, strings.Repeat("*", len(secret)))
			if string(got) != want {
				t.Errorf("censored output differs: got %d bytes, want %d", len(got), len(want))
			}
		})
	}
	if err := iotest.TestReader(newCensoringReader(strings.NewReader("abc secret def"), []string{"secret"}), []byte("abc ****** def")); err != nil {
		t.Error(err)
	}
	if got := censor("a hunter2 b", []string{"hunter2"}); got != "a ******* b" {
		t.Errorf("censor() = %q", got)
	}
}
