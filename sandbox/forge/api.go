package forge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const docsURL = "https://docs.github.com/rest"

// apiError is an error answer in GitHub's shape.
type apiError struct {
	Status  int          `json:"-"`
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors,omitempty"`
	DocURL  string       `json:"documentation_url"`
}

type fieldError struct {
	Resource string `json:"resource,omitempty"`
	Field    string `json:"field,omitempty"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

func errNotFound() error { return &apiError{Status: http.StatusNotFound, Message: "Not Found"} }

func errForbidden(msg string) error {
	return &apiError{Status: http.StatusForbidden, Message: msg}
}

func errStatus(code int, msg string) error { return &apiError{Status: code, Message: msg} }

// errInvalid is GitHub's 422 "Validation Failed" with one field error.
func errInvalid(resource, field, code string) error {
	return &apiError{Status: http.StatusUnprocessableEntity, Message: "Validation Failed",
		Errors: []fieldError{{Resource: resource, Field: field, Code: code}}}
}

func errInvalidMsg(msg string) error {
	return &apiError{Status: http.StatusUnprocessableEntity, Message: msg}
}

// call is one API request being served.
type call struct {
	f   *Forge
	w   http.ResponseWriter
	r   *http.Request
	who principal
}

type handlerFunc func(c *call) error

func (c *call) param(name string) string { return c.r.PathValue(name) }

func (c *call) intParam(name string) (int, error) {
	n, err := strconv.Atoi(c.r.PathValue(name))
	if err != nil || n <= 0 {
		return 0, errNotFound()
	}
	return n, nil
}

func (c *call) int64Param(name string) (int64, error) {
	n, err := strconv.ParseInt(c.r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, errNotFound()
	}
	return n, nil
}

func (c *call) query(name string) string { return c.r.URL.Query().Get(name) }

// decode reads a JSON body; an empty body leaves v as it is.
func (c *call) decode(v any) error {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, 25<<20))
	if err != nil {
		return errStatus(http.StatusBadRequest, "Problems reading body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errStatus(http.StatusBadRequest, "Problems parsing JSON")
	}
	return nil
}

func (c *call) json(code int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	c.w.WriteHeader(code)
	_, _ = c.w.Write(append(b, '\n'))
	return nil
}

func (c *call) ok(v any) error      { return c.json(http.StatusOK, v) }
func (c *call) created(v any) error { return c.json(http.StatusCreated, v) }
func (c *call) noContent() error {
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{Status: http.StatusInternalServerError, Message: "Server Error"}
	}
	if ae.DocURL == "" {
		ae.DocURL = docsURL
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(ae.Status)
	_ = json.NewEncoder(w).Encode(ae)
}

// paginate slices items by the page and per_page parameters and sets the
// Link header as GitHub does.
func paginate[T any](c *call, items []T) []T {
	perPage, _ := strconv.Atoi(c.query("per_page"))
	if perPage <= 0 {
		perPage = 30
	}
	if perPage > 100 {
		perPage = 100
	}
	page, _ := strconv.Atoi(c.query("page"))
	if page <= 0 {
		page = 1
	}
	last := (len(items) + perPage - 1) / perPage
	if last == 0 {
		last = 1
	}
	setLinks(c, page, last)
	start := (page - 1) * perPage
	if start >= len(items) {
		return []T{}
	}
	end := min(start+perPage, len(items))
	return items[start:end]
}

func setLinks(c *call, page, last int) {
	if last <= 1 {
		return
	}
	link := func(p int, rel string) string {
		u := *c.r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(p))
		u.RawQuery = q.Encode()
		u.Path = strings.TrimPrefix(u.Path, "/api/v3")
		return fmt.Sprintf("<%s%s>; rel=%q", c.f.URL(), (&url.URL{Path: u.Path, RawQuery: u.RawQuery}).String(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	c.w.Header().Set("Link", strings.Join(links, ", "))
}

// bufferedWriter holds a response so that the ETag can be computed from the
// body and a 304 sent instead.
type bufferedWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.body.Write(p)
}
func (b *bufferedWriter) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}

func etagMatches(header, etag string) bool {
	for _, candidate := range strings.Split(header, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == etag || candidate == "*" {
			return true
		}
	}
	return false
}
