package automation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bowline-ci/bowline/automation/plugin"
	"github.com/bowline-ci/bowline/scm/webhook"
)

// Paths served by Handler.
const (
	HookPath       = "/hook"
	PluginHelpPath = "/plugin-help"
	// APIPluginHelpPath serves the plugin help in Prow's JSON shape.
	APIPluginHelpPath = "/api/plugin-help"
)

// Deps are what the server works with, constructed by the caller.
type Deps struct {
	// Plugins are the plugins that may be enabled, in the order they run.
	Plugins []plugin.Plugin
	// Always are handlers run for every event of the types they declare,
	// whatever plugins.yaml says (the ConfigRepository push handler, for
	// one). They run before the plugins.
	Always []plugin.Plugin
	// Enablement gives plugins.yaml of the applied config revision.
	Enablement plugin.EnablementSource
	// Secrets validate deliveries.
	Secrets SecretSource
	// Registerer receives the server's metrics.
	Registerer prometheus.Registerer
	// Log is the server's logger.
	Log logr.Logger
	// ExternalClient forwards deliveries to external plugins; default a
	// plain http.Client (each attempt is bounded by --hook-handle-timeout).
	ExternalClient *http.Client
	// PublicRepo, when set, decides which repositories plugin help may
	// name: it is served to anyone, so private repositories (and
	// deck.hidden_repos) are left out of it. Nil names every repository
	// plugins.yaml lists.
	PublicRepo PublicRepoFunc
}

// Server receives GitHub webhooks and runs plugins on them.
type Server struct {
	opts    Options
	plugins *plugin.Set
	always  []plugin.Plugin
	enable  plugin.EnablementSource
	secrets SecretSource
	metrics *metrics
	log     logr.Logger
	known   map[string]bool
	intake  *webhook.Intake
	// reading bounds the requests being read and authenticated at once.
	reading chan struct{}
	// seen deduplicates deliveries; nil when deduplication is off.
	seen *deliveries
	// public filters the repositories plugin help names.
	public PublicRepoFunc
	// external forwards deliveries to external plugins.
	external *http.Client

	// mu guards closed and the send side of queue: deliveries are
	// enqueued under the read lock, and shutdown closes the queue under
	// the write lock.
	mu          sync.RWMutex
	closed      bool
	queue       chan *item
	queuedBytes atomic.Int64

	workCtx    context.Context
	cancelWork context.CancelFunc
	workers    sync.WaitGroup
	startOnce  sync.Once
	stopOnce   sync.Once
}

// item is one accepted delivery waiting for a worker.
type item struct {
	decoded  plugin.Decoded
	size     int64
	received time.Time
	// externals are the external plugins the delivery goes to, and fwd
	// what they receive; nil without any.
	externals []ExternalPlugin
	fwd       *forwarded
}

// NewServer builds a server; Start runs it, or mount Handler on a server of
// your own and call Shutdown when it stops.
func NewServer(opts Options, deps Deps) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if deps.Secrets == nil {
		return nil, errors.New("webhook secrets are required")
	}
	if deps.Enablement == nil {
		return nil, errors.New("a plugin enablement source is required")
	}
	if deps.Registerer == nil {
		deps.Registerer = prometheus.NewRegistry()
	}
	set, err := plugin.NewSet(deps.Plugins...)
	if err != nil {
		return nil, err
	}
	if _, err := plugin.NewSet(deps.Always...); err != nil {
		return nil, err
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	known := map[string]bool{}
	for _, t := range github.MessageTypes() {
		known[t] = true
	}
	budget := webhook.NewBudget(opts.MaxUnverifiedBytes)
	m.unverified = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "bowline_webhook_unverified_bytes",
		Help: "Bytes of webhook bodies being read whose signature is not checked yet.",
	}, func() float64 { return float64(budget.InUse()) })
	if err := deps.Registerer.Register(m.unverified); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts: opts, plugins: set, always: slices.Clone(deps.Always), enable: deps.Enablement,
		secrets: deps.Secrets, metrics: m, log: deps.Log.WithName("hook"), known: known,
		queue: make(chan *item, opts.QueueSize), workCtx: ctx, cancelWork: cancel,
		intake:   &webhook.Intake{MaxBodyBytes: opts.MaxBodyBytes, Secrets: deps.Secrets.Secrets, Budget: budget},
		reading:  make(chan struct{}, opts.MaxUnverifiedRequests),
		public:   deps.PublicRepo,
		external: deps.ExternalClient,
	}
	if s.external == nil {
		s.external = &http.Client{}
	}
	if all, ok := deps.Secrets.(interface{ AllSecrets() [][]byte }); ok {
		s.intake.AllSecrets = all.AllSecrets
	}
	if opts.DedupWindow > 0 {
		s.seen = newDeliveries(opts.DedupWindow, maxRememberedDeliveries, time.Now)
	}
	return s, nil
}

