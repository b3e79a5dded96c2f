package gitstore

import (
	"errors"
	"strings"
	"testing"
)

func TestValidRefName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"main", true},
		{"refs/heads/feature/x-1", true},
		{"refs/pull/12/head", true},
		{"v1.2.3", true},
		{"HEAD", true},
		{"", false},
		{"@", false},
		{"-main", false},
		{"--output=/tmp/x", false},
		{"/main", false},
		{"main/", false},
		{"main.", false},
		{"a..b", false},
		{"a//b", false},
		{"a@{1}", false},
		{"main~1", false},
		{"main^", false},
		{"main:README.md", false},
		{"a b", false},
		{"a*", false},
		{"a?", false},
		{"a[", false},
		{"a\\b", false},
		{"a\x00b", false},
		{"a\nb", false},
		{"refs/heads/.hidden", false},
		{"refs/heads/x.lock", false},
	}
	for _, tc := range tests {
		if got := validRefName(tc.name); got != tc.want {
			t.Errorf("validRefName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"", "", nil},
		{"/", "", nil},
		{"a/b.txt", "a/b.txt", nil},
		{"/a/b/", "a/b", nil},
		{"dir with space/ü.txt", "dir with space/ü.txt", nil},
		{"a//b", "", ErrInvalid},
		{"./a", "", ErrInvalid},
		{"a/../b", "", ErrInvalid},
		{".git/config", "", ErrInvalid},
		{"sub/.GIT/hooks", "", ErrInvalid},
		{"a\x00b", "", ErrInvalid},
	}
	for _, tc := range tests {
		got, err := cleanPath(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
			t.Errorf("cleanPath(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestSplitGitPath(t *testing.T) {
	tests := []struct {
		path, owner, name, tail string
		ok                      bool
	}{
		{"/org/repo.git/info/refs", "org", "repo", "info/refs", true},
		{"/org/repo/git-upload-pack", "org", "repo", "git-upload-pack", true},
		{"/org/.github.git/git-receive-pack", "org", ".github", "git-receive-pack", true},
		{"/org/repo.git/HEAD", "", "", "", false},
		{"/org/repo.git/objects/info/packs", "", "", "", false},
		{"/org/repo.git", "", "", "", false},
		{"/../repo.git/info/refs", "", "", "", false},
		{"/org/...git/info/refs", "", "", "", false},
		{"/.tmp/repo.git/info/refs", "", "", "", false},
	}
	for _, tc := range tests {
		owner, name, tail, ok := splitGitPath(tc.path)
		if owner != tc.owner || name != tc.name || tail != tc.tail || ok != tc.ok {
			t.Errorf("splitGitPath(%q) = %q, %q, %q, %v", tc.path, owner, name, tail, ok)
		}
	}
}

// FuzzNames checks that no accepted name or path can step outside a
// repository or be taken for an option.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"/org/repo.git/info/refs", "a/../b", "refs/heads/main", "..", ".git", "-x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if owner, name, _, ok := splitGitPath(s); ok {
			for _, part := range []string{owner, name} {
				if part == "" || part == "." || part == ".." || strings.ContainsAny(part, "/\\\x00") {
					t.Errorf("splitGitPath(%q) accepted %q", s, part)
				}
			}
			if strings.HasPrefix(owner, ".") {
				t.Errorf("splitGitPath(%q) accepted owner %q", s, owner)
			}
		}
		if p, err := cleanPath(s); err == nil {
			for _, comp := range strings.Split(p, "/") {
				if p != "" && (comp == "" || comp == "." || comp == ".." || strings.EqualFold(comp, ".git")) {
					t.Errorf("cleanPath(%q) = %q", s, p)
				}
			}
		}
		if validRefName(s) && (strings.HasPrefix(s, "-") || strings.Contains(s, "..") || strings.ContainsAny(s, " :~^\x00")) {
			t.Errorf("validRefName(%q) = true", s)
		}
	})
}
