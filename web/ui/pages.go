package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// pages are the parsed templates, one set per page: each page defines
// "title" and "content" and is executed through layout.html.
type pages struct {
	byName map[string]*template.Template
}

// assetVersion is a digest of the embedded static files: links to them
// carry it, so that browsers cache them for good and still see a new
// version at once.
var assetVersion = func() string {
	h := sha256.New()
	_ = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := staticFS.ReadFile(p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

var funcs = template.FuncMap{
	"asset":     func(name string) string { return StaticPrefix + name + "?v=" + assetVersion },
	"stateIcon": stateIcon,
	"since":     since,
	"rfc3339":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"utc":       func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"dur":       fmtDuration,
	"short":     shortSHA,
	"bytes":     fmtBytes,
	"num":       fmtNum,
	"query":     query,
	"pathEsc":   url.PathEscape,
	"add":       func(a, b int) int { return a + b },
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
	"join": strings.Join,
	"code": backticks,
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
}

func mustParsePages() *pages {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || strings.HasPrefix(base, "_") {
			continue
		}
		t := template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", n))
		p.byName[strings.TrimSuffix(base, ".html")] = t
	}
	return p
}

// view is what every page gets: the page's own data in Data.
type view struct {
	Title string
	// Nav is the menu entry of the page.
	Nav  string
	User string
	// CSRF is the session's form token; empty without a session.
	CSRF string
	// LoginURL logs in and comes back here; empty when nobody can log in.
	LoginURL string
	// Live says the page updates itself (live.js).
	Live bool
	Data any
}

func (h *Handler) view(r *http.Request, title, nav string, data any) *view {
	v := &view{Title: title, Nav: nav, Data: data}
	if h.Auth != nil {
		if s := h.Auth.session(r); s != nil {
			v.User, v.CSRF = s.Login, s.CSRF
		}
		v.LoginURL = LoginPath + "?" + url.Values{"dest": {r.URL.RequestURI()}}.Encode()
	}
	return v
}

// render executes a page (or one of its fragments, by template name) into
// a buffer first, so that a template error is a clean 500.
func (h *Handler) render(w http.ResponseWriter, code int, page, tmpl string, v *view) {
	t := h.pages.byName[page]
	if t == nil {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	if tmpl == "" {
		tmpl = "layout.html"
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, tmpl, v); err != nil {
		http.Error(w, "cannot render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

// renderError answers an error as a page.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, code int, msg string) {
	h.render(w, code, "error", "", h.view(r, http.StatusText(code), "", struct {
		Code int
		Msg  string
	}{code, msg}))
}

// fragment reports whether the request asks for a part of a page (the
// live updates fetch them), and which.
func fragment(r *http.Request) string { return r.URL.Query().Get("fragment") }

func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix(StaticPrefix, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") == assetVersion {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}

// runState is a run's state, triggered before the job controller saw it.
func runState(pj *v1alpha1.ProwJob) v1alpha1.ProwJobState {
	if pj.Status.State == "" {
		return v1alpha1.TriggeredState
	}
	return pj.Status.State
}

// stateIcon is a symbol for a state, shown beside its name: states are
// never told by colour alone.
func stateIcon(s v1alpha1.ProwJobState) string {
	switch s {
	case v1alpha1.SuccessState:
		return "✓"
	case v1alpha1.FailureState:
		return "✗"
	case v1alpha1.PendingState:
		return "●"
	case v1alpha1.AbortedState:
		return "⊘"
	case v1alpha1.ErrorState:
		return "!"
	}
	return "○"
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < 0:
		return ""
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// since says how long ago t was, roughly.
func since(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

func shortSHA(s string) string {
	if len(s) > 7 {
		return s[:7]
	}
	return s
}

func fmtBytes(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1024*1024))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1024*1024*1024))
}

// fmtNum writes thousands with commas.
func fmtNum(n int) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	b.WriteString(s[:pre])
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// backticks shows the `code` of plugin help texts (written in Markdown's
// way) as code; the rest is escaped.
func backticks(s string) template.HTML {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 {
		// An odd number of backticks: not code.
		return template.HTML(template.HTMLEscapeString(s)) //nolint:gosec // escaped
	}
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 {
			b.WriteString("<code>" + template.HTMLEscapeString(p) + "</code>")
		} else {
			b.WriteString(template.HTMLEscapeString(p))
		}
	}
	return template.HTML(b.String()) //nolint:gosec // escaped
}

// query builds a query string from pairs, leaving out empty values.
func query(kv ...any) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		k := fmt.Sprint(kv[i])
		val := fmt.Sprint(kv[i+1])
		if val != "" && val != "0" {
			v.Set(k, val)
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}
