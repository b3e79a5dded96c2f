package forge_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"
)

func TestRepoVisibility(t *testing.T) {
	fx := setup(t)
	tests := []struct {
		name, token, repo string
		want              int
	}{
		{"anonymous reads public", "", "widgets", http.StatusOK},
		{"anonymous cannot see private", "", "secret", http.StatusNotFound},
		{"outsider cannot see private", "dave-token", "secret", http.StatusNotFound},
		{"member reads private", "bob-token", "secret", http.StatusOK},
		{"admin reads private", "alice-token", "secret", http.StatusOK},
		{"missing repository", "alice-token", "nope", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := fx.client(t, tt.token).Repositories.Get(fx.ctx, "acme", tt.repo)
			if got := status(t, resp, err); got != tt.want {
				t.Fatalf("status = %d, want %d", got, tt.want)
			}
		})
	}
	t.Run("bad token", func(t *testing.T) {
		_, resp, err := fx.client(t, "wrong").Repositories.Get(fx.ctx, "acme", "widgets")
		if got := status(t, resp, err); got != http.StatusUnauthorized {
			t.Fatalf("status = %d, want 401", got)
		}
	})
}

func TestRepoLifecycle(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	_, resp, err := fx.client(t, "dave-token").Repositories.Create(fx.ctx, "acme", &github.Repository{Name: github.Ptr("x")})
	if got := status(t, resp, err); got != http.StatusForbidden {
		t.Fatalf("outsider create = %d, want 403", got)
	}
	r := must[*github.Repository](t)(alice.Repositories.Create(fx.ctx, "acme", &github.Repository{
		Name: github.Ptr("gadgets"), Private: github.Ptr(true), AutoInit: github.Ptr(true)}))
	if r.GetFullName() != "acme/gadgets" || !r.GetPrivate() {
		t.Fatalf("created %+v", r)
	}
	_, resp, err = alice.Repositories.Create(fx.ctx, "acme", &github.Repository{Name: github.Ptr("gadgets")})
	if got := status(t, resp, err); got != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate create = %d, want 422", got)
	}
	r = must[*github.Repository](t)(alice.Repositories.Edit(fx.ctx, "acme", "gadgets", &github.Repository{
		Name: github.Ptr("gizmos"), Description: github.Ptr("tiny")}))
	if r.GetName() != "gizmos" || r.GetDescription() != "tiny" {
		t.Fatalf("edited %+v", r)
	}
	content := must[*github.RepositoryContent](t)(func() (*github.RepositoryContent, *github.Response, error) {
		fc, _, resp, err := alice.Repositories.GetContents(fx.ctx, "acme", "gizmos", "README.md", nil)
		return fc, resp, err
	}())
	if text, _ := content.GetContent(); !strings.Contains(text, "gadgets") {
		t.Fatalf("README after rename = %q", text)
	}
	var names []string
	for repo, err := range alice.Repositories.ListByOrgIter(fx.ctx, "acme", &github.RepositoryListByOrgOptions{ListOptions: github.ListOptions{PerPage: 1}}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, repo.GetName())
	}
	if got := strings.Join(names, ","); got != "gizmos,secret,widgets" {
		t.Fatalf("org repos (paged by one) = %s", got)
	}
	names = nil
	for repo, err := range fx.client(t, "dave-token").Repositories.ListByOrgIter(fx.ctx, "acme", nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, repo.GetName())
	}
	if got := strings.Join(names, ","); got != "widgets" {
		t.Fatalf("org repos seen by an outsider = %s", got)
	}
	if _, err := alice.Repositories.Delete(fx.ctx, "acme", "gizmos"); err != nil {
		t.Fatal(err)
	}
	_, resp, err = alice.Repositories.Get(fx.ctx, "acme", "gizmos")
	if got := status(t, resp, err); got != http.StatusNotFound {
		t.Fatalf("get deleted = %d, want 404", got)
	}
}

