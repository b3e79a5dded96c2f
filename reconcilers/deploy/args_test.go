package deploy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoleArgs(t *testing.T) {
	tests := []struct {
		tmpl, flags, want []string
	}{
		{
			tmpl:  []string{"operator", "--leader-elect", "--hook-workers=8", "--deploy-template=bowline-operator", "--deploy-image-repositories=a,b", "--components=all"},
			flags: []string{"--hook-workers=64"},
			want:  []string{"operator", "--leader-elect", "--deploy-template=bowline-operator", "--deploy-image-repositories=a,b", "--components=hook", "--hook-workers=64"},
		},
		{
			tmpl: []string{"operator", "--data-dir=/var/lib/bowline"},
			want: []string{"operator", "--data-dir=/var/lib/bowline", "--components=hook"},
		},
	}
	for _, tt := range tests {
		if got := roleArgs(tt.tmpl, "hook", tt.flags); !cmp.Equal(got, tt.want) {
			t.Errorf("roleArgs(%v, %v) = %v, want %v", tt.tmpl, tt.flags, got, tt.want)
		}
	}
}
