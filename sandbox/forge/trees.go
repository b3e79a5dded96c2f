package forge

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/gitstore"
)

// maxTreeEntries is where GitHub truncates a recursive tree listing.
const maxTreeEntries = 100_000

// getTree is GET /repos/{owner}/{repo}/git/trees/{tree_sha}: the tree of a
// tree SHA, commit SHA or branch, with recursive set (to anything, as
// GitHub reads it) every entry below it.
func (f *Forge) getTree(c *call) error {
	var out *treeJSON
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		recursive := c.r.URL.Query().Has("recursive")
		sha, entries, err := f.git.Tree(c.r.Context(), r.Owner, r.Name, c.param("sha"), recursive)
		if errors.Is(err, gitstore.ErrInvalid) {
			return errNotFound()
		}
		if err != nil {
			return gitErr(err, "Not Found")
		}
		out = &treeJSON{SHA: sha, URL: f.repoAPI(r, "git", "trees", sha), Tree: []*github.TreeEntry{}}
		if len(entries) > maxTreeEntries {
			entries, out.Truncated = entries[:maxTreeEntries], true
		}
		for _, e := range entries {
			te := &github.TreeEntry{SHA: github.Ptr(e.SHA), Path: github.Ptr(e.Path), Mode: github.Ptr(e.Mode), Type: github.Ptr(e.Type)}
			switch e.Type {
			case "blob":
				te.Size = github.Ptr(int(e.Size))
				te.URL = github.Ptr(f.repoAPI(r, "git", "blobs", e.SHA))
			case "tree":
				te.URL = github.Ptr(f.repoAPI(r, "git", "trees", e.SHA))
			}
			out.Tree = append(out.Tree, te)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// treeJSON is GitHub's tree response, which always has tree and truncated.
type treeJSON struct {
	SHA       string              `json:"sha"`
	URL       string              `json:"url"`
	Tree      []*github.TreeEntry `json:"tree"`
	Truncated bool                `json:"truncated"`
}

// getBlob is GET /repos/{owner}/{repo}/git/blobs/{file_sha}: the blob as
// JSON with base64 content, or its bytes when the raw media type is asked
// for (go-github's GetBlobRaw).
func (f *Forge) getBlob(c *call) error {
	var data []byte
	var owner, name string
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		owner, name = r.Owner, r.Name
		data, err = f.git.Blob(c.r.Context(), r.Owner, r.Name, c.param("sha"))
		return gitErr(err, "Not Found")
	})
	if err != nil {
		return err
	}
	sha := c.param("sha")
	if strings.Contains(c.r.Header.Get("Accept"), ".raw") {
		c.w.Header().Set("Content-Type", "application/vnd.github.raw; charset=utf-8")
		c.w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		c.w.WriteHeader(http.StatusOK)
		_, _ = c.w.Write(data)
		return nil
	}
	return c.ok(&github.Blob{
		SHA: github.Ptr(sha), Size: github.Ptr(len(data)), Encoding: github.Ptr("base64"),
		Content: github.Ptr(base64.StdEncoding.EncodeToString(data)),
		URL:     github.Ptr(f.repoAPI(&repo{Owner: owner, Name: name}, "git", "blobs", sha)),
		NodeID:  github.Ptr("B_" + sha),
	})
}
