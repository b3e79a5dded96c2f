package merge

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bowline-ci/bowline/schema/prowconfig"
)

// TestOptionalRegexContexts: a context that an optional-regex-contexts
// pattern matches does not keep a pull request out of the pool, even when
// it is also required, as in Prow; the patterns of every level add up.
func TestOptionalRegexContexts(t *testing.T) {
	opts := prowconfig.TideContextPolicyOptions{
		TideContextPolicy: prowconfig.TideContextPolicy{
			RequiredContexts:      []string{"ci/lint", "unit"},
			OptionalRegexContexts: []string{"^ci/"},
		},
		Orgs: map[string]prowconfig.TideOrgContextPolicy{"o": {
			TideContextPolicy: prowconfig.TideContextPolicy{OptionalRegexContexts: []string{"-flaky$"}},
		}},
	}
	tests := []struct {
		name     string
		contexts []Context
		want     []string
	}{
		{"matched by the top level's pattern, though required", []Context{ctx("unit", stateSuccess), ctx("ci/lint", stateFailure)}, nil},
		{"matched by the org's pattern", []Context{ctx("unit", stateSuccess), ctx("e2e-flaky", stateFailure)}, []string{"ci/lint:expected"}},
		{"not matched", []Context{ctx("unit", stateFailure), ctx("ci/lint", stateSuccess)}, []string{"unit:failure"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newContextPolicy(mergedContextOptions(opts, "o", "r", "main"), "main", nil, nil, false)
			var got []string
			for _, c := range p.unsuccessful(tt.contexts) {
				got = append(got, c.Name+":"+c.State)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("unsuccessful (-want +got):\n%s", diff)
			}
		})
	}
}
