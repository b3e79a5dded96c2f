package ghclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v89/github"
	"golang.org/x/time/rate"
	"k8s.io/utils/clock"
)

// Defaults for the zero values of Options.
const (
	DefaultBaseURL             = "https://api.github.com/"
	DefaultUploadURL           = "https://uploads.github.com/"
	DefaultTokenRefreshMargin  = 5 * time.Minute
	DefaultCacheMaxBytes       = 64 << 20
	DefaultCacheMaxEntries     = 50_000
	DefaultCacheMaxEntryBytes  = 4 << 20
	DefaultMaxRetries          = 5
	DefaultInitialBackoff      = time.Second
	DefaultMaxBackoff          = time.Minute
	DefaultSecondaryWait       = time.Minute
	DefaultMaxWait             = 65 * time.Minute
	DefaultRateLimitReserve    = 20
	DefaultRequestTimeout      = 2 * time.Minute
	defaultUserAgent           = "bowline"
	enterpriseAPIPathSuffix    = "/api/v3/"
	enterpriseUploadPathSuffix = "/api/uploads/"
)

// Secret is a credential. It prints, marshals and logs as "[redacted]" so
// that an Options value can be logged or wrapped in an error safely.
type Secret string

const redacted = "[redacted]"

// String implements fmt.Stringer.
func (Secret) String() string { return redacted }

// GoString implements fmt.GoStringer, for %#v.
func (Secret) GoString() string { return redacted }

// MarshalText keeps secrets out of JSON and YAML renderings.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Options configures a Client. Zero values take the Default… constants.
type Options struct {
	// BaseURL is the REST API root. Empty means api.github.com; for GitHub
	// Enterprise Server it is https://HOST/api/v3/.
	BaseURL string
	// UploadURL is the uploads API root. Empty means uploads.github.com for
	// api.github.com, https://HOST/api/uploads/ when BaseURL ends in /api/v3/,
	// and BaseURL otherwise (the sandbox forge serves both on one root).
	UploadURL string

	// Token is a personal access token. Set either Token or AppID and
	// AppPrivateKey; with neither, requests are anonymous.
	Token Secret
	// AppID is the GitHub App's ID.
	AppID int64
	// AppPrivateKey is the App's PEM-encoded RSA private key.
	AppPrivateKey Secret
	// TokenRefreshMargin is how long before expiry an installation token is
	// replaced.
	TokenRefreshMargin time.Duration

	// CacheMaxBytes bounds the ETag cache's size.
	CacheMaxBytes int64
	// CacheMaxEntries bounds the ETag cache's number of responses.
	CacheMaxEntries int
	// CacheMaxEntryBytes is the largest response body that is cached.
	CacheMaxEntryBytes int64

	// MaxRetries is how many times one request is retried (5xx, secondary
	// or primary rate limit, connection errors); negative means never.
	MaxRetries int
	// InitialBackoff and MaxBackoff bound the exponential backoff.
	InitialBackoff, MaxBackoff time.Duration
	// SecondaryWait is the least time waited after a secondary rate limit
	// that came without Retry-After; GitHub asks for at least a minute.
	SecondaryWait time.Duration
	// MaxWait is the longest single wait (backoff, Retry-After or primary
	// rate-limit reset); a longer one fails the request instead.
	MaxWait time.Duration
	// RateLimitReserve: when GitHub reports this many requests or fewer
	// remaining, requests wait for the window to reset.
	RateLimitReserve int
	// Budget caps this process's requests, shared by all its components; see
	// NewBudget. Revalidations answered 304 are not charged. Nil: no budget.
	Budget *rate.Limiter

	// Metrics receives the client's measurements; nil keeps them unregistered.
	Metrics *Metrics
	// Transport sends requests; nil means a clone of http.DefaultTransport.
	Transport http.RoundTripper
	// RequestTimeout bounds the wait for one attempt's response headers when
	// Transport is nil. It is per attempt, not per call: a call may wait
	// much longer for a rate limit to reset.
	RequestTimeout time.Duration
	// UserAgent is sent with every request.
	UserAgent string

	// Clock and Sleep let tests control time; nil means the real ones.
	Clock clock.PassiveClock
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0,1) that spreads backoff; nil means random.
	Jitter func() float64
}

// NewBudget returns a token bucket allowing perHour requests an hour, with
// a burst of a minute's worth, for Options.Budget. Give the same bucket to
// every Client of a process.
func NewBudget(perHour int) *rate.Limiter {
	burst := max(perHour/60, 1)
	return rate.NewLimiter(rate.Limit(float64(perHour)/3600), burst)
}

