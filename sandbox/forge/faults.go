package forge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultsPath is the forge's admin endpoint for fault injection, served
// only with Options.FaultInjection: POST adds rules, GET lists them with
// how often each fired, DELETE removes them all.
const FaultsPath = "/_sandbox/faults"

// maxFaultBody bounds the request body a delayed request holds in memory.
const maxFaultBody = 32 << 20

// secondaryLimitDocs is the documentation URL GitHub puts in a secondary
// rate limit's answer; go-github recognises the error by its suffix.
const secondaryLimitDocs = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"

// FaultRule makes the forge misbehave, as GitHub sometimes does, for the
// API requests it matches: it answers an error status instead of serving
// them, or answers late, or both.
type FaultRule struct {
	// ID names the rule; the forge assigns it.
	ID int64 `json:"id,omitempty"`
	// Method is the HTTP method matched; empty matches every method.
	Method string `json:"method,omitempty"`
	// Path is the request path matched, segment by segment: "*" matches
	// one segment and a final "**" the rest of the path, so
	// "/repos/acme/*/statuses/*" matches every commit status of acme's
	// repositories and "/**" every request. The "/api/v3" prefix is
	// stripped before matching.
	Path string `json:"path"`
	// Status answers the request with this status instead of serving it:
	// a 5xx is a server error, 403 or 429 a secondary rate limit. Zero
	// serves the request (after Delay).
	Status int `json:"status,omitempty"`
	// RetryAfter, in seconds, is sent as the Retry-After header with a
	// secondary rate limit, as GitHub does.
	RetryAfter int `json:"retryAfter,omitempty"`
	// Message is the error's message; empty means GitHub's for the
	// status.
	Message string `json:"message,omitempty"`
	// Delay holds the answer back this long (a Go duration, "3s"). A
	// client that gives up first gets no answer, and the request has no
	// effect: it is as if it never reached GitHub.
	Delay Duration `json:"delay,omitzero"`
	// Count is how many requests the rule applies to; 0 means every
	// matching request while the rule lasts.
	Count int `json:"count,omitempty"`
	// For is how long the rule lasts from when it is added (a Go
	// duration); 0 means until Count is used up or the rules are cleared.
	For Duration `json:"for,omitzero"`

	// Hits is how many requests the rule has applied to.
	Hits int `json:"hits"`
	// Until is when the rule expires, when For is set.
	Until time.Time `json:"until,omitzero"`
}

// Duration is a time.Duration written as a Go duration string in JSON.
type Duration struct{ time.Duration }

// MarshalJSON writes the duration as "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "1m30s", or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err := json.Unmarshal(b, &secs); err != nil {
			return errors.New(`a duration is a string such as "1m30s" or a number of seconds`)
		}
		d.Duration = time.Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// IsZero reports a zero duration, for omitzero.
func (d Duration) IsZero() bool { return d.Duration == 0 }

// validate reports a rule that cannot work.
func (r FaultRule) validate() error {
	var errs []error
	if !strings.HasPrefix(r.Path, "/") {
		errs = append(errs, fmt.Errorf("path %q must start with /", r.Path))
	}
	if !slices.Contains(faultMethods, strings.ToUpper(r.Method)) {
		errs = append(errs, fmt.Errorf("method %q is not one of GET, HEAD, POST, PUT, PATCH and DELETE", r.Method))
	}
	if r.Status != 0 && (r.Status < 400 || r.Status > 599) {
		errs = append(errs, fmt.Errorf("status %d is not an error status (400-599)", r.Status))
	}
	if r.Status == 0 && r.Delay.Duration <= 0 {
		errs = append(errs, errors.New("a rule needs a status, a delay or both"))
	}
	if r.RetryAfter < 0 || r.Count < 0 || r.Delay.Duration < 0 || r.For.Duration < 0 {
		errs = append(errs, errors.New("retryAfter, count, delay and for must not be negative"))
	}
	return errors.Join(errs...)
}

// matches reports whether the rule applies to a request.
func (r *FaultRule) matches(method, path string) bool {
	if r.Method != "" && !strings.EqualFold(r.Method, method) {
		return false
	}
	pat := strings.Split(strings.Trim(r.Path, "/"), "/")
	got := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range pat {
		if p == "**" && i == len(pat)-1 {
			return true
		}
		if i >= len(got) || (p != "*" && p != got[i]) {
			return false
		}
	}
	return len(pat) == len(got)
}

