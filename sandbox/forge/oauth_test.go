package forge_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/bowline-ci/bowline/sandbox/forge"
	"github.com/bowline-ci/bowline/sandbox/forge/forgetest"
)

const oauthSeed = `
users:
- {login: alice, token: alice-token}
- {login: bob, token: bob-token}
`

// noRedirects is a client that shows redirects instead of following them:
// the app's callback is not served in these tests.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func startOAuth(t *testing.T) (*forgetest.Env, *oauth2.Config) {
	t.Helper()
	fg := forgetest.Start(t, oauthSeed)
	app := forge.OAuthApp{ClientID: "Iv1.web", ClientSecret: "web-secret", Name: "bowline web",
		CallbackURL: "https://ci.example.com/github-login/redirect"}
	if err := fg.Forge.RegisterOAuthApp(app); err != nil {
		t.Fatal(err)
	}
	return fg, &oauth2.Config{ClientID: app.ClientID, ClientSecret: app.ClientSecret, RedirectURL: app.CallbackURL,
		Scopes: []string{"read:org"}, Endpoint: oauth2.Endpoint{AuthURL: fg.URL + forge.OAuthAuthorizePath, TokenURL: fg.URL + forge.OAuthAccessTokenPath}}
}

// signIn posts the authorization page's form and returns where the forge
// sends the user.
func signIn(t *testing.T, fg *forgetest.Env, form url.Values) (*http.Response, *url.URL) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, fg.URL+forge.OAuthAuthorizePath, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	loc, _ := resp.Location()
	return resp, loc
}

// TestOAuthWebFlow goes through GitHub's web application flow with the
// golang.org/x/oauth2 client, as a web UI does against GitHub.
func TestOAuthWebFlow(t *testing.T) {
	fg, cfg := startOAuth(t)
	ctx := context.Background()

	// The authorization page names the app and asks the user to sign in.
	resp, err := http.Get(cfg.AuthCodeURL("st4te", oauth2.SetAuthURLParam("login", "alice")))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Authorize bowline web") || !strings.Contains(string(page), `value="alice"`) {
		t.Fatalf("authorize page: %d %s", resp.StatusCode, page)
	}

	form := url.Values{"client_id": {cfg.ClientID}, "redirect_uri": {cfg.RedirectURL}, "scope": {"read:org"},
		"state": {"st4te"}, "login": {"alice"}, "token": {"bob-token"}, "authorize": {"1"}}
	if resp, _ := signIn(t, fg, form); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("someone else's token: status %d, want 401", resp.StatusCode)
	}

	form.Set("token", "alice-token")
	resp, back := signIn(t, fg, form)
	if resp.StatusCode != http.StatusFound || back == nil || back.Host != "ci.example.com" || back.Query().Get("state") != "st4te" {
		t.Fatalf("sign in: status %d, redirect %v", resp.StatusCode, back)
	}
	code := back.Query().Get("code")

	tok, err := cfg.Exchange(ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.AccessToken, "gho_") || tok.Extra("scope") != "read:org" {
		t.Errorf("token %q, scope %v", tok.AccessToken, tok.Extra("scope"))
	}
	user, _, err := fg.Client(t, tok.AccessToken).Users.Get(ctx, "")
	if err != nil || user.GetLogin() != "alice" {
		t.Fatalf("GET /user with the token: %v %v", user.GetLogin(), err)
	}

	// A code buys one token.
	_, err = cfg.Exchange(ctx, code)
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); !ok || re.ErrorCode != "bad_verification_code" {
		t.Errorf("second exchange: %v, want bad_verification_code", err)
	}
}

func TestOAuthErrors(t *testing.T) {
	fg, cfg := startOAuth(t)
	ctx := context.Background()
	form := url.Values{"client_id": {cfg.ClientID}, "redirect_uri": {cfg.RedirectURL}, "state": {"s"},
		"login": {"alice"}, "token": {"alice-token"}}

	t.Run("the user cancels", func(t *testing.T) {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("cancel", "1")
		_, back := signIn(t, fg, f)
		if back == nil || back.Query().Get("error") != "access_denied" || back.Query().Get("state") != "s" || back.Query().Get("code") != "" {
			t.Errorf("redirect %v", back)
		}
	})
	t.Run("unknown app", func(t *testing.T) {
		resp, err := http.Get(fg.URL + forge.OAuthAuthorizePath + "?client_id=nope")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status %d, want 404", resp.StatusCode)
		}
	})
	t.Run("a redirect_uri outside the callback URL", func(t *testing.T) {
		resp, err := noRedirects.Get(fg.URL + forge.OAuthAuthorizePath + "?client_id=" + cfg.ClientID + "&state=s&redirect_uri=" + url.QueryEscape("https://evil.example/steal"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := resp.Location()
		if loc == nil || loc.Host != "ci.example.com" || loc.Query().Get("error") != "redirect_uri_mismatch" {
			t.Errorf("status %d, redirect %v", resp.StatusCode, loc)
		}
	})
	t.Run("wrong client secret", func(t *testing.T) {
		_, back := signIn(t, fg, form)
		bad := *cfg
		bad.ClientSecret = "guess"
		_, err := bad.Exchange(ctx, back.Query().Get("code"))
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); !ok || re.ErrorCode != "incorrect_client_credentials" {
			t.Errorf("exchange: %v, want incorrect_client_credentials", err)
		}
	})
	t.Run("another redirect_uri at exchange", func(t *testing.T) {
		_, back := signIn(t, fg, form)
		_, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.SetAuthURLParam("redirect_uri", cfg.RedirectURL+"/other"))
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); !ok || re.ErrorCode != "redirect_uri_mismatch" {
			t.Errorf("exchange: %v, want redirect_uri_mismatch", err)
		}
	})
	t.Run("answers as JSON, XML or a form", func(t *testing.T) {
		for accept, want := range map[string]string{"application/json": `"access_token":"gho_`, "application/xml": "<access_token>gho_", "": "access_token=gho_"} {
			_, back := signIn(t, fg, form)
			v := url.Values{"client_id": {cfg.ClientID}, "client_secret": {cfg.ClientSecret}, "code": {back.Query().Get("code")}}
			req, _ := http.NewRequest(http.MethodPost, fg.URL+forge.OAuthAccessTokenPath, strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(body), want) {
				t.Errorf("Accept %q: %s", accept, body)
			}
			if accept == "application/json" {
				var m map[string]string
				if json.Unmarshal(body, &m) != nil || m["token_type"] != "bearer" {
					t.Errorf("JSON answer %s", body)
				}
			}
		}
	})
}
