// Package webhook is the intake side of GitHub webhooks: it bounds the
// request body, checks the X-Hub-Signature-256 HMAC in constant time, and
// parses the payload into go-github's event type for its X-GitHub-Event.
// The webhook server maps the errors to status codes with HTTPStatus.
package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v89/github"
	"golang.org/x/sync/semaphore"
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
	// Body is the request body as GitHub sent it, which the signature
	// covers: Payload itself, or the form that holds it.
	Body []byte
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
	// AllSecrets, when set, returns every secret Secrets may return, so
	// that the signature is computed while the body is read (one pass,
	// nothing to compute once the body is in) rather than afterwards.
	AllSecrets func() [][]byte
	// Budget, when set, bounds the bytes of bodies being read that are not
	// authenticated yet, across all requests: a body that would exceed it
	// is refused with ErrBusy before it is read (or as soon as it grows
	// past it, for bodies without a Content-Length).
	Budget *Budget
}

// ErrBusy: the budget of unauthenticated bytes is spent; HTTPStatus maps it
// to 503, and GitHub's delivery may be redelivered later.
var ErrBusy = errors.New("webhook: too many unauthenticated bytes in flight")

// ErrInconsistentRepository: the payload names its repository in ways
// that disagree (full_name, owner and name, or the organization). The
// secret and the route must come from the same name, so such a payload is
// refused rather than guessed at.
var ErrInconsistentRepository = errors.New("webhook: the payload's repository fields disagree")

// Budget is a byte budget shared by concurrent reads.
type Budget struct {
	sem   *semaphore.Weighted
	limit int64
	used  atomic.Int64
}

// NewBudget returns a budget of limit bytes.
func NewBudget(limit int64) *Budget {
	return &Budget{sem: semaphore.NewWeighted(limit), limit: limit}
}

// InUse reports the bytes reserved now.
func (b *Budget) InUse() int64 { return b.used.Load() }

func (b *Budget) tryAcquire(n int64) bool {
	if n > b.limit || !b.sem.TryAcquire(n) {
		return false
	}
	b.used.Add(n)
	return true
}

func (b *Budget) release(n int64) {
	if n > 0 {
		b.used.Add(-n)
		b.sem.Release(n)
	}
}

// readChunk is how much of a body without a Content-Length is reserved
// from the budget at a time.
const readChunk = 32 << 10

// Read authenticates and parses the delivery in r. The body is read in
// full, so callers may reply before handing the Delivery on.
//
// The secret is chosen by the repository the payload names, and the
// Delivery's Org and Repo are that same name: the repository's full_name,
// which must agree with its owner.login and name, and with a pull
// request's base repository (ErrInconsistentRepository otherwise). So a payload signed with one org's secret can never be routed
// as another org's event.
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
	var hashers []secretHash
	if in.AllSecrets != nil {
		hashers = newHashers(in.AllSecrets())
	}
	body, err := in.readBody(r, limit, hashers)
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
	org, repo, err := head.orgRepo()
	if err != nil {
		return nil, err
	}
	// Nothing in the payload is trusted until the signature matches one of
	// the secrets of the repository it names.
	var secrets [][]byte
	if in.Secrets != nil {
		secrets = in.Secrets(org, repo)
	}
	if hashers != nil {
		err = validateStreamed(signature, hashers, secrets)
	} else {
		err = ValidateSignature(signature, body, secrets)
	}
	if err != nil {
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
		Body:    body,
		Parsed:  parsed,
	}, nil
}

// readBody reads the body within limit and the budget, feeding hashers as
// it goes. The buffer's capacity is what is reserved: a body with a
// Content-Length reserves it (plus one byte, to notice a longer body) up
// front; one without grows by doubling from 32 KiB, reserving each growth.
// The budget is released when the body has been read: what follows
// (checking the signature) holds it no longer than the caller does.
func (in *Intake) readBody(r *http.Request, limit int64, hashers []secretHash) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &BodyTooLargeError{Limit: limit}
	}
	var reserved int64
	if in.Budget != nil {
		defer func() { in.Budget.release(reserved) }()
	}
	var body []byte
	src := io.LimitReader(r.Body, limit+1)
	for {
		if len(body) == cap(body) {
			size := 2 * int64(cap(body))
			switch {
			case cap(body) == 0 && r.ContentLength >= 0:
				size = r.ContentLength + 1
			case size < readChunk:
				size = readChunk
			}
			size = min(size, limit+1)
			if in.Budget != nil && size > reserved {
				if !in.Budget.tryAcquire(size - reserved) {
					return nil, ErrBusy
				}
				reserved = size
			}
			grown := make([]byte, len(body), size)
			copy(grown, body)
			body = grown
		}
		n, err := src.Read(body[len(body):cap(body)])
		if n > 0 {
			for _, h := range hashers {
				h.mac.Write(body[len(body) : len(body)+n])
			}
			body = body[:len(body)+n]
		}
		if int64(len(body)) > limit {
			return nil, &BodyTooLargeError{Limit: limit}
		}
		if errors.Is(err, io.EOF) {
			return body, nil
		}
		if err != nil {
			return nil, fmt.Errorf("webhook: read body: %w", err)
		}
	}
}

