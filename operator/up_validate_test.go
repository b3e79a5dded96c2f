package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestUpOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "defaults"},
		{name: "sandbox fault injection", args: []string{"--sandbox-fault-injection"}},
		{name: "fault injection needs the sandbox", args: []string{"--sandbox-fault-injection", "--github-token-file", "token"}, wantErr: "--sandbox-fault-injection works on the sandbox forge only"},
		{name: "endpoint needs credentials", args: []string{"--github-endpoint", "https://ghe.example.com/api/v3/"}, wantErr: "--github-endpoint needs credentials"},
		{name: "token and app", args: []string{"--github-token-file", "t", "--github-app-id", "1", "--github-app-key-file", "k"}, wantErr: "not both"},
		{name: "bad address", args: []string{"--addr", "8090"}, wantErr: "--addr"},
		{name: "no data dir", args: []string{"--data-dir", ""}, wantErr: "--data-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &UpOptions{}
			fs := pflag.NewFlagSet("up", pflag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			err := o.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
