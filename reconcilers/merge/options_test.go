package merge

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
		{name: "a status link and no delay", args: []string{"--merge-status-url=https://ci.example.com/pr", "--merge-delay=0"}},
		{name: "no workers", args: []string{"--merge-workers=0"}, wantErr: true},
		{name: "a relative status link", args: []string{"--merge-status-url=/pr"}, wantErr: true},
		{name: "a negative delay", args: []string{"--merge-delay=-1s"}, wantErr: true},
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
