package automation

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// Options configure the webhook server.
type Options struct {
	// Addr is where Start listens, e.g. ":8888".
	Addr string
	// HMACSecretFile holds the webhook secrets: a single token, or Prow's
	// format, a YAML map from "*", "org" or "org/repo" to a list of
	// {value, created_at}.
	HMACSecretFile string
	// MaxBodyBytes caps a delivery's size; larger ones get 413. GitHub caps
	// payloads at 25 MiB.
	MaxBodyBytes int64
	// QueueSize caps the events accepted but not yet handled; beyond it
	// deliveries get 503.
	QueueSize int
	// MaxQueuedBytes caps the payload bytes held by queued events, so that
	// a burst of large payloads cannot exhaust memory either.
	MaxQueuedBytes int64
	// Workers handle queued events in parallel.
	Workers int
	// MaxAttempts is how many times a plugin's handling of one event is
	// tried when it fails transiently.
	MaxAttempts int
	// RetryBackoff is the delay before the first retry; it doubles with
	// each further attempt, up to MaxRetryBackoff.
	RetryBackoff    time.Duration
	MaxRetryBackoff time.Duration
	// HandleTimeout bounds one plugin's handling of one event.
	HandleTimeout time.Duration
	// GracePeriod is how long shutdown waits for queued events to be
	// handled before it gives up and logs their delivery IDs. It must end
	// before the process's own shutdown timeout, which must end before the
	// pod's terminationGracePeriodSeconds (docs/webhooks.md).
	GracePeriod time.Duration
	// MaxUnverifiedBytes bounds the bytes of request bodies read but not
	// yet authenticated, across all requests; beyond it, deliveries get
	// 503 before their body is read.
	MaxUnverifiedBytes int64
	// MaxUnverifiedRequests bounds the requests whose bodies are being read
	// and authenticated at once; beyond it, deliveries get 503.
	MaxUnverifiedRequests int
	// DedupWindow is how long a delivery ID is remembered: a delivery
	// replayed within it is answered 200 and not handled again. 0 turns
	// deduplication off.
	DedupWindow time.Duration
}

// DefaultGracePeriod is how long shutdown drains the webhook queue by
// default: within the operator's default --shutdown-timeout (25s), itself
// within Kubernetes' default terminationGracePeriodSeconds (30s).
const DefaultGracePeriod = 20 * time.Second

// DefaultOptions are the defaults of the flags.
func DefaultOptions() Options {
	return Options{
		Addr:            ":8888",
		MaxBodyBytes:    25 << 20,
		QueueSize:       1000,
		MaxQueuedBytes:  256 << 20,
		Workers:         32,
		MaxAttempts:     5,
		RetryBackoff:    250 * time.Millisecond,
		MaxRetryBackoff: 10 * time.Second,
		HandleTimeout:   2 * time.Minute,
		GracePeriod:     DefaultGracePeriod,

		MaxUnverifiedBytes:    64 << 20,
		MaxUnverifiedRequests: 64,
		DedupWindow:           time.Hour,
	}
}

// AddFlags adds the server's flags, with o's values as defaults.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Addr, "hook-addr", o.Addr, "Address the webhook server listens on.")
	fs.StringVar(&o.HMACSecretFile, "hmac-secret-file", o.HMACSecretFile, "File with the webhook HMAC secret(s): one token, or Prow's YAML map of '*', org and org/repo to tokens.")
	fs.Int64Var(&o.MaxBodyBytes, "hook-max-body-bytes", o.MaxBodyBytes, "Largest webhook payload accepted; larger ones are answered 413.")
	fs.IntVar(&o.QueueSize, "hook-queue-size", o.QueueSize, "Events accepted but not yet handled; beyond this, deliveries are answered 503.")
	fs.Int64Var(&o.MaxQueuedBytes, "hook-max-queued-bytes", o.MaxQueuedBytes, "Payload bytes held by queued events; beyond this, deliveries are answered 503.")
	fs.IntVar(&o.Workers, "hook-workers", o.Workers, "Events handled in parallel.")
	fs.IntVar(&o.MaxAttempts, "hook-max-attempts", o.MaxAttempts, "Attempts per plugin and event when handling fails transiently.")
	fs.DurationVar(&o.RetryBackoff, "hook-retry-backoff", o.RetryBackoff, "Delay before the first retry; doubles per attempt.")
	fs.DurationVar(&o.MaxRetryBackoff, "hook-max-retry-backoff", o.MaxRetryBackoff, "Longest delay between retries.")
	fs.DurationVar(&o.HandleTimeout, "hook-handle-timeout", o.HandleTimeout, "Time one plugin may spend on one event.")
	fs.DurationVar(&o.GracePeriod, "hook-grace-period", o.GracePeriod, "Time shutdown waits for queued events before logging their delivery IDs for redelivery; must be shorter than --shutdown-timeout.")
	fs.Int64Var(&o.MaxUnverifiedBytes, "hook-max-unverified-bytes", o.MaxUnverifiedBytes, "Request body bytes being read before their signature is checked, across all requests; beyond this, deliveries are answered 503.")
	fs.IntVar(&o.MaxUnverifiedRequests, "hook-max-unverified-requests", o.MaxUnverifiedRequests, "Requests whose bodies are being read and checked at once; beyond this, deliveries are answered 503.")
	fs.DurationVar(&o.DedupWindow, "hook-dedup-window", o.DedupWindow, "How long a delivery ID is remembered so that a replayed delivery is not handled twice; 0 turns this off.")
}

// Validate reports every invalid setting.
func (o *Options) Validate() error {
	var errs []error
	positive := func(name string, v int64) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %d", name, v))
		}
	}
	if o.Addr == "" {
		errs = append(errs, errors.New("hook-addr must be set"))
	}
	positive("hook-max-body-bytes", o.MaxBodyBytes)
	positive("hook-queue-size", int64(o.QueueSize))
	positive("hook-max-queued-bytes", o.MaxQueuedBytes)
	positive("hook-workers", int64(o.Workers))
	positive("hook-max-attempts", int64(o.MaxAttempts))
	positive("hook-retry-backoff", int64(o.RetryBackoff))
	positive("hook-handle-timeout", int64(o.HandleTimeout))
	if o.MaxRetryBackoff < o.RetryBackoff {
		errs = append(errs, fmt.Errorf("hook-max-retry-backoff (%s) must be at least hook-retry-backoff (%s)", o.MaxRetryBackoff, o.RetryBackoff))
	}
	if o.GracePeriod < 0 {
		errs = append(errs, fmt.Errorf("hook-grace-period must not be negative, got %s", o.GracePeriod))
	}
	positive("hook-max-unverified-requests", int64(o.MaxUnverifiedRequests))
	if o.MaxUnverifiedBytes <= o.MaxBodyBytes {
		errs = append(errs, fmt.Errorf("hook-max-unverified-bytes (%d) must be larger than hook-max-body-bytes (%d)", o.MaxUnverifiedBytes, o.MaxBodyBytes))
	}
	if o.DedupWindow < 0 {
		errs = append(errs, fmt.Errorf("hook-dedup-window must not be negative, got %s", o.DedupWindow))
	}
	if o.MaxQueuedBytes > 0 && o.MaxBodyBytes > o.MaxQueuedBytes {
		errs = append(errs, fmt.Errorf("hook-max-queued-bytes (%d) must be at least hook-max-body-bytes (%d)", o.MaxQueuedBytes, o.MaxBodyBytes))
	}
	return errors.Join(errs...)
}
