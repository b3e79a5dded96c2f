package forge

import "testing"

// TestRedirectAllowed checks GitHub's rule for redirect_uri against the
// examples of its documentation.
func TestRedirectAllowed(t *testing.T) {
	const cb = "http://example.com/path"
	tests := []struct {
		callback, redirect string
		want               bool
	}{
		{cb, "http://example.com/path", true},
		{cb, "http://example.com/path/subdir/other", true},
		{cb, "http://example.com/bar", false},
		{cb, "http://example.com/", false},
		{cb, "http://example.com/pathology", false},
		{cb, "http://example.com:8080/path", false},
		{cb, "http://oauth.example.com:8080/path", false},
		{cb, "http://example.org", false},
		{cb, "https://example.com/path", false},
		{"http://127.0.0.1:8090/github-login/redirect", "http://127.0.0.1:43210/github-login/redirect", true},
		{"http://localhost/cb", "http://localhost:1234/cb", true},
	}
	for _, tt := range tests {
		if got := redirectAllowed(tt.callback, tt.redirect); got != tt.want {
			t.Errorf("callback %s, redirect %s: %v, want %v", tt.callback, tt.redirect, got, tt.want)
		}
	}
}
