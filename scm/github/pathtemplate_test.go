package ghclient

import (
	"strings"
	"testing"
)

func TestPathTemplate(t *testing.T) {
	tests := []struct {
		name, prefix, path, want string
	}{
		{"root", "", "/", "/"},
		{"pull", "", "/repos/kubernetes/test-infra/pulls/123", "/repos/:owner/:repo/pulls/:number"},
		{"pull files", "", "/repos/o/r/pulls/7/files", "/repos/:owner/:repo/pulls/:number/files"},
		{"pull list", "", "/repos/o/r/pulls", "/repos/:owner/:repo/pulls"},
		{"issue comments of repo", "", "/repos/o/r/issues/comments/99", "/repos/:owner/:repo/issues/comments/:id"},
		{"issue comments", "", "/repos/o/r/issues/5/comments", "/repos/:owner/:repo/issues/:number/comments"},
		{"issue label", "", "/repos/o/r/issues/5/labels/lgtm", "/repos/:owner/:repo/issues/:number/labels/:name"},
		{"combined status", "", "/repos/o/r/commits/abc123/status", "/repos/:owner/:repo/commits/:ref/status"},
		{"create status", "", "/repos/o/r/statuses/abc123", "/repos/:owner/:repo/statuses/:ref"},
		{"contents with slashes", "", "/repos/o/r/contents/a/b/OWNERS", "/repos/:owner/:repo/contents/:path"},
		{"git ref", "", "/repos/o/r/git/refs/heads/release/1.0", "/repos/:owner/:repo/git/refs/:ref"},
		{"compare", "", "/repos/o/r/compare/main...feature", "/repos/:owner/:repo/compare/:basehead"},
		{"permission", "", "/repos/o/r/collaborators/alice/permission", "/repos/:owner/:repo/collaborators/:username/permission"},
		{"branch protection", "", "/repos/o/r/branches/main/protection", "/repos/:owner/:repo/branches/:branch/protection"},
		{"org member", "", "/orgs/kubernetes/members/alice", "/orgs/:org/members/:username"},
		{"team repo", "", "/orgs/o/teams/sig-testing/repos/o/r", "/orgs/:org/teams/:team/repos/:owner/:repo"},
		{"search", "", "/search/issues", "/search/issues"},
		{"app token", "", "/app/installations/42/access_tokens", "/app/installations/:id/access_tokens"},
		{"org installation", "", "/orgs/o/installation", "/orgs/:org/installation"},
		{"enterprise prefix", "/api/v3/", "/api/v3/repos/o/r/pulls/1", "/repos/:owner/:repo/pulls/:number"},
		{"unknown words are bounded", "", "/repos/o/r/whatever/12345/x-y-z", "/repos/:owner/:repo/:param/:id/:param"},
		{"user repos", "", "/user/repos", "/user/repos"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pathTemplate(tt.prefix, tt.path); got != tt.want {
				t.Errorf("pathTemplate(%q, %q) = %q, want %q", tt.prefix, tt.path, got, tt.want)
			}
		})
	}
}

// FuzzPathTemplate checks the property metrics rely on: whatever the path,
// every segment of its template is a known word or a parameter, so the
// path label has a bounded set of values.
func FuzzPathTemplate(f *testing.F) {
	for _, seed := range []string{
		"/repos/o/r/pulls/1/files", "/repos/o/r/contents/a/b/c", "/orgs/o/teams/t/repos/o/r",
		"/search/issues", "/api/v3/repos/o/r", "//x//y", "/repos", "/users/u/installation",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, path string) {
		got := pathTemplate("", path)
		if !strings.HasPrefix(got, "/") {
			t.Fatalf("pathTemplate(%q) = %q, want a leading /", path, got)
		}
		for _, seg := range strings.Split(strings.TrimPrefix(got, "/"), "/") {
			_, isCollection := collections[seg]
			if seg != "" && !isCollection && !literals[seg] && !strings.HasPrefix(seg, ":") {
				t.Fatalf("pathTemplate(%q) = %q: segment %q is neither a known word nor a parameter", path, got, seg)
			}
		}
	})
}