func TestCollaboratorPermission(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	tests := []struct {
		user, permission, role string
	}{
		{"alice", "admin", "admin"},
		{"bob", "write", "write"},
		{"carol", "read", "read"},
		{"dave", "read", "read"}, // anyone reads a public repository
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			p := must[*github.RepositoryPermissionLevel](t)(alice.Repositories.GetPermissionLevel(fx.ctx, "acme", "widgets", tt.user))
			if p.GetPermission() != tt.permission || p.GetRoleName() != tt.role {
				t.Fatalf("permission = %s/%s, want %s/%s", p.GetPermission(), p.GetRoleName(), tt.permission, tt.role)
			}
		})
	}
	t.Run("private repository", func(t *testing.T) {
		p := must[*github.RepositoryPermissionLevel](t)(alice.Repositories.GetPermissionLevel(fx.ctx, "acme", "secret", "dave"))
		if p.GetPermission() != "none" {
			t.Fatalf("outsider on private = %s, want none", p.GetPermission())
		}
	})
	t.Run("read-only caller", func(t *testing.T) {
		_, resp, err := fx.client(t, "carol-token").Repositories.GetPermissionLevel(fx.ctx, "acme", "widgets", "bob")
		if got := status(t, resp, err); got != http.StatusForbidden {
			t.Fatalf("status = %d, want 403", got)
		}
	})
	t.Run("add and remove", func(t *testing.T) {
		// dave is no member of acme: he is invited, and has access once he
		// accepts.
		inv, _, err := alice.Repositories.AddCollaborator(fx.ctx, "acme", "secret", "dave", &github.RepositoryAddCollaboratorOptions{Permission: "triage"})
		if err != nil {
			t.Fatal(err)
		}
		if inv.GetInvitee().GetLogin() != "dave" || inv.GetPermissions() != "triage" {
			t.Fatalf("invitation %+v", inv)
		}
		if must[bool](t)(alice.Repositories.IsCollaborator(fx.ctx, "acme", "secret", "dave")) {
			t.Fatal("a collaborator before accepting")
		}
		dave := fx.client(t, "dave-token")
		mine := must[[]*github.RepositoryInvitation](t)(dave.Users.ListInvitations(fx.ctx, nil))
		if len(mine) != 1 || mine[0].GetID() != inv.GetID() {
			t.Fatalf("dave's invitations %v", mine)
		}
		if _, err := dave.Users.AcceptInvitation(fx.ctx, inv.GetID()); err != nil {
			t.Fatal(err)
		}
		ok := must[bool](t)(alice.Repositories.IsCollaborator(fx.ctx, "acme", "secret", "dave"))
		p := must[*github.RepositoryPermissionLevel](t)(alice.Repositories.GetPermissionLevel(fx.ctx, "acme", "secret", "dave"))
		if !ok || p.GetRoleName() != "triage" || p.GetPermission() != "read" {
			t.Fatalf("after add: collaborator=%v role=%s permission=%s", ok, p.GetRoleName(), p.GetPermission())
		}
		if _, err := alice.Repositories.RemoveCollaborator(fx.ctx, "acme", "secret", "dave"); err != nil {
			t.Fatal(err)
		}
		if must[bool](t)(alice.Repositories.IsCollaborator(fx.ctx, "acme", "secret", "dave")) {
			t.Fatal("still a collaborator after removal")
		}
	})
	t.Run("list", func(t *testing.T) {
		users := must[[]*github.User](t)(alice.Repositories.ListCollaborators(fx.ctx, "acme", "widgets", &github.ListCollaboratorsOptions{Affiliation: "direct"}))
		if len(users) != 1 || users[0].GetLogin() != "carol" || users[0].GetPermissions().GetPush() {
			t.Fatalf("direct collaborators = %v", users)
		}
	})
}