// NeedLeaderElection is false: every replica serves webhooks.
func (s *Server) NeedLeaderElection() bool { return false }

// Start listens on Options.Addr and serves until ctx is done, then stops
// accepting deliveries and drains the queue for the grace period. It
// implements controller-runtime's manager.Runnable.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Start on a listener of the caller's.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.StartWorkers()
	srv := NewHTTPServer(s.Handler())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("Serving webhooks", "addr", ln.Addr().String())
	var serveErr error
	select {
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	grace, cancel := context.WithTimeout(context.Background(), s.opts.GracePeriod)
	defer cancel()
	if serveErr != nil {
		s.Shutdown(grace)
		return fmt.Errorf("serve webhooks: %w", serveErr)
	}
	// Stop reading new deliveries first, so that none is accepted after
	// the queue is closed; then drain.
	_ = srv.Shutdown(grace)
	s.Shutdown(grace)
	return nil
}

// Timeouts of the HTTP servers bowline runs (NewHTTPServer). GitHub gives
// up on a delivery after 10 seconds, so a request that takes longer to
// arrive is not GitHub's.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = time.Minute
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 64 << 10
)

// NewHTTPServer is an http.Server with bowline's timeouts, so that slow or
// idle clients cannot hold connections and memory: headers within 10s,
// the whole request within 30s, idle keep-alive connections closed after
// 2m, headers at most 64 KiB.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler: h, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout, MaxHeaderBytes: MaxHeaderBytes,
	}
}

// Handler serves HookPath, PluginHelpPath and APIPluginHelpPath, and starts the worker pool
// that handles what it accepts; Shutdown stops it.
func (s *Server) Handler() http.Handler {
	s.StartWorkers()
	mux := http.NewServeMux()
	mux.HandleFunc(HookPath, s.serveHook)
	mux.HandleFunc(PluginHelpPath, s.servePluginHelp)
	mux.HandleFunc("GET "+APIPluginHelpPath, s.serveProwHelp)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "bowline webhook server: POST GitHub webhooks to", HookPath)
	})
	return mux
}

func (s *Server) servePluginHelp(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.plugins.HelpIndex(s.helpEnablement(r.Context())))
}

func (s *Server) serveProwHelp(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.ProwHelp(r.Context()))
}

// ProwHelp is the document APIPluginHelpPath serves, for the web UI when it
// runs in the same process.
func (s *Server) ProwHelp(ctx context.Context) plugin.ProwHelp {
	return s.plugins.ProwHelp(s.helpEnablement(ctx))
}

// helpEnablement is the enablement plugin help shows: without the private
// repositories, which anonymous readers are not told about.
func (s *Server) helpEnablement(ctx context.Context) plugin.Enablement {
	en := s.enable.Enablement()
	if en == nil || s.public == nil {
		return en
	}
	return publicOnly{Enablement: en, ctx: ctx, public: s.public}
}

// eventLabel bounds the event label of metrics to the event types GitHub
// documents: the header is read before the signature is checked.
func (s *Server) eventLabel(t string) string {
	if s.known[t] {
		return t
	}
	return "unknown"
}

