package webhook

import (
	"bytes"
	"errors"
	"io"
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
				if inconsistentExamples[ev.Name()+"/"+filepath.Base(f)] {
					// Its repository's owner is not its full_name's: the
					// shape of a forged event. It is refused, and parses.
					if !errors.Is(err, ErrInconsistentRepository) {
						t.Fatalf("Read = %v, want ErrInconsistentRepository", err)
					}
					if _, err := Parse(ev.Name(), payload); err != nil {
						t.Fatalf("Parse: %v", err)
					}
					parsed++
					return
				}
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

// inconsistentExamples are GitHub's examples whose repository.owner.login
// (Octocoders) is not the owner in repository.full_name (Codertocat): GitHub
// composed them from parts, and a real delivery never disagrees so.
var inconsistentExamples = map[string]bool{
	"repository/privatized.with-organization.payload.json": true,
	"repository/publicized.with-organization.payload.json": true,
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
			// Streamed: the HMACs of every configured secret are computed
			// while the body is read; the answer must be the same.
			streamed := in
			streamed.AllSecrets = func() [][]byte { return [][]byte{[]byte("other-org"), secret, old} }
			streamedReq := deliveryRequest(tt.event, body, signature)
			streamedReq.Header = req.Header.Clone()
			ds, errS := streamed.Read(streamedReq)
			d, err := in.Read(req)
			if HTTPStatus(err) != HTTPStatus(errS) || (d == nil) != (ds == nil) {
				t.Errorf("streamed HMAC answers %v, after reading %v", errS, err)
			}
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

// TestCrossOrgForgery performs the attack: a payload signed with org
// evil's secret that names the repository acme/widgets. Before the secret
// and the route came from the same field, owner.login chose evil's secret
// while full_name routed the event to acme.
func TestCrossOrgForgery(t *testing.T) {
	secrets := map[string][]byte{"evil": []byte("evil-secret"), "acme": []byte("acme-secret")}
	in := Intake{
		Secrets:    func(org, _ string) [][]byte { return [][]byte{secrets[org]} },
		AllSecrets: func() [][]byte { return [][]byte{secrets["evil"], secrets["acme"]} },
	}
	tests := []struct {
		name string
		body string
		want int
	}{
		{"owner.login names the signer's org, full_name the victim's",
			`{"action":"created","comment":{"body":"/ok-to-test"},"issue":{"number":1},"repository":{"name":"widgets","full_name":"acme/widgets","owner":{"login":"evil"}}}`, 400},
		{"name disagrees with full_name",
			`{"action":"created","repository":{"name":"tools","full_name":"acme/widgets","owner":{"login":"acme"}}}`, 400},
		{"push owner.name disagrees with owner.login",
			`{"ref":"refs/heads/main","repository":{"name":"widgets","full_name":"acme/widgets","owner":{"login":"acme","name":"evil"}}}`, 400},
		{"pull request's base repository is another",
			`{"action":"opened","number":1,"pull_request":{"base":{"repo":{"full_name":"evil/widgets"}}},"repository":{"name":"widgets","full_name":"acme/widgets","owner":{"login":"acme"}}}`, 400},
		{"consistent, but signed with another org's secret",
			`{"action":"created","repository":{"name":"widgets","full_name":"acme/widgets","owner":{"login":"acme"}}}`, 403},
		{"full_name without an owner",
			`{"action":"created","repository":{"name":"widgets","full_name":"widgets","owner":{"login":"evil"}}}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			d, err := in.Read(deliveryRequest("issue_comment", body, Sign(secrets["evil"], body)))
			if got := HTTPStatus(err); got != tt.want || d != nil {
				t.Errorf("Read = %v (%d), want %d", err, got, tt.want)
			}
		})
	}
	// The victim's own, consistent delivery is accepted and routed to it.
	body := []byte(`{"action":"created","repository":{"name":"widgets","full_name":"acme/widgets","owner":{"login":"acme"}}}`)
	d, err := in.Read(deliveryRequest("issue_comment", body, Sign(secrets["acme"], body)))
	if err != nil || d.Org != "acme" || d.Repo != "widgets" {
		t.Errorf("Read = %+v, %v", d, err)
	}
}

// TestBudget: bodies not yet authenticated share a byte budget; beyond it,
// a request is refused before its body is read (ErrBusy, 503).
func TestBudget(t *testing.T) {
	secret := []byte("s")
	body := []byte(`{"action":"created","repository":{"name":"r","full_name":"o/r","owner":{"login":"o"}}}`)
	budget := NewBudget(200)
	in := Intake{Budget: budget, Secrets: func(string, string) [][]byte { return [][]byte{secret} }}

	if _, err := in.Read(deliveryRequest("issues", body, Sign(secret, body))); err != nil {
		t.Fatalf("a body within the budget: %v", err)
	}
	if budget.InUse() != 0 {
		t.Fatalf("budget holds %d bytes after the read", budget.InUse())
	}
	// Another read holds 150 bytes: the next body does not fit.
	if !budget.tryAcquire(150) {
		t.Fatal("reserve")
	}
	if _, err := in.Read(deliveryRequest("issues", body, Sign(secret, body))); !errors.Is(err, ErrBusy) || HTTPStatus(err) != 503 {
		t.Errorf("over the budget: %v", err)
	}
	// Without a Content-Length, the body is refused as it grows past it.
	req := deliveryRequest("issues", body, Sign(secret, body))
	req.ContentLength = -1
	req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body)))
	if _, err := in.Read(req); !errors.Is(err, ErrBusy) {
		t.Errorf("chunked over the budget: %v", err)
	}
	budget.release(150)
	req = deliveryRequest("issues", body, Sign(secret, body))
	req.ContentLength = -1
	req.Body = io.NopCloser(bytes.NewReader(body))
	if _, err := (&Intake{Budget: NewBudget(readChunk), Secrets: in.Secrets}).Read(req); err != nil {
		t.Errorf("chunked within the budget: %v", err)
	}
	if budget.InUse() != 0 {
		t.Errorf("budget holds %d bytes", budget.InUse())
	}
}
