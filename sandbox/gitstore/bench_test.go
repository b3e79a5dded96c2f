package gitstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkHTTPCloneFetch clones a repository of 200 files over smart HTTP
// with the git CLI, then fetches one new commit made through the API.
func BenchmarkHTTPCloneFetch(b *testing.B) {
	s := newStore(b)
	var pushes pushLog
	repoURL := serve(b, s, &pushes)
	files := map[string]string{}
	for i := range 200 {
		files[fmt.Sprintf("dir%d/file%d.txt", i%10, i)] = fmt.Sprintf("content of file %d\n", i)
	}
	seed(b, s, files)
	url := repoURL(writeToken)
	for i := 0; b.Loop(); i++ {
		dir := filepath.Join(b.TempDir(), "clone")
		mustGit(b, "", "clone", "--quiet", url, dir)
		commit(b, s, "main", "", map[string]string{"new.txt": fmt.Sprint(i)}, "Next")
		mustGit(b, dir, "fetch", "--quiet", "origin")
	}
}

// BenchmarkCommitFiles measures one API commit of three files.
func BenchmarkCommitFiles(b *testing.B) {
	s := newStore(b)
	seed(b, s, map[string]string{"README.md": "hello\n"})
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		files := map[string][]byte{"a.txt": []byte(fmt.Sprint(i)), "b/c.txt": []byte("c"), "d.txt": nil}
		if _, err := s.CommitFiles(ctx, "org", "repo", "main", "", files, "Commit", bob); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadFile measures reading one file at a branch.
func BenchmarkReadFile(b *testing.B) {
	s := newStore(b)
	seed(b, s, map[string]string{"dir/README.md": "hello\n"})
	ctx := context.Background()
	for b.Loop() {
		if _, _, err := s.ReadFile(ctx, "org", "repo", "main", "dir/README.md"); err != nil {
			b.Fatal(err)
		}
	}
}