func (s *Server) serveHook(w http.ResponseWriter, r *http.Request) {
	label := s.eventLabel(r.Header.Get(webhook.HeaderEvent))
	log := s.log.WithValues("event", label, "delivery", r.Header.Get(webhook.HeaderDelivery))
	reply := func(code int, outcome, msg string) {
		s.metrics.events.WithLabelValues(label, outcome).Inc()
		http.Error(w, msg, code)
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(http.StatusMethodNotAllowed, OutcomeMalformed, "webhooks are POSTed")
		return
	}
	select {
	case s.reading <- struct{}{}:
	default:
		log.Info("Rejected a webhook: too many requests being read", "limit", s.opts.MaxUnverifiedRequests)
		w.Header().Set("Retry-After", "10")
		reply(http.StatusServiceUnavailable, OutcomeBusy, "busy, redeliver later")
		return
	}
	d, err := s.intake.Read(r)
	<-s.reading
	if err != nil {
		var tooLarge *webhook.BodyTooLargeError
		switch {
		case errors.As(err, &tooLarge):
			log.Info("Rejected an oversized webhook", "limit", s.opts.MaxBodyBytes)
			reply(http.StatusRequestEntityTooLarge, OutcomeTooLarge, "payload too large")
		case errors.Is(err, webhook.ErrBusy):
			log.Info("Rejected a webhook: too many unverified bytes being read", "limit", s.opts.MaxUnverifiedBytes)
			w.Header().Set("Retry-After", "10")
			reply(http.StatusServiceUnavailable, OutcomeBusy, "busy, redeliver later")
		case errors.Is(err, webhook.ErrMissingSignature), errors.Is(err, webhook.ErrInvalidSignature), errors.Is(err, webhook.ErrNoSecret):
			// Nothing in the payload is trusted, so nothing of it is logged.
			log.Info("Rejected a webhook with a missing or bad signature", "reason", err.Error())
			reply(http.StatusUnauthorized, OutcomeBadSignature, "bad signature")
		case errors.Is(err, webhook.ErrInconsistentRepository):
			log.Info("Rejected a webhook whose repository fields disagree")
			reply(http.StatusBadRequest, OutcomeMalformed, "inconsistent repository")
		case webhook.HTTPStatus(err) == http.StatusBadRequest:
			log.Info("Rejected a malformed webhook", "error", err.Error())
			reply(http.StatusBadRequest, OutcomeMalformed, "malformed payload")
		default:
			log.Error(err, "Could not read a webhook")
			reply(http.StatusInternalServerError, OutcomeMalformed, "could not read the delivery")
		}
		return
	}
	var externals []ExternalPlugin
	if d.Event != "ping" {
		externals = externalsFor(s.enable.Enablement(), d.Org, d.Repo, d.Event)
	}
	if (d.Parsed == nil && len(externals) == 0) || d.Event == "ping" {
		reply(http.StatusOK, OutcomeIgnored, "nothing to do for this event")
		return
	}
	if !s.seen.claim(d.ID) {
		log.Info("Ignored a delivery already accepted")
		reply(http.StatusOK, OutcomeDuplicate, "delivery already accepted")
		return
	}
	it := &item{decoded: plugin.Decode(d.Event, d.ID, d.Parsed), received: time.Now()}
	// The route is the repository the signature was checked for, whatever
	// else the payload says.
	it.decoded.Event.Org, it.decoded.Event.Repo = d.Org, d.Repo
	if c := it.decoded.Comment; c != nil {
		c.Org, c.Repo = d.Org, d.Repo
	}
	it.size = parsedSize(d.Parsed)
	if c := it.decoded.Comment; c != nil && c.Comment != nil {
		it.size += parsedSize(c.Comment)
	}
	if len(externals) > 0 {
		// Kept only for external plugins: what GitHub sent, to pass on.
		it.externals, it.fwd = externals, forwardedOf(r, d.Body)
		it.size += int64(cap(d.Body))
	}
	switch s.enqueue(it) {
	case errQueueFull:
		s.seen.release(d.ID)
		log.Info("Rejected a webhook: the queue is full; it stays in the hook's recent deliveries on GitHub for redelivery")
		w.Header().Set("Retry-After", "10")
		reply(http.StatusServiceUnavailable, OutcomeQueueFull, "queue full, redeliver later")
	case errClosed:
		s.seen.release(d.ID)
		w.Header().Set("Retry-After", "10")
		reply(http.StatusServiceUnavailable, OutcomeShuttingDown, "shutting down, redeliver later")
	default:
		s.metrics.events.WithLabelValues(label, OutcomeAccepted).Inc()
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, "accepted\n")
	}
}

var (
	errQueueFull = errors.New("queue full")
	errClosed    = errors.New("shutting down")
)

func (s *Server) enqueue(it *item) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed
	}
	if s.queuedBytes.Add(it.size) > s.opts.MaxQueuedBytes {
		s.queuedBytes.Add(-it.size)
		return errQueueFull
	}
	select {
	case s.queue <- it:
		s.metrics.queueDepth.Inc()
		return nil
	default:
		s.queuedBytes.Add(-it.size)
		return errQueueFull
	}
}