// ReadBody reads r's body, failing with *BodyTooLargeError beyond limit
// bytes without reading further.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	return (&Intake{}).readBody(r, limit, nil)
}

// secretHash is the HMAC of a body under one secret, computed as it is read.
type secretHash struct {
	secret []byte
	mac    hash.Hash
}

// maxStreamedSecrets bounds the HMACs computed while reading; with more
// distinct secrets configured, the one for the payload's repository is
// computed after reading instead.
const maxStreamedSecrets = 16

func newHashers(secrets [][]byte) []secretHash {
	var out []secretHash
	for _, s := range secrets {
		if len(s) == 0 || slices.ContainsFunc(out, func(h secretHash) bool { return bytes.Equal(h.secret, s) }) {
			continue
		}
		if len(out) == maxStreamedSecrets {
			return nil
		}
		out = append(out, secretHash{secret: s, mac: hmac.New(sha256.New, s)})
	}
	if out == nil {
		// No secret at all: nothing to stream, ErrNoSecret follows.
		return nil
	}
	return out
}

// validateStreamed checks the signature against the HMACs of the accepted
// secrets, computed while reading.
func validateStreamed(signature string, hashers []secretHash, accepted [][]byte) error {
	if len(accepted) == 0 {
		return ErrNoSecret
	}
	got, err := signatureBytes(signature)
	if err != nil {
		return err
	}
	for _, h := range hashers {
		if !slices.ContainsFunc(accepted, func(s []byte) bool { return len(s) > 0 && bytes.Equal(s, h.secret) }) {
			continue
		}
		if hmac.Equal(got, h.mac.Sum(nil)) {
			return nil
		}
	}
	return ErrInvalidSignature
}

func signatureBytes(signature string) ([]byte, error) {
	hexSum, ok := strings.CutPrefix(signature, signaturePrefix)
	if !ok {
		return nil, ErrInvalidSignature
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return nil, ErrInvalidSignature
	}
	return got, nil
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
	got, err := signatureBytes(signature)
	if err != nil {
		return err
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
// request or inconsistent repository fields, 503 when the budget of
// unauthenticated bytes is spent, 500 otherwise, and 200 for nil.
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
	case errors.Is(err, ErrMissingEvent), errors.Is(err, ErrInconsistentRepository), errors.As(err, &malformed):
		return http.StatusBadRequest
	case errors.Is(err, ErrBusy):
		return http.StatusServiceUnavailable
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
		Name     string `json:"name"`
		FullName string `json:"full_name"`
		Owner    struct {
			Login string `json:"login"`
			// Name is the owner's login in push events' repository.
			Name string `json:"name"`
		} `json:"owner"`
	} `json:"repository"`
	Organization *struct {
		Login string `json:"login"`
	} `json:"organization"`
	// PullRequest's base repository is the repository of pull request
	// events, and what plugins read the repository from.
	PullRequest *struct {
		Base struct {
			Repo *struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"base"`
	} `json:"pull_request"`
}

// orgRepo is the repository the payload is about, from the one field that
// names it (full_name, or owner and name in payloads without it), after
// checking that the other fields naming it agree: its owner and name, and a
// pull request's base repository. The organization of a payload with a
// repository is not used for anything (GitHub's own examples pair
// repositories with other organizations).
func (h payloadHead) orgRepo() (org, repo string, err error) {
	if r := h.Repository; r != nil {
		owner := r.Owner.Login
		if owner == "" {
			owner = r.Owner.Name
		}
		org, repo = owner, r.Name
		if r.FullName != "" {
			o, n, ok := strings.Cut(r.FullName, "/")
			if !ok || o == "" || n == "" || strings.Contains(n, "/") {
				return "", "", ErrInconsistentRepository
			}
			org, repo = o, n
		}
		if !sameName(owner, org) || !sameName(r.Name, repo) || (r.Owner.Login != "" && r.Owner.Name != "" && !strings.EqualFold(r.Owner.Login, r.Owner.Name)) {
			return "", "", ErrInconsistentRepository
		}
		if pr := h.PullRequest; pr != nil && pr.Base.Repo != nil && pr.Base.Repo.FullName != "" &&
			!strings.EqualFold(pr.Base.Repo.FullName, org+"/"+repo) {
			return "", "", ErrInconsistentRepository
		}
		return org, repo, nil
	}
	if h.Organization != nil {
		return h.Organization.Login, "", nil
	}
	return "", "", nil
}

// sameName compares a field with the name taken from full_name; an absent
// field does not disagree. GitHub names are case-insensitive.
func sameName(field, name string) bool {
	return field == "" || strings.EqualFold(field, name)
}
