package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/prowconfig"
)

func TestInstallCheck(t *testing.T) {
	set := func(prowjobNS, podNS string) *configset.Set {
		return &configset.Set{Config: &prowconfig.Config{ProwJobNamespace: prowjobNS, PodNamespace: podNS}}
	}
	o := &OperatorOptions{PodNamespace: "test-pods"}
	o.Roles.ProwJobNamespace = "bowline-system"
	tests := []struct {
		name string
		o    *OperatorOptions
		set  *configset.Set
		want []string
	}{
		{name: "matches", o: o, set: set("bowline-system", "test-pods")},
		{name: "prowjob namespace differs", o: o, set: set("default", "test-pods"),
			want: []string{`config.yaml: prowjob_namespace is "default", but this bowline keeps ProwJobs in "bowline-system" (--prowjob-namespace): set prowjob_namespace: bowline-system`}},
		{name: "pod namespace differs", o: o, set: set("bowline-system", "default"),
			want: []string{`config.yaml: pod_namespace is "default", but this bowline runs job pods in "test-pods" (--pod-namespace): set pod_namespace: test-pods`}},
		{name: "config.yaml decides without --pod-namespace", o: &OperatorOptions{Roles: RoleOptions{ProwJobNamespace: "default"}}, set: set("prow", "anything")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			if err := tt.o.installCheck(tt.set); err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}
