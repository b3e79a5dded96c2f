package merge

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/pflag"
)

// Options are the merge role's flags.
type Options struct {
	// StatusURL is the base of the link on tide statuses when
	// tide.target_urls and tide.pr_status_base_urls set none: the address
	// where users reach the web role, followed by /pr.
	StatusURL string
	// Workers bounds the pools synced at once; tide.max_goroutines lowers
	// it.
	Workers int
	// MergeDelay is the pause between the merges of a batch.
	MergeDelay time.Duration
	// RetryDelay is the first pause after GitHub answers "base branch was
	// modified".
	RetryDelay time.Duration
}

// AddFlags registers the flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.StatusURL, "merge-status-url", "", "base of the link on tide statuses (the web role's address followed by /pr) when tide.pr_status_base_urls sets none; empty means no link")
	fs.IntVar(&o.Workers, "merge-workers", DefaultMaxGoroutines, "merge pools synced at once at most (tide.max_goroutines may lower it)")
	fs.DurationVar(&o.MergeDelay, "merge-delay", 5*time.Second, "pause between the merges of a batch, so that GitHub recomputes mergeability (Tide's 5s)")
	fs.DurationVar(&o.RetryDelay, "merge-retry-delay", 4*time.Second, "first pause after GitHub answers that the base branch was modified; it doubles for each of up to three attempts")
}

// Validate reports values that cannot work.
func (o *Options) Validate() error {
	var errs []error
	if o.Workers < 1 {
		errs = append(errs, fmt.Errorf("--merge-workers must be at least 1, not %d", o.Workers))
	}
	if o.MergeDelay < 0 {
		errs = append(errs, fmt.Errorf("--merge-delay must not be negative, not %s", o.MergeDelay))
	}
	if o.RetryDelay < 0 {
		errs = append(errs, fmt.Errorf("--merge-retry-delay must not be negative, not %s", o.RetryDelay))
	}
	if o.StatusURL != "" {
		if u, err := url.Parse(o.StatusURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--merge-status-url must be an absolute http(s) URL, not %q", o.StatusURL))
		}
	}
	return errors.Join(errs...)
}