// Validate reports options that cannot work. Its errors never contain a
// credential.
func (o *Options) Validate() error {
	var errs []error
	if o.Token != "" && (o.AppID != 0 || o.AppPrivateKey != "") {
		errs = append(errs, errors.New("set either a token or a GitHub App, not both"))
	}
	if (o.AppID != 0) != (o.AppPrivateKey != "") {
		errs = append(errs, errors.New("a GitHub App needs both an app ID and a private key"))
	}
	if o.AppID < 0 {
		errs = append(errs, fmt.Errorf("app ID must be positive, not %d", o.AppID))
	}
	for _, u := range []struct{ name, raw string }{{"base URL", o.BaseURL}, {"upload URL", o.UploadURL}} {
		if u.raw == "" {
			continue
		}
		parsed, err := url.Parse(u.raw)
		if err != nil {
			// url's errors quote the input, which may hold a password.
			errs = append(errs, fmt.Errorf("%s is not a URL", u.name))
			continue
		}
		if (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" {
			errs = append(errs, fmt.Errorf("%s %s must be an absolute http(s) URL", u.name, MaskURL(u.raw)))
		}
	}
	for _, n := range []struct {
		name string
		v    int64
	}{
		{"cache max bytes", o.CacheMaxBytes}, {"cache max entries", int64(o.CacheMaxEntries)},
		{"cache max entry bytes", o.CacheMaxEntryBytes}, {"rate-limit reserve", int64(o.RateLimitReserve)},
	} {
		if n.v < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative, not %d", n.name, n.v))
		}
	}
	return errors.Join(errs...)
}

// withDefaults returns o with its zero values filled in.
func (o Options) withDefaults() Options {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
		if o.UploadURL == "" {
			o.UploadURL = DefaultUploadURL
		}
	}
	if !strings.HasSuffix(o.BaseURL, "/") {
		o.BaseURL += "/"
	}
	if o.UploadURL == "" {
		o.UploadURL = o.BaseURL
		if strings.HasSuffix(o.BaseURL, enterpriseAPIPathSuffix) {
			o.UploadURL = strings.TrimSuffix(o.BaseURL, enterpriseAPIPathSuffix) + enterpriseUploadPathSuffix
		}
	}
	if !strings.HasSuffix(o.UploadURL, "/") {
		o.UploadURL += "/"
	}
	setDefault(&o.TokenRefreshMargin, DefaultTokenRefreshMargin)
	setDefault(&o.CacheMaxBytes, DefaultCacheMaxBytes)
	setDefault(&o.CacheMaxEntries, DefaultCacheMaxEntries)
	setDefault(&o.CacheMaxEntryBytes, DefaultCacheMaxEntryBytes)
	setDefault(&o.MaxRetries, DefaultMaxRetries)
	setDefault(&o.InitialBackoff, DefaultInitialBackoff)
	setDefault(&o.MaxBackoff, DefaultMaxBackoff)
	setDefault(&o.SecondaryWait, DefaultSecondaryWait)
	setDefault(&o.MaxWait, DefaultMaxWait)
	setDefault(&o.RateLimitReserve, DefaultRateLimitReserve)
	setDefault(&o.RequestTimeout, DefaultRequestTimeout)
	setDefault(&o.UserAgent, defaultUserAgent)
	if o.Transport == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = o.RequestTimeout
		// Go keeps 2 idle connections per host by default: with more
		// requests in flight than that, every other request would open
		// (and TLS-handshake) a new connection. GitHub allows 100
		// concurrent requests per token.
		tr.MaxIdleConnsPerHost = maxIdleConnsPerHost
		o.Transport = tr
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o
}

// maxIdleConnsPerHost is how many idle connections the default transport
// keeps to one host.
const maxIdleConnsPerHost = 100

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Client hands out go-github clients that share one cache, one set of rate
// limit observations and one budget. It is safe for concurrent use.
type Client struct {
	opts    Options
	metrics *Metrics
	cache   *lruCache
	flights *flightGroup
	// wire is the shared bottom of every stack: metrics, then the network.
	wire http.RoundTripper
	app  *appAuth

	// apiHosts receive credentials; other hosts (redirect targets) do not.
	apiHosts map[string]bool

	mu       sync.Mutex
	byTarget map[string]*github.Client
}

