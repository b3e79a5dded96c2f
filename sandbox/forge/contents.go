package forge

import (
	"encoding/base64"
	"errors"
	"net/http"
	"path"
	"strings"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/sandbox/gitstore"
)

func (f *Forge) contentJSON(r *repo, ref string, e gitstore.Entry) *github.RepositoryContent {
	out := &github.RepositoryContent{Type: github.Ptr(e.Type), Name: github.Ptr(e.Name), Path: github.Ptr(e.Path),
		SHA: github.Ptr(e.SHA), Size: github.Ptr(int(e.Size)),
		URL:     github.Ptr(f.repoAPI(r, "contents", e.Path) + "?ref=" + ref),
		HTMLURL: github.Ptr(f.repoHTML(r, "blob", ref, e.Path)),
	}
	if e.Type == "dir" {
		out.GitURL = github.Ptr(f.repoAPI(r, "git", "trees", e.SHA))
	} else {
		out.GitURL = github.Ptr(f.repoAPI(r, "git", "blobs", e.SHA))
		out.DownloadURL = github.Ptr(f.repoHTML(r, "raw", ref, e.Path))
	}
	return out
}

// getContents answers a file with its base64 content or a directory with
// its entries.
func (f *Forge) getContents(c *call) error {
	var out any
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		ctx := c.r.Context()
		ref := c.query("ref")
		if ref == "" {
			ref = r.DefaultBranch
		}
		p := strings.Trim(c.param("path"), "/")
		e, err := f.git.Stat(ctx, r.Owner, r.Name, ref, p)
		if err != nil {
			if errors.Is(err, gitstore.ErrNotFound) && p == "" {
				return errStatus(http.StatusNotFound, "This repository is empty.")
			}
			return gitErr(err, "Not Found")
		}
		if e.Type == "dir" {
			entries, err := f.git.ListDir(ctx, r.Owner, r.Name, ref, p)
			if err != nil {
				return gitErr(err, "Not Found")
			}
			list := []*github.RepositoryContent{}
			for _, en := range entries {
				list = append(list, f.contentJSON(r, ref, en))
			}
			out = list
			return nil
		}
		content, _, err := f.git.ReadFile(ctx, r.Owner, r.Name, ref, p)
		if err != nil {
			return gitErr(err, "Not Found")
		}
		rc := f.contentJSON(r, ref, e)
		rc.Encoding = github.Ptr("base64")
		rc.Content = github.Ptr(base64.StdEncoding.EncodeToString(content))
		out = rc
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

type contentRequest struct {
	Message   string               `json:"message"`
	Content   *string              `json:"content"`
	SHA       string               `json:"sha"`
	Branch    string               `json:"branch"`
	Author    *github.CommitAuthor `json:"author"`
	Committer *github.CommitAuthor `json:"committer"`
}

func (f *Forge) putContents(c *call) error    { return f.writeContents(c, false) }
func (f *Forge) deleteContents(c *call) error { return f.writeContents(c, true) }

// writeContents creates, updates or deletes one file with a commit, as the
// contents API does: updating or deleting names the blob being replaced.
func (f *Forge) writeContents(c *call, remove bool) error {
	var req contentRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Message == "" {
		return errInvalid("Contents", "message", "missing_field")
	}
	var data []byte
	if !remove {
		if req.Content == nil {
			return errInvalid("Contents", "content", "missing_field")
		}
		var err error
		if data, err = base64.StdEncoding.DecodeString(*req.Content); err != nil {
			return errInvalidMsg("content is not valid Base64")
		}
	}
	p := strings.Trim(c.param("path"), "/")
	code := http.StatusOK
	var out *github.RepositoryContentResponse
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permWrite)
		if err != nil {
			return err
		}
		ctx := c.r.Context()
		branch := req.Branch
		if branch == "" {
			branch = r.DefaultBranch
		}
		parent, _ := f.git.ResolveRef(ctx, r.Owner, r.Name, "refs/heads/"+branch)
		var existing string
		if parent != "" {
			if _, sha, err := f.git.ReadFile(ctx, r.Owner, r.Name, parent, p); err == nil {
				existing = sha
			}
		}
		switch {
		case existing == "" && remove:
			return errNotFound()
		case existing != "" && req.SHA == "":
			return errInvalidMsg("Invalid request.\n\n\"sha\" wasn't supplied.")
		case existing != "" && req.SHA != existing:
			return errStatus(http.StatusConflict, p+" does not match "+req.SHA)
		case existing == "":
			code = http.StatusCreated
		}
		author := t.signature(c.who.login)
		if a := req.Author; a != nil && a.Name != nil && a.Email != nil {
			author.Name, author.Email = *a.Name, *a.Email
		}
		files := map[string][]byte{p: data}
		sha, err := f.git.CommitFiles(ctx, r.Owner, r.Name, branch, parent, files, req.Message, author)
		if err != nil {
			return gitErr(err, "Not Found")
		}
		t.refsUpdated(ctx, r, []gitstore.RefUpdate{{Ref: "refs/heads/" + branch, Old: parent, New: sha}}, c.who.login)
		cm, err := f.git.GetCommit(ctx, r.Owner, r.Name, sha)
		if err != nil {
			return gitErr(err, "Not Found")
		}
		out = &github.RepositoryContentResponse{Commit: *f.gitCommitJSON(r, cm)}
		if !remove {
			e, err := f.git.Stat(ctx, r.Owner, r.Name, sha, p)
			if err != nil {
				return gitErr(err, "Not Found")
			}
			e.Name = path.Base(p)
			out.Content = f.contentJSON(r, branch, e)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.json(code, out)
}
