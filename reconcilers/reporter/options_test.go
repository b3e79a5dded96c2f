package reporter

import (
	"testing"

	"github.com/spf13/pflag"
)

func TestOptions(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{name: "defaults", args: nil},
		{name: "more workers and a login", args: []string{"--github-workers=32", "--github-bot-login=bowline-bot"}},
		{name: "no workers", args: []string{"--github-workers=0"}, wantErr: true},
		{name: "Slack workspaces", args: []string{"--slack-token-file=/t", "--additional-slack-token-files=other.slack.com=/o"}},
		{name: "no Slack workers", args: []string{"--slack-workers=0"}, wantErr: true},
		{name: "a Slack workspace without its file", args: []string{"--additional-slack-token-files=other.slack.com"}, wantErr: true},
		{name: "a Slack API URL without its slash", args: []string{"--slack-api-url=https://slack.example/api"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o Options
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if err := o.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, want error %t", err, tt.wantErr)
			}
		})
	}
}
