// Package ui is bowline's web UI: the pages of Prow's Deck (the runs, a
// run with its log, test results and artifacts, a pull request's runs and
// merge queue verdict, a job's history, the command and plugin help, the
// configuration's status and the merge pools), rendered on the server from
// html/template, with a little hand-written JavaScript for live updates and
// nothing fetched from elsewhere: templates, style sheet and script are
// embedded in the binary. Every link works without JavaScript.
//
// The pages are public and read-only, as Deck's are, unless RequireLogin is
// set. Rerunning and aborting runs needs a GitHub login (Auth) and the
// permission of deck.rerun_auth_configs, which the JSON API decides (one
// implementation for both). Runs of hidden jobs and of deck.hidden_repos
// are never shown.
package ui

import (
	"context"
	"embed"
	"net/http"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/web/api"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Page paths. The JSON API keeps its own (/api/…, /prowjobs.js).
const (
	RunsPath        = "/"
	RunPathPrefix   = "/runs/"
	PRPathPrefix    = "/pr/"
	HistoryPrefix   = "/job-history/"
	CommandHelpPath = "/command-help"
	PluginsPath     = "/plugins"
	ConfigPath      = "/config-status"
	PoolsPath       = "/merge-pools"
	EventsPath      = "/events"
	StaticPrefix    = "/static/"
)

// Handler serves the UI.
type Handler struct {
	// API reads runs, logs and artifacts, and decides who may rerun and
	// abort what: the UI shows what the API serves, no more.
	API *api.Handler
	// Client reads MergePools and ConfigRepositories, normally from the
	// manager's cache.
	Client client.Reader
	// ConfigRepository is the ConfigRepository whose status the
	// configuration page shows.
	ConfigRepository types.NamespacedName
	// Settings returns what the pages take from the applied
	// configuration; nil uses the defaults.
	Settings func() Settings
	// PluginHelp returns the plugin help of the webhook server; nil says
	// the help is not available here.
	PluginHelp func(ctx context.Context) (*plugin.ProwHelp, error)
	// PRStatus answers /pr/<org>/<repo>/<number> to clients that do not
	// ask for HTML (the merge controller's JSON); nil answers 406.
	PRStatus http.Handler
	// Auth logs users in with GitHub; nil means nobody can log in, and
	// only jobs that anyone may rerun can be rerun.
	Auth *Auth
	// Events streams changes of runs to open pages; nil turns live
	// updates off (pages still reload by hand).
	Events *Broker
	// PageSize is how many runs a page lists; default 100.
	PageSize int
	// Now is the clock; default time.Now.
	Now func() time.Time

	once  sync.Once
	mux   *http.ServeMux
	pages *pages
}

// Settings are what the pages take from the applied configuration.
type Settings struct {
	// LinkURL is github.link_url: where links to repositories, commits
	// and pull requests lead. Default https://github.com.
	LinkURL string
}

func (h *Handler) settings() Settings {
	var s Settings
	if h.Settings != nil {
		s = h.Settings()
	}
	if s.LinkURL == "" {
		s.LinkURL = "https://github.com"
	}
	s.LinkURL = strings.TrimSuffix(s.LinkURL, "/")
	return s
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) pageSize() int {
	if h.PageSize > 0 {
		return h.PageSize
	}
	return 100
}

// ServeHTTP routes a request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(h.init)
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) init() {
	h.pages = mustParsePages()
	mux := http.NewServeMux()
	page := func(pattern string, fn http.HandlerFunc) { mux.Handle(pattern, h.secure(fn)) }
	page("GET /{$}", h.runs)
	page("GET "+RunPathPrefix+"{namespace}/{name}", h.run)
	page("GET "+RunPathPrefix+"{namespace}/{name}/log", h.logChunk)
	page("GET "+RunPathPrefix+"{namespace}/{name}/artifacts/{dir...}", h.artifacts)
	page("POST "+RunPathPrefix+"{namespace}/{name}/rerun", h.act(actRerun))
	page("POST "+RunPathPrefix+"{namespace}/{name}/abort", h.act(actAbort))
	page("GET "+PRPathPrefix+"{org}/{repo}/{number}", h.pullRequest)
	page("GET /pr-history", h.prHistoryRedirect)
	page("GET /pr", h.dashboard)
	page("GET "+HistoryPrefix+"{job}", h.jobHistory)
	page("GET "+CommandHelpPath, h.commandHelp)
	page("GET "+PluginsPath, h.plugins)
	page("GET "+ConfigPath, h.configStatus)
	page("GET "+PoolsPath, h.pools)
	page("GET /tide", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, PoolsPath, http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET "+EventsPath, h.events)
	mux.Handle("GET "+StaticPrefix, staticHandler())
	if h.Auth != nil {
		h.Auth.routes(mux, h.secure)
	}
	mux.Handle("/", h.secure(func(w http.ResponseWriter, r *http.Request) {
		h.renderError(w, r, http.StatusNotFound, "There is no page here.")
	}))
	h.mux = mux
}

// secure sets the headers of every page: nothing but the UI's own files may
// load or run, the page is not framed, and it is not cached. POSTs must
// come from the UI's own pages (the browser's Sec-Fetch-Site and Origin
// headers say where a request comes from; Deck protects its forms the same
// way); forms also carry the session's token (Auth).
func (h *Handler) secure(fn http.HandlerFunc) http.Handler {
	cop := http.NewCrossOriginProtection()
	return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		fn(w, r)
	}))
}
