// Package webhook is the intake side of GitHub webhooks: it bounds the
// request body, checks the X-Hub-Signature-256 HMAC in constant time, and
// parses the payload into go-github's event type for its X-GitHub-Event.
// The webhook server maps the errors to status codes with HTTPStatus.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
)

// Header names GitHub sets on a delivery.
const (
	HeaderSignature = "X-Hub-Signature-256"
	HeaderEvent     = "X-GitHub-Event"
	HeaderDelivery  = "X-GitHub-Delivery"
)

// DefaultMaxBodyBytes is GitHub's own cap on a webhook payload (25 MB);
// GitHub does not deliver larger ones.
const DefaultMaxBodyBytes int64 = 25 << 20

const signaturePrefix = "sha256="

var (
	// ErrMissingEvent: the request has no X-GitHub-Event header.
	ErrMissingEvent = errors.New("webhook: no " + HeaderEvent + " header")
	// ErrMissingSignature: the request has no X-Hub-Signature-256 header.
	ErrMissingSignature = errors.New("webhook: no " + HeaderSignature + " header")
	// ErrInvalidSignature: the signature does not match any accepted secret.
	ErrInvalidSignature = errors.New("webhook: signature does not match")
	// ErrNoSecret: no secret is configured for the delivery's org or repo,
	// so it cannot be authenticated.
	ErrNoSecret = errors.New("webhook: no secret configured for this delivery")
)

// BodyTooLargeError reports a body over the size limit; HTTPStatus maps it
// to 413.
type BodyTooLargeError struct {
	// Limit is the largest accepted body, in bytes.
	Limit int64
}

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("webhook: body larger than %d bytes", e.Limit)
}

// MalformedError reports a payload that cannot be decoded; HTTPStatus maps
// it to 400.
type MalformedError struct {
	Err error
}

func (e *MalformedError) Error() string { return "webhook: malformed payload: " + e.Err.Error() }
func (e *MalformedError) Unwrap() error { return e.Err }

// Delivery is one authenticated webhook delivery.
type Delivery struct {
	// ID is X-GitHub-Delivery, unique per delivery and kept on redelivery.
	ID string
	// Event is X-GitHub-Event: pull_request, issue_comment, push …
	Event string
	// Action is the payload's action (opened, created …), empty for events
	// without one.
	Action string
	// Org is the repository's owner, or the organization for org-level
	// events; empty when the payload has neither.
	Org string
	// Repo is the repository's name without its owner; empty for org-level
	// events.
	Repo string
	// Payload is the JSON payload as GitHub sent it.
	Payload []byte
	// Parsed is go-github's type for Event (*github.PullRequestEvent …), or
	// nil for an event type go-github does not know, which callers should
	// acknowledge and ignore.
	Parsed any
}

// Intake reads deliveries.
type Intake struct {
	// MaxBodyBytes bounds the request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Secrets returns the HMAC secrets accepted for a delivery concerning
	// org and repo (either may be empty). More than one lets a secret be
	// rotated without dropping deliveries.
	Secrets func(org, repo string) [][]byte
}

// Read authenticates and parses the delivery in r. The body is read in
// full, so callers may reply before handing the Delivery on.
func (in *Intake) Read(r *http.Request) (*Delivery, error) {
	event := r.Header.Get(HeaderEvent)
	if event == "" {
		return nil, ErrMissingEvent
	}
	signature := r.Header.Get(HeaderSignature)
	if signature == "" {
		return nil, ErrMissingSignature
	}
	limit := in.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	body, err := ReadBody(r, limit)
	if err != nil {
		return nil, err
	}
	payload, err := payloadOf(r.Header.Get("Content-Type"), body)
	if err != nil {
		return nil, err
	}
	var head payloadHead
	if err := json.Unmarshal(payload, &head); err != nil {
		return nil, &MalformedError{Err: err}
	}
	org, repo := head.orgRepo()
	// The secret is chosen from the unauthenticated payload; nothing else
	// in it is trusted until the signature matches.
	var secrets [][]byte
	if in.Secrets != nil {
		secrets = in.Secrets(org, repo)
	}
	if err := ValidateSignature(signature, body, secrets); err != nil {
		return nil, err
	}
	parsed, err := Parse(event, payload)
	if err != nil {
		return nil, err
	}
	return &Delivery{
		ID:      r.Header.Get(HeaderDelivery),
		Event:   event,
		Action:  head.Action,
		Org:     org,
		Repo:    repo,
		Payload: payload,
		Parsed:  parsed,
	}, nil
}

// ReadBody reads r's body, failing with *BodyTooLargeError beyond limit
// bytes without reading further.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &BodyTooLargeError{Limit: limit}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("webhook: read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, &BodyTooLargeError{Limit: limit}
	}
	return body, nil
}

// Sign returns the X-Hub-Signature-256 value GitHub sends for body.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// ValidateSignature checks an X-Hub-Signature-256 value against body with
// each secret, in constant time.
func ValidateSignature(signature string, body []byte, secrets [][]byte) error {
	if signature == "" {
		return ErrMissingSignature
	}
	if len(secrets) == 0 {
		return ErrNoSecret
	}
	hexSum, ok := strings.CutPrefix(signature, signaturePrefix)
	if !ok {
		return ErrInvalidSignature
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return ErrInvalidSignature
	}
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		if hmac.Equal(got, mac.Sum(nil)) {
			return nil
		}
	}
	return ErrInvalidSignature
}

// Parse decodes payload into go-github's type for event. It returns nil
// and no error for an event type go-github does not know. Timestamps in
// GitHub's older "2006-01-02 15:04:05" form are accepted too.
func Parse(event string, payload []byte) (any, error) {
	if github.EventForType(event) == nil {
		return nil, nil
	}
	parsed, err := github.ParseWebHook(event, payload)
	var timeErr *time.ParseError
	if errors.As(err, &timeErr) {
		if normalized, ok := normalizeTimestamps(payload); ok {
			parsed, err = github.ParseWebHook(event, normalized)
		}
	}
	if err != nil {
		return nil, &MalformedError{Err: err}
	}
	return parsed, nil
}

// HTTPStatus is the response code for an error from Read: 413 for a body
// over the limit, 403 for a bad or missing signature, 400 for a malformed
// request, 500 otherwise, and 200 for nil.
func HTTPStatus(err error) int {
	var tooLarge *BodyTooLargeError
	var malformed *MalformedError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrMissingSignature), errors.Is(err, ErrInvalidSignature), errors.Is(err, ErrNoSecret):
		return http.StatusForbidden
	case errors.Is(err, ErrMissingEvent), errors.As(err, &malformed):
		return http.StatusBadRequest
	default:
		return http.StatusInternalServerError
	}
}

// payloadOf returns the JSON payload: the body itself, or its "payload"
// field when the hook is configured for form encoding.
func payloadOf(contentType string, body []byte) ([]byte, error) {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "application/x-www-form-urlencoded" {
		return body, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &MalformedError{Err: err}
	}
	return []byte(form.Get("payload")), nil
}

// payloadHead is the part of every payload that says what it is about.
type payloadHead struct {
	Action     string `json:"action"`
	Repository *struct {
		Name  string `json:"name"`
		Owner struct {
			Login string `json:"login"`
		} `json:"owner"`
	} `json:"repository"`
	Organization *struct {
		Login string `json:"login"`
	} `json:"organization"`
}

func (h payloadHead) orgRepo() (org, repo string) {
	if h.Repository != nil {
		return h.Repository.Owner.Login, h.Repository.Name
	}
	if h.Organization != nil {
		return h.Organization.Login, ""
	}
	return "", ""
}
