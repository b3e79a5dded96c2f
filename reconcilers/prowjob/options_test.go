package prowjob

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
		{name: "more workers and an image", args: []string{"--prowjob-workers=32", "--utility-image=registry.example/bowline:1"}},
		{name: "no workers", args: []string{"--prowjob-workers=0"}, wantErr: true},
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

// TestIndexFieldsTwice: every controller that lists by the indexes
// registers them, so a second registration on one manager must succeed.
func TestIndexFieldsTwice(t *testing.T) {
	mgr := env.Manager(t, "")
	for range 2 {
		if err := IndexFields(t.Context(), mgr.GetFieldIndexer()); err != nil {
			t.Fatal(err)
		}
	}
}
