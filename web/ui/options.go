package ui

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"
)

// minCookieSecret is the shortest cookie secret accepted, in bytes.
const minCookieSecret = 32

// Options configure the web UI's logins (the rest of the UI needs no
// setting).
type Options struct {
	// OAuthConfigFile is Prow's --github-oauth-config-file: the OAuth
	// app's client_id, client_secret, redirect_url (and optionally
	// final_redirect_url, scopes), in YAML.
	OAuthConfigFile string
	// CookieSecretFile is Prow's --cookie-secret: a file holding at least
	// 32 random bytes, base64-encoded or raw, that signs the cookies.
	CookieSecretFile string
	// GitHubURL is GitHub's web address for the login.
	GitHubURL string
	// RequireLogin makes every page and the JSON API need a login.
	RequireLogin bool
	// LoginOrgs, with RequireLogin, admit only members of these orgs.
	LoginOrgs []string
	// HookURL is where the webhook server serves /api/plugin-help, when
	// it runs in another process (Deck's --hook-url).
	HookURL string

	// OAuth and CookieSecret, when set, stand for the two files (bowline
	// up sets them for the sandbox forge).
	OAuth        *OAuthConfig
	CookieSecret []byte
}

// AddFlags registers the flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.OAuthConfigFile, "github-oauth-config-file", "", "GitHub OAuth app of the web UI's login (Prow's format: client_id, client_secret, redirect_url <base>/github-login/redirect); empty: nobody logs in")
	fs.StringVar(&o.CookieSecretFile, "cookie-secret", "", "file holding at least 32 random bytes (base64 or raw) that sign the web UI's login cookies")
	fs.StringVar(&o.GitHubURL, "github-login-url", "https://github.com", "GitHub's web address for the web UI's login (a GitHub Enterprise server's, say)")
	fs.BoolVar(&o.RequireLogin, "web-require-login", false, "every page of the web UI and its JSON API need a GitHub login (the API also takes a GitHub token)")
	fs.StringSliceVar(&o.LoginOrgs, "web-login-orgs", nil, "with --web-require-login, only members of these GitHub orgs may log in")
	fs.StringVar(&o.HookURL, "hook-url", "", "the webhook server's address, for the plugin help, when it runs in another process")
}

// Validate reports settings that cannot work.
func (o *Options) Validate() error {
	var errs []error
	hasOAuth := o.OAuthConfigFile != "" || o.OAuth != nil
	hasSecret := o.CookieSecretFile != "" || len(o.CookieSecret) > 0
	if hasOAuth != hasSecret {
		errs = append(errs, errors.New("--github-oauth-config-file and --cookie-secret go together: the login needs both"))
	}
	if o.RequireLogin && !hasOAuth {
		errs = append(errs, errors.New("--web-require-login needs --github-oauth-config-file and --cookie-secret: nobody could log in"))
	}
	if len(o.LoginOrgs) > 0 && !o.RequireLogin {
		errs = append(errs, errors.New("--web-login-orgs only applies with --web-require-login"))
	}
	for name, v := range map[string]string{"--github-login-url": o.GitHubURL, "--hook-url": o.HookURL} {
		if v == "" {
			continue
		}
		if err := absoluteURL(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	if o.GitHubURL == "" && hasOAuth {
		errs = append(errs, errors.New("--github-login-url is empty"))
	}
	return errors.Join(errs...)
}

func absoluteURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", v)
	}
	return nil
}

// LoginEnabled reports whether users can log in.
func (o *Options) LoginEnabled() bool { return o.OAuthConfigFile != "" || o.OAuth != nil }

// Load reads the OAuth file and the cookie secret.
func (o *Options) Load() (*OAuthConfig, []byte, error) {
	cfg, secret := o.OAuth, o.CookieSecret
	if o.OAuthConfigFile != "" {
		b, err := os.ReadFile(o.OAuthConfigFile)
		if err != nil {
			return nil, nil, fmt.Errorf("read --github-oauth-config-file: %w", err)
		}
		cfg = &OAuthConfig{}
		if err := yaml.UnmarshalStrict(b, cfg); err != nil {
			return nil, nil, fmt.Errorf("--github-oauth-config-file %s: %w", o.OAuthConfigFile, err)
		}
	}
	if cfg == nil {
		return nil, nil, errors.New("no OAuth app is configured")
	}
	if err := cfg.validate(); err != nil {
		return nil, nil, fmt.Errorf("--github-oauth-config-file %s: %w", o.OAuthConfigFile, err)
	}
	if o.CookieSecretFile != "" {
		b, err := os.ReadFile(o.CookieSecretFile)
		if err != nil {
			return nil, nil, fmt.Errorf("read --cookie-secret: %w", err)
		}
		secret = decodeSecret(b)
	}
	if len(secret) < minCookieSecret {
		return nil, nil, fmt.Errorf("the cookie secret is %d bytes: it needs at least %d (openssl rand -base64 32)", len(secret), minCookieSecret)
	}
	return cfg, secret, nil
}

// decodeSecret takes a base64 secret (Prow's, made with openssl rand
// -base64 32) as the bytes it encodes, anything else as it is.
func decodeSecret(b []byte) []byte {
	s := strings.TrimSpace(string(b))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if d, err := enc.DecodeString(s); err == nil && len(d) >= minCookieSecret {
			return d
		}
	}
	return []byte(s)
}

func (c *OAuthConfig) validate() error {
	var errs []error
	if c.ClientID == "" || c.ClientSecret == "" {
		errs = append(errs, errors.New("client_id and client_secret are required"))
	}
	if err := absoluteURL(c.RedirectURL); err != nil {
		errs = append(errs, fmt.Errorf("redirect_url: %w", err))
	} else if u, _ := url.Parse(c.RedirectURL); u.Path != CallbackPath {
		errs = append(errs, fmt.Errorf("redirect_url must end in %s, where the web UI takes GitHub's answer, not %q", CallbackPath, u.Path))
	}
	if c.FinalRedirectURL != "" && localPath(c.FinalRedirectURL) == "" {
		if err := absoluteURL(c.FinalRedirectURL); err != nil {
			errs = append(errs, fmt.Errorf("final_redirect_url: %w", err))
		}
	}
	return errors.Join(errs...)
}
