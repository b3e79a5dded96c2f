package sidecar

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/url"
	"os"
	"path/filepath"
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
			got, err := io.ReadAll(newCensorer(tt.secrets).reader(tt.src))
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
	if err := iotest.TestReader(newCensorer([]string{"secret"}).reader(strings.NewReader("abc secret def")), []byte("abc ****** def")); err != nil {
		t.Error(err)
	}
}

// TestCensorsEveryFormOfASecret leaks each secret in the forms a job's
// output shows them in, and checks that none survives.
func TestCensorsEveryFormOfASecret(t *testing.T) {
	token := "ghp_Tok3n/with+odd=chars?&"
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUA\nAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz\n-----END OPENSSH PRIVATE KEY-----\n"
	b64 := func(enc *base64.Encoding, s string) string { return enc.EncodeToString([]byte(s)) }
	tests := []struct {
		name   string
		secret string
		// leak is how the job prints it; hidden are the parts that must go.
		leak   string
		hidden []string
	}{
		{name: "as mounted, with its newline", secret: token + "\n", leak: "token: " + token + "\n", hidden: []string{token}},
		{name: "base64", secret: token, leak: "data: " + b64(base64.StdEncoding, token), hidden: []string{b64(base64.RawStdEncoding, token)}},
		{name: "base64 of the trimmed value", secret: token + "\n", leak: "data: " + b64(base64.StdEncoding, token), hidden: []string{b64(base64.RawStdEncoding, token)}},
		{name: "URL-safe base64 without padding", secret: token, leak: "jwt." + b64(base64.RawURLEncoding, token) + ".sig", hidden: []string{b64(base64.RawURLEncoding, token)}},
		{name: "inside a basic auth header", secret: token,
			leak:   "Authorization: Basic " + b64(base64.StdEncoding, "x-access-token:"+token),
			hidden: []string{base64Core(base64.RawStdEncoding, token, len("x-access-token:")%3)}},
		{name: "inside a longer base64 text at each alignment", secret: token,
			leak: b64(base64.StdEncoding, "a"+token+"b") + " " + b64(base64.StdEncoding, "ab"+token+"c") + " " + b64(base64.StdEncoding, "abc"+token),
			hidden: []string{base64Core(base64.RawStdEncoding, token, 1), base64Core(base64.RawStdEncoding, token, 2),
				base64Core(base64.RawStdEncoding, token, 0)}},
		{name: "URL-encoded in a query", secret: token, leak: "GET /login?token=" + url.QueryEscape(token), hidden: []string{url.QueryEscape(token)}},
		{name: "URL-encoded in a path", secret: token, leak: "GET /t/" + url.PathEscape(token) + "/x", hidden: []string{url.PathEscape(token)}},
		{name: "each line of a multi-line secret", secret: key,
			leak:   "debug: b3BlbnNzaC1rZXktdjEAAAAABG5vbmUA\nAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz trailing",
			hidden: []string{"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUA", "AAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz"}},
		{name: "a multi-line secret whole", secret: key, leak: "cat key:\n" + key, hidden: []string{key, "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCensorer([]string{tt.secret})
			for _, got := range [][]byte{
				c.censor([]byte(tt.leak)),
				must(io.ReadAll(c.reader(iotest.HalfReader(strings.NewReader(tt.leak))))),
			} {
				if len(got) != len(tt.leak) {
					t.Errorf("censoring changed the length: %d, want %d", len(got), len(tt.leak))
				}
				for _, h := range tt.hidden {
					if bytes.Contains(got, []byte(h)) {
						t.Errorf("%q survived censoring in %q", h, got)
					}
				}
			}
		})
	}
}

func TestCensorLeavesShortAndBooleanValues(t *testing.T) {
	c := newCensorer([]string{"abc", "true", "  \n", "False"})
	in := "abc true false False"
	if got := string(c.censor([]byte(in))); got != in {
		t.Errorf("censor() = %q: short and boolean values are not secrets", got)
	}
}

// TestOverlappingSecretsAreBothCensored: where two secrets overlap, the
// union is censored, not the first found and what is left of the other.
func TestOverlappingSecretsAreBothCensored(t *testing.T) {
	c := newCensorer([]string{"xxab", "abcdefgh"})
	if got := string(c.censor([]byte("__xxabcdefgh__"))); got != "__**********__" {
		t.Errorf("censor() = %q", got)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func BenchmarkCensoringReader(b *testing.B) {
	var secrets []string
	for i := range 50 {
		secrets = append(secrets, strings.Repeat(string(rune('a'+i%26)), 10)+"-secret-"+string(rune('A'+i%26)))
	}
	c := newCensorer(secrets)
	data := bytes.Repeat([]byte("some ordinary log line with numbers 1234567890 and words\n"), 1<<14)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if _, err := io.Copy(io.Discard, c.reader(bytes.NewReader(data))); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRegistryCredentialsAreCensoredOnTheirOwn: a registry Secret is one
// line of JSON; a job that logs in prints its password alone.
func TestRegistryCredentialsAreCensoredOnTheirOwn(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		".dockerconfigjson": `{"auths":{"registry.example":{"username":"ci","password":"r3g-pa55word","auth":"Y2k6cjNnLXBhNTV3b3Jk"}}}`,
		".dockercfg":        `{"old.example":{"password":"0ld-pa55word","auth":"b2xkOjBsZC1wYTU1d29yZA=="}}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	secrets, err := loadSecrets([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	out := string(newCensorer(secrets).censor([]byte("docker login -p r3g-pa55word; old 0ld-pa55word; header Y2k6cjNnLXBhNTV3b3Jk")))
	for _, leak := range []string{"r3g-pa55word", "0ld-pa55word", "Y2k6cjNnLXBhNTV3b3Jk"} {
		if strings.Contains(out, leak) {
			t.Errorf("%q survived: %s", leak, out)
		}
	}
}