// New builds a Client. It makes no request: installation tokens are minted
// on first use.
func New(opts Options) (*Client, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("github client options: %w", err)
	}
	o := opts.withDefaults()
	metrics := o.Metrics
	if metrics == nil {
		var err error
		if metrics, err = NewMetrics(nil); err != nil {
			return nil, err
		}
	}
	base, err := url.Parse(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("github base URL %s: %w", MaskURL(o.BaseURL), err)
	}
	upload, err := url.Parse(o.UploadURL)
	if err != nil {
		return nil, fmt.Errorf("github upload URL %s: %w", MaskURL(o.UploadURL), err)
	}
	c := &Client{
		opts:     o,
		metrics:  metrics,
		cache:    newLRUCache(o.CacheMaxBytes, o.CacheMaxEntries),
		flights:  &flightGroup{},
		wire:     &instrumentTransport{next: o.Transport, metrics: metrics, clock: o.Clock, prefix: base.Path},
		apiHosts: map[string]bool{base.Host: true, upload.Host: true},
		byTarget: map[string]*github.Client{},
	}
	if o.AppID != 0 {
		if c.app, err = newAppAuth(o, c.wire); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ForOrg returns the go-github client to use for org's repositories. With a
// token every org shares one client; as a GitHub App each org gets a client
// authenticated with that org's installation token. The installation is
// looked up and its token minted on the first request, with that request's
// context, so ForOrg itself makes no request. It fails only for an empty org
// when the Client is a GitHub App.
func (c *Client) ForOrg(org string) (*github.Client, error) {
	id, err := c.identityFor(org)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gh, ok := c.byTarget[id.cacheKey]; ok {
		return gh, nil
	}
	gh, err := c.newGitHubClient(id)
	if err != nil {
		return nil, err
	}
	c.byTarget[id.cacheKey] = gh
	return gh, nil
}

// Token returns the credential for org, for git over HTTPS: the personal
// access token, or a current installation token. It is empty for anonymous
// clients. Callers must not log it.
func (c *Client) Token(ctx context.Context, org string) (string, error) {
	id, err := c.identityFor(org)
	if err != nil {
		return "", err
	}
	return id.source.token(ctx)
}

// BaseURL is the REST API root requests go to.
func (c *Client) BaseURL() string { return c.opts.BaseURL }

// identity is who a request is sent as: the cache, the rate-limit state and
// the tokens-remaining gauge are kept per identity.
type identity struct {
	// cacheKey is unique per credential and never contains one.
	cacheKey string
	// label is the bounded, non-secret metrics label.
	label  string
	source tokenSource
}

func (c *Client) identityFor(org string) (identity, error) {
	switch {
	case c.app != nil:
		if org == "" {
			return identity{}, errors.New("a GitHub App client needs an org to pick the installation")
		}
		org = strings.ToLower(org)
		return identity{
			cacheKey: fmt.Sprintf("app/%d/%s", c.opts.AppID, org),
			label:    "installation/" + org,
			source:   orgTokenSource{app: c.app, org: org},
		}, nil
	case c.opts.Token != "":
		sum := sha256.Sum256([]byte(c.opts.Token))
		return identity{
			cacheKey: "token/" + hex.EncodeToString(sum[:8]),
			label:    "token",
			source:   staticToken(c.opts.Token),
		}, nil
	default:
		return identity{cacheKey: "anonymous", label: "anonymous", source: staticToken("")}, nil
	}
}

// newGitHubClient assembles one identity's transport stack, outermost first:
// cache and coalescing (so concurrent callers share retries too), retries,
// rate limits and budget (so every attempt is paced), authentication (so a
// retry picks up a refreshed token), then the shared metrics and network.
func (c *Client) newGitHubClient(id identity) (*github.Client, error) {
	o := c.opts
	pace := pacer{clock: o.Clock, sleep: o.Sleep, metrics: c.metrics}
	var rt http.RoundTripper = &authTransport{next: c.wire, source: id.source, hosts: c.apiHosts}
	rt = &rateTransport{
		next: rt, identity: id.label, state: &rateState{windows: map[string]rateWindow{}}, reserve: o.RateLimitReserve,
		budget: o.Budget, maxWait: o.MaxWait, pacer: pace,
	}
	rt = &retryTransport{
		next: rt, maxRetries: o.MaxRetries, initial: o.InitialBackoff, max: o.MaxBackoff,
		secondaryWait: o.SecondaryWait, maxWait: o.MaxWait, jitter: o.Jitter, pacer: pace,
	}
	rt = &cacheTransport{
		next: rt, identity: id.cacheKey, cache: c.cache, flights: c.flights,
		maxEntryBytes: o.CacheMaxEntryBytes, metrics: c.metrics,
	}
	gh, err := github.NewClient(
		// No http.Client timeout: it would cover rate-limit waits too.
		github.WithHTTPClient(&http.Client{Transport: rt}),
		github.WithURLs(&o.BaseURL, &o.UploadURL),
		github.WithUserAgent(o.UserAgent),
		// This transport waits for rate limits itself; go-github's own
		// check would fail requests that the transport would have delayed.
		github.WithDisableRateLimitCheck(),
	)
	if err != nil {
		return nil, fmt.Errorf("github client for %s: %w", MaskURL(o.BaseURL), err)
	}
	return gh, nil
}

// MaskURL returns raw with any password or token in it replaced, for logs
// and errors.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redacted
	}
	if u.User != nil {
		if _, hasPassword := u.User.Password(); hasPassword {
			u.User = url.UserPassword(u.User.Username(), redacted)
		} else {
			u.User = url.User(redacted)
		}
	}
	if q := u.Query(); len(q) > 0 {
		changed := false
		for k := range q {
			switch strings.ToLower(k) {
			case "token", "access_token", "client_secret", "private_key", "jwt":
				q.Set(k, redacted)
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
