package webhook

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-github/v89/github"
)

// payloadDir holds GitHub's published example payloads, one directory per
// event type.
var payloadDir = filepath.Join("..", "..", "test", "testdata", "github-webhooks")

func TestEveryExamplePayloadParses(t *testing.T) {
	events, err := os.ReadDir(payloadDir)
	if err != nil {
		t.Fatal(err)
	}
	var parsed int
	for _, ev := range events {
		if !ev.IsDir() {
			continue
		}
		files, err := filepath.Glob(filepath.Join(payloadDir, ev.Name(), "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Errorf("%s: no payloads", ev.Name())
		}
		for _, f := range files {
			t.Run(ev.Name()+"/"+filepath.Base(f), func(t *testing.T) {
				payload, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				secret := []byte("s3cret")
				req := deliveryRequest(ev.Name(), payload, Sign(secret, payload))
				in := Intake{Secrets: func(string, string) [][]byte { return [][]byte{secret} }}
				d, err := in.Read(req)
				if err != nil {
					t.Fatalf("Read: %v", err)
				}
				if d.Parsed == nil {
					t.Fatalf("event type %q is unknown to go-github", ev.Name())
				}
				want := reflect.TypeOf(github.EventForType(ev.Name()))
				if got := reflect.TypeOf(d.Parsed); got != want {
					t.Errorf("parsed into %v, want %v", got, want)
				}
				parsed++
			})
		}
	}
	if parsed < 100 {
		t.Errorf("parsed %d payloads; the examples hold about 150", parsed)
	}
}

func deliveryRequest(event string, body []byte, signature string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if event != "" {
		req.Header.Set(HeaderEvent, event)
	}
	if signature != "" {
		req.Header.Set(HeaderSignature, signature)
	}
	req.Header.Set(HeaderDelivery, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	return req
}

func TestRead(t *testing.T) {
	secret := []byte("current")
	old := []byte("previous")
	prComment := []byte(`{"action":"created","issue":{"number":7},"comment":{"body":"/lgtm"},"repository":{"name":"test-infra","owner":{"login":"kubernetes"}}}`)
	orgEvent := []byte(`{"action":"member_added","organization":{"login":"kubernetes"}}`)
	type want struct {
		status                   int
		event, action, org, repo string
	}
	tests := []struct {
		name      string
		event     string
		body      []byte
		signature string
		limit     int64
		form      bool
		want      want
	}{
		{
			name: "valid", event: "issue_comment", body: prComment, signature: Sign(secret, prComment),
			want: want{200, "issue_comment", "created", "kubernetes", "test-infra"},
		},
		{
			name: "signed with the previous secret during rotation", event: "issue_comment", body: prComment, signature: Sign(old, prComment),
			want: want{200, "issue_comment", "created", "kubernetes", "test-infra"},
		},
		{
			name: "org-level event", event: "organization", body: orgEvent, signature: Sign(secret, orgEvent),
			want: want{200, "organization", "member_added", "kubernetes", ""},
		},
		{
			name: "form encoded", event: "issue_comment", form: true, body: prComment,
			want: want{200, "issue_comment", "created", "kubernetes", "test-infra"},
		},
		{
			name: "unknown event type is accepted unparsed", event: "sponsorship_tier_party", body: orgEvent, signature: Sign(secret, orgEvent),
			want: want{200, "sponsorship_tier_party", "member_added", "kubernetes", ""},
		},
		{
			name: "wrong secret", event: "issue_comment", body: prComment, signature: Sign([]byte("guess"), prComment),
			want: want{status: 403},
		},
		{
			name: "tampered body", event: "issue_comment", body: bytes.Replace(prComment, []byte("lgtm"), []byte("approve"), 1), signature: Sign(secret, prComment),
			want: want{status: 403},
		},
		{
			name: "sha1 signature only", event: "issue_comment", body: prComment, signature: "sha1=0123456789abcdef0123456789abcdef01234567",
			want: want{status: 403},
		},
		{
			name: "signature not hex", event: "issue_comment", body: prComment, signature: "sha256=zz",
			want: want{status: 403},
		},
		{name: "no signature", event: "issue_comment", body: prComment, want: want{status: 403}},
		{name: "no event", body: prComment, signature: Sign(secret, prComment), want: want{status: 400}},
		{
			name: "body over the limit", event: "issue_comment", body: prComment, signature: Sign(secret, prComment), limit: 64,
			want: want{status: 413},
		},
		{
			name: "not JSON", event: "issue_comment", body: []byte("{"), signature: Sign(secret, []byte("{")),
			want: want{status: 400},
		},
		{
			name: "JSON of the wrong shape", event: "issue_comment", body: []byte(`{"issue":{"number":"seven"}}`), signature: Sign(secret, []byte(`{"issue":{"number":"seven"}}`)),
			want: want{status: 400},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, signature := tt.body, tt.signature
			if tt.form {
				body = []byte(url.Values{"payload": {string(tt.body)}}.Encode())
				signature = Sign(secret, body)
			}
			req := deliveryRequest(tt.event, body, signature)
			if tt.form {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			in := Intake{MaxBodyBytes: tt.limit, Secrets: func(org, repo string) [][]byte { return [][]byte{secret, old} }}
			d, err := in.Read(req)
			got := want{status: HTTPStatus(err)}
			if d != nil {
				got = want{200, d.Event, d.Action, d.Org, d.Repo}
				if !bytes.Equal(d.Payload, tt.body) {
					t.Errorf("payload = %s, want %s", d.Payload, tt.body)
				}
				if d.ID == "" {
					t.Error("delivery ID is empty")
				}
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("Read (-want +got):\n%s\nerr: %v", diff, err)
			}
			if err != nil && strings.Contains(err.Error(), string(secret)) {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestSecretsPerRepo(t *testing.T) {
	body := []byte(`{"action":"opened","repository":{"name":"r","owner":{"login":"o"}}}`)
	var asked []string
	in := Intake{Secrets: func(org, repo string) [][]byte {
		asked = append(asked, org+"/"+repo)
		return nil
	}}
	_, err := in.Read(deliveryRequest("issues", body, Sign([]byte("x"), body)))
	if !errors.Is(err, ErrNoSecret) {
		t.Errorf("err = %v, want ErrNoSecret", err)
	}
	if diff := cmp.Diff([]string{"o/r"}, asked); diff != "" {
		t.Errorf("secrets asked for (-want +got):\n%s", diff)
	}
}

func TestSign(t *testing.T) {
	// The example from GitHub's documentation on validating deliveries.
	got := Sign([]byte("It's a Secret to Everybody"), []byte("Hello, World!"))
	want := "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 200},
		{&BodyTooLargeError{Limit: 1}, 413},
		{ErrInvalidSignature, 403},
		{ErrMissingSignature, 403},
		{ErrNoSecret, 403},
		{ErrMissingEvent, 400},
		{&MalformedError{Err: errors.New("x")}, 400},
		{errors.New("disk on fire"), 500},
	}
	for _, tt := range tests {
		if got := HTTPStatus(tt.err); got != tt.want {
			t.Errorf("HTTPStatus(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestLegacyTimestamps(t *testing.T) {
	payload := []byte(`{"action":"rerequested","check_run":{"id":4,"started_at":"2018-04-25 20:42:10","output":{"title":"2018-04-25 20:42:10"}}}`)
	parsed, err := Parse("check_run", payload)
	if err != nil {
		t.Fatal(err)
	}
	ev := parsed.(*github.CheckRunEvent)
	if got, want := ev.GetCheckRun().GetStartedAt().UTC(), time.Date(2018, 4, 25, 20, 42, 10, 0, time.UTC); !got.Equal(want) {
		t.Errorf("started_at = %v, want %v", got, want)
	}
	// Only *_at fields are timestamps; text that looks like one is kept.
	if got := ev.GetCheckRun().GetOutput().GetTitle(); got != "2018-04-25 20:42:10" {
		t.Errorf("title = %q, want it unchanged", got)
	}
	if got := ev.GetCheckRun().GetID(); got != 4 {
		t.Errorf("id = %d, want 4", got)
	}
}

// FuzzRead feeds arbitrary bodies, signed and not, through the intake: it
// must never panic, and it must accept only correctly signed bodies.
func FuzzRead(f *testing.F) {
	f.Add("issue_comment", []byte(`{"action":"created","repository":{"name":"r","owner":{"login":"o"}}}`), true)
	f.Add("check_run", []byte(`{"check_run":{"started_at":"2018-04-25 20:42:10"}}`), true)
	f.Add("push", []byte(`{`), false)
	secret := []byte("s")
	f.Fuzz(func(t *testing.T, event string, body []byte, sign bool) {
		signature := "sha256=00"
		if sign {
			signature = Sign(secret, body)
		}
		in := Intake{MaxBodyBytes: 1 << 16, Secrets: func(string, string) [][]byte { return [][]byte{secret} }}
		d, err := in.Read(deliveryRequest(event, body, signature))
		if err == nil && !sign {
			t.Fatalf("unsigned body accepted: %+v", d)
		}
	})
}
