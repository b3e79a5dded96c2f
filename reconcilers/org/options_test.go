package org

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string // error substring; empty for none
	}{
		{nil, ""},
		{[]string{"--orgs-workers=4"}, ""},
		{[]string{"--orgs-workers=0"}, "--orgs-workers must be at least 1"},
	}
	for _, tt := range tests {
		var o Options
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		o.AddFlags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		err := o.Validate()
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%v: err = %v, want %q", tt.args, err, tt.want)
		}
	}
}
