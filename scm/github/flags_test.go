package ghclient

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestFlags(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("ghp_fromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	emptyFile := filepath.Join(dir, "empty")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		args      []string
		wantErr   string
		wantToken Secret
		budget    bool
	}{
		{name: "defaults", args: nil},
		{name: "token file", args: []string{"--github-token-path", tokenFile, "--github-hourly-budget", "3000"}, wantToken: "ghp_fromfile", budget: true},
		{name: "enterprise", args: []string{"--github-endpoint", "https://ghe.example.com/api/v3/"}},
		{name: "token and app", args: []string{"--github-token-path", tokenFile, "--github-app-id", "3", "--github-app-private-key-path", tokenFile}, wantErr: "exclusive"},
		{name: "app id alone", args: []string{"--github-app-id", "3"}, wantErr: "go together"},
		{name: "negative budget", args: []string{"--github-hourly-budget", "-1"}, wantErr: "must not be negative"},
		{name: "request timeout", args: []string{"--github-request-timeout", "5s"}},
		{name: "negative request timeout", args: []string{"--github-request-timeout", "-1s"}, wantErr: "--github-request-timeout"},
		{name: "relative endpoint", args: []string{"--github-endpoint", "ghe.example.com"}, wantErr: "absolute"},
		{name: "missing token file", args: []string{"--github-token-path", filepath.Join(dir, "absent")}, wantErr: "read github credential"},
		{name: "empty token file", args: []string{"--github-token-path", emptyFile}, wantErr: "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Flags
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			f.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			o, err := f.Options()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Options() err = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "ghp_fromfile") {
					t.Errorf("error leaks the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Token != tt.wantToken {
				t.Errorf("token read = %v, want the file's content", o.Token == tt.wantToken)
			}
			if (o.Budget != nil) != tt.budget {
				t.Errorf("budget set = %v, want %v", o.Budget != nil, tt.budget)
			}
			if o.CacheMaxBytes != DefaultCacheMaxBytes {
				t.Errorf("cache bytes = %d, want the default", o.CacheMaxBytes)
			}
		})
	}
}