// faults holds the active rules.
type faults struct {
	mu     sync.Mutex
	now    func() time.Time
	nextID int64
	rules  []*FaultRule
}

// add validates and adds rules, returning them as stored.
func (fs *faults) add(rules []FaultRule) ([]FaultRule, error) {
	var errs []error
	for i, r := range rules {
		if err := r.validate(); err != nil {
			errs = append(errs, fmt.Errorf("rule %d: %w", i, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]FaultRule, 0, len(rules))
	for _, r := range rules {
		fs.nextID++
		r.ID, r.Hits, r.Until = fs.nextID, 0, time.Time{}
		if r.For.Duration > 0 {
			r.Until = fs.now().Add(r.For.Duration)
		}
		fs.rules = append(fs.rules, &r)
		out = append(out, r)
	}
	return out, nil
}

// list returns the rules, expired ones included until cleared, so that a
// test can read how often each fired.
func (fs *faults) list() []FaultRule {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make([]FaultRule, 0, len(fs.rules))
	for _, r := range fs.rules {
		out = append(out, *r)
	}
	return out
}

func (fs *faults) clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = nil
}

// take finds the first live rule matching a request, counts the hit and
// returns a copy of it.
func (fs *faults) take(method, path string) (FaultRule, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.rules) == 0 {
		return FaultRule{}, false
	}
	now := fs.now()
	for _, r := range fs.rules {
		if (r.Count > 0 && r.Hits >= r.Count) || (!r.Until.IsZero() && !now.Before(r.Until)) {
			continue
		}
		if r.matches(method, path) {
			r.Hits++
			return *r, true
		}
	}
	return FaultRule{}, false
}

// AddFaults adds fault rules (see FaultRule) and returns them with their
// IDs. It works whether or not Options.FaultInjection serves the admin
// endpoint.
func (f *Forge) AddFaults(rules ...FaultRule) ([]FaultRule, error) { return f.faults.add(rules) }

// Faults lists the fault rules with how often each fired.
func (f *Forge) Faults() []FaultRule { return f.faults.list() }

// ClearFaults removes every fault rule.
func (f *Forge) ClearFaults() { f.faults.clear() }

// serveFaultsAdmin serves FaultsPath.
func (f *Forge) serveFaultsAdmin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	switch r.Method {
	case http.MethodGet:
		_ = json.NewEncoder(w).Encode(map[string]any{"rules": f.faults.list()})
	case http.MethodPost:
		var req struct {
			Rules []FaultRule `json:"rules"`
		}
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, errStatus(http.StatusBadRequest, "Problems parsing JSON: "+err.Error()))
			return
		}
		added, err := f.faults.add(req.Rules)
		if err != nil {
			writeError(w, errInvalidMsg(err.Error()))
			return
		}
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"rules": added})
	case http.MethodDelete:
		f.faults.clear()
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeError(w, errStatus(http.StatusMethodNotAllowed, "Method Not Allowed"))
	}
}

// injectFault applies the first rule matching the request, if any. It
// returns true when it answered (or the client left while it waited), and
// false when the request is to be served.
func (f *Forge) injectFault(w http.ResponseWriter, r *http.Request) bool {
	rule, ok := f.faults.take(r.Method, r.URL.Path)
	if !ok {
		return false
	}
	f.log.Info("Injecting a fault", "method", r.Method, "path", r.URL.Path, "rule", rule.ID,
		"status", rule.Status, "delay", rule.Delay.String())
	if d := rule.Delay.Duration; d > 0 {
		// The server notices a client hanging up only once the body is
		// read: read it now, and keep it for serving the request later.
		body, err := io.ReadAll(io.LimitReader(r.Body, maxFaultBody))
		if err != nil {
			return true
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			// The client gave up: the request is dropped unserved.
			t.Stop()
			return true
		}
	}
	if rule.Status == 0 {
		return false
	}
	ae := &apiError{Status: rule.Status, Message: rule.Message}
	switch {
	case rule.Status == http.StatusForbidden || rule.Status == http.StatusTooManyRequests:
		if ae.Message == "" {
			ae.Message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
		}
		ae.DocURL = secondaryLimitDocs
	case ae.Message == "":
		ae.Message = http.StatusText(rule.Status)
		if rule.Status >= 500 {
			ae.Message = "Server Error"
		}
	}
	if rule.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(rule.RetryAfter))
	}
	writeError(w, ae)
	return true
}

// faultMethods are the methods a rule's Method may name.
var faultMethods = []string{"", http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