func TestContents(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	get := func(path string) (*github.RepositoryContent, []*github.RepositoryContent) {
		t.Helper()
		fc, dc, _, err := alice.Repositories.GetContents(fx.ctx, "acme", "widgets", path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return fc, dc
	}
	_, dir := get("")
	var names []string
	for _, e := range dir {
		names = append(names, e.GetName()+":"+e.GetType())
	}
	if got := strings.Join(names, ","); got != "README.md:file,src:dir" {
		t.Fatalf("root = %s", got)
	}
	file, _ := get("src/main.go")
	created := must[*github.RepositoryContentResponse](t)(alice.Repositories.CreateFile(fx.ctx, "acme", "widgets", "docs/guide.md",
		&github.RepositoryContentFileOptions{Message: github.Ptr("Add a guide"), Content: []byte("guide\n")}))
	if created.Content.GetPath() != "docs/guide.md" || created.Commit.GetMessage() != "Add a guide" {
		t.Fatalf("created %+v", created)
	}
	_, resp, err := alice.Repositories.UpdateFile(fx.ctx, "acme", "widgets", "src/main.go",
		&github.RepositoryContentFileOptions{Message: github.Ptr("stale"), Content: []byte("x"), SHA: github.Ptr(strings.Repeat("0", 40))})
	if got := status(t, resp, err); got != http.StatusConflict {
		t.Fatalf("update with a stale sha = %d, want 409", got)
	}
	must[*github.RepositoryContentResponse](t)(alice.Repositories.UpdateFile(fx.ctx, "acme", "widgets", "src/main.go",
		&github.RepositoryContentFileOptions{Message: github.Ptr("Update main"), Content: []byte("package main\n\nfunc main() {}\n"), SHA: file.SHA}))
	updated, _ := get("src/main.go")
	if text, _ := updated.GetContent(); !strings.Contains(text, "func main") {
		t.Fatalf("after update: %q", text)
	}
	_, resp, err = fx.client(t, "carol-token").Repositories.CreateFile(fx.ctx, "acme", "widgets", "x.txt",
		&github.RepositoryContentFileOptions{Message: github.Ptr("no"), Content: []byte("x")})
	if got := status(t, resp, err); got != http.StatusForbidden {
		t.Fatalf("read-only write = %d, want 403", got)
	}
	push := fx.hook.WaitFor("push", "", wait).Parsed.(*github.PushEvent)
	if push.GetRef() != "refs/heads/main" || len(push.Commits) != 1 || push.Commits[0].Added[0] != "docs/guide.md" {
		t.Fatalf("push event for the contents API: %+v", push)
	}
}

func TestRefsCommitsCompare(t *testing.T) {
	fx := setup(t)
	alice := fx.client(t, "alice-token")
	main := must[*github.Reference](t)(alice.Git.GetRef(fx.ctx, "acme", "widgets", "heads/main"))
	base := main.GetObject().GetSHA()
	head, err := fx.env.As("alice").Push(fx.ctx, "acme/widgets", "topic", map[string][]byte{"a.txt": []byte("a\n")}, "Add a")
	if err != nil {
		t.Fatal(err)
	}
	ref := must[*github.Reference](t)(alice.Git.CreateRef(fx.ctx, "acme", "widgets", github.CreateRef{Ref: "refs/heads/copy", SHA: base}))
	if ref.GetObject().GetSHA() != base {
		t.Fatalf("created ref %+v", ref)
	}
	_, resp, err := alice.Git.CreateRef(fx.ctx, "acme", "widgets", github.CreateRef{Ref: "refs/heads/copy", SHA: base})
	if got := status(t, resp, err); got != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate ref = %d, want 422", got)
	}
	must[*github.Reference](t)(alice.Git.UpdateRef(fx.ctx, "acme", "widgets", "heads/copy", github.UpdateRef{SHA: head}))
	_, resp, err = alice.Git.UpdateRef(fx.ctx, "acme", "widgets", "heads/copy", github.UpdateRef{SHA: base})
	if got := status(t, resp, err); got != http.StatusUnprocessableEntity {
		t.Fatalf("non-fast-forward update = %d, want 422", got)
	}
	must[*github.Reference](t)(alice.Git.UpdateRef(fx.ctx, "acme", "widgets", "heads/copy", github.UpdateRef{SHA: base, Force: github.Ptr(true)}))
	refs := must[[]*github.Reference](t)(alice.Git.ListMatchingRefs(fx.ctx, "acme", "widgets", "heads/"))
	var names []string
	for _, r := range refs {
		names = append(names, r.GetRef())
	}
	if got := strings.Join(names, ","); got != "refs/heads/copy,refs/heads/main,refs/heads/topic" {
		t.Fatalf("refs = %s", got)
	}
	if _, err := alice.Git.DeleteRef(fx.ctx, "acme", "widgets", "heads/copy"); err != nil {
		t.Fatal(err)
	}
	cm := must[*github.RepositoryCommit](t)(alice.Repositories.GetCommit(fx.ctx, "acme", "widgets", head, nil))
	if cm.GetCommit().GetMessage() != "Add a" || len(cm.Files) != 1 || cm.Files[0].GetFilename() != "a.txt" || cm.GetAuthor().GetLogin() != "alice" {
		t.Fatalf("commit = %+v", cm)
	}
	list := must[[]*github.RepositoryCommit](t)(alice.Repositories.ListCommits(fx.ctx, "acme", "widgets", &github.CommitsListOptions{SHA: "topic"}))
	if len(list) != 2 || list[0].GetSHA() != head || list[1].GetSHA() != base {
		t.Fatalf("commits newest first = %v", list)
	}
	cmp := must[*github.CommitsComparison](t)(alice.Repositories.CompareCommits(fx.ctx, "acme", "widgets", "main", "topic", nil))
	if cmp.GetStatus() != "ahead" || cmp.GetAheadBy() != 1 || cmp.GetBehindBy() != 0 || len(cmp.Files) != 1 || cmp.GetMergeBaseCommit().GetSHA() != base {
		t.Fatalf("compare = %+v", cmp)
	}
	branches := must[[]*github.Branch](t)(alice.Repositories.ListBranches(fx.ctx, "acme", "widgets", nil))
	if len(branches) != 2 {
		t.Fatalf("branches = %v", branches)
	}
	_, resp, err = fx.client(t, "carol-token").Git.CreateRef(fx.ctx, "acme", "widgets", github.CreateRef{Ref: "refs/heads/x", SHA: base})
	if got := status(t, resp, err); got != http.StatusForbidden {
		t.Fatalf("read-only create ref = %d, want 403", got)
	}
}
