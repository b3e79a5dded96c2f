package ghclient

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Flags are the command-line settings for a Client. Credentials are read
// from files (mounted Secrets), never passed as flag values, which would
// show in process listings.
type Flags struct {
	// Endpoint is the REST API root; empty means api.github.com.
	Endpoint string
	// UploadEndpoint is the uploads API root; empty derives it from Endpoint.
	UploadEndpoint string
	// TokenPath is a file holding a personal access token.
	TokenPath string
	// AppID and AppPrivateKeyPath select GitHub App authentication.
	AppID             int64
	AppPrivateKeyPath string
	// HourlyBudget caps this process's requests an hour; 0 means no cap.
	HourlyBudget int
	// CacheMaxBytes bounds the ETag cache.
	CacheMaxBytes int64
	// RateLimitReserve is the remaining count at which requests wait for
	// GitHub's rate-limit window to reset.
	RateLimitReserve int
	// RequestTimeout bounds the wait for one attempt's response headers;
	// an attempt that times out is retried as a connection error is.
	RequestTimeout time.Duration
}

// AddFlags registers the flags on fs.
func (f *Flags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.Endpoint, "github-endpoint", "", "GitHub REST API root; empty means https://api.github.com/, Enterprise Server is https://HOST/api/v3/")
	fs.StringVar(&f.UploadEndpoint, "github-upload-endpoint", "", "GitHub uploads API root; empty derives it from --github-endpoint")
	fs.StringVar(&f.TokenPath, "github-token-path", "", "file holding a GitHub personal access token")
	fs.Int64Var(&f.AppID, "github-app-id", 0, "GitHub App ID, with --github-app-private-key-path")
	fs.StringVar(&f.AppPrivateKeyPath, "github-app-private-key-path", "", "file holding the GitHub App's PEM private key")
	fs.IntVar(&f.HourlyBudget, "github-hourly-budget", 0, "most GitHub requests this process sends an hour (304 revalidations are free); 0 means no cap")
	fs.Int64Var(&f.CacheMaxBytes, "github-cache-max-bytes", DefaultCacheMaxBytes, "size bound of the GitHub ETag cache")
	fs.IntVar(&f.RateLimitReserve, "github-rate-limit-reserve", DefaultRateLimitReserve, "wait for GitHub's rate limit to reset when this many requests or fewer remain")
	fs.DurationVar(&f.RequestTimeout, "github-request-timeout", DefaultRequestTimeout, "longest wait for GitHub's answer to one attempt of a request; reads that time out are tried again")
}

// Validate reports flag values that cannot work.
func (f *Flags) Validate() error {
	var errs []error
	if f.TokenPath != "" && (f.AppID != 0 || f.AppPrivateKeyPath != "") {
		errs = append(errs, errors.New("--github-token-path and --github-app-id are exclusive"))
	}
	if (f.AppID != 0) != (f.AppPrivateKeyPath != "") {
		errs = append(errs, errors.New("--github-app-id and --github-app-private-key-path go together"))
	}
	if f.AppID < 0 {
		errs = append(errs, fmt.Errorf("--github-app-id must be positive, not %d", f.AppID))
	}
	if f.HourlyBudget < 0 {
		errs = append(errs, fmt.Errorf("--github-hourly-budget must not be negative, not %d", f.HourlyBudget))
	}
	if f.CacheMaxBytes < 0 {
		errs = append(errs, fmt.Errorf("--github-cache-max-bytes must not be negative, not %d", f.CacheMaxBytes))
	}
	if f.RequestTimeout < 0 {
		errs = append(errs, fmt.Errorf("--github-request-timeout must not be negative, not %s", f.RequestTimeout))
	}
	if f.RateLimitReserve < 0 {
		errs = append(errs, fmt.Errorf("--github-rate-limit-reserve must not be negative, not %d", f.RateLimitReserve))
	}
	o := Options{BaseURL: f.Endpoint, UploadURL: f.UploadEndpoint}
	if err := o.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Options reads the credential files and returns the Client options; the
// caller adds Metrics. Each call creates a new budget, so call it once per
// process.
func (f *Flags) Options() (Options, error) {
	if err := f.Validate(); err != nil {
		return Options{}, err
	}
	o := Options{
		BaseURL:          f.Endpoint,
		UploadURL:        f.UploadEndpoint,
		AppID:            f.AppID,
		CacheMaxBytes:    f.CacheMaxBytes,
		RateLimitReserve: f.RateLimitReserve,
		RequestTimeout:   f.RequestTimeout,
	}
	if f.HourlyBudget > 0 {
		o.Budget = NewBudget(f.HourlyBudget)
	}
	if f.TokenPath != "" {
		tok, err := readSecret(f.TokenPath)
		if err != nil {
			return Options{}, err
		}
		o.Token = tok
	}
	if f.AppPrivateKeyPath != "" {
		key, err := readSecret(f.AppPrivateKeyPath)
		if err != nil {
			return Options{}, err
		}
		o.AppPrivateKey = key
	}
	return o, nil
}

// readSecret reads a credential file; its errors name the file, never its
// content.
func readSecret(path string) (Secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read github credential: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("github credential file %s is empty", path)
	}
	return Secret(s), nil
}
