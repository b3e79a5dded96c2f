package forge

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// Seed is the starting content of a forge, usually read from YAML:
//
//	users:
//	- login: alice
//	  token: alice-token
//	orgs:
//	- login: acme
//	  admins: [alice]
//	  members: [bob]
//	  teams:
//	  - name: Maintainers
//	    maintainers: [alice]
//	    repos: {widgets: write}
//	  hooks:
//	  - url: http://localhost:8888/hook
//	    secret: s3cret
//	repos:
//	- name: acme/widgets
//	  files: {README.md: "# widgets\n"}
//	  collaborators: {carol: read}
//	  labels: [{name: lgtm, color: 15dd18}]
//
// Seeding is additive and idempotent: it adds what is missing and leaves
// what exists already (for example in a snapshot loaded from the data
// directory) as it is, so a restart with the same seed keeps changes made
// through the API, other than removals.
type Seed struct {
	// Users are people and bots; each may have a personal access token.
	Users []SeedUser `json:"users,omitempty"`
	// Orgs are organizations with their members, teams and hooks.
	Orgs []SeedOrg `json:"orgs,omitempty"`
	// Repos are repositories with their first commit's files.
	Repos []SeedRepo `json:"repos,omitempty"`
	// Apps are GitHub Apps and their installations.
	Apps []SeedApp `json:"apps,omitempty"`
}

// SeedUser is a user account.
type SeedUser struct {
	Login string `json:"login"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Token string `json:"token,omitempty"`
	// Scopes are the token's OAuth scopes, reported in X-OAuth-Scopes as
	// GitHub reports a classic personal access token's; absent means
	// DefaultTokenScopes, [] a token with no scope.
	Scopes    []string `json:"scopes,omitempty"`
	SiteAdmin bool     `json:"siteAdmin,omitempty"`
	Bot       bool     `json:"bot,omitempty"`
}

// SeedOrg is an organization. Members named here that are not listed as
// users are created.
type SeedOrg struct {
	Login       string `json:"login"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// DefaultRepoPermission is what members may do on every repository:
	// none, read (GitHub's default), write or admin.
	DefaultRepoPermission string     `json:"defaultRepoPermission,omitempty"`
	Admins                []string   `json:"admins,omitempty"`
	Members               []string   `json:"members,omitempty"`
	Teams                 []SeedTeam `json:"teams,omitempty"`
	Hooks                 []SeedHook `json:"hooks,omitempty"`
}

// SeedTeam is a team of an organization.
type SeedTeam struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Privacy     string   `json:"privacy,omitempty"`
	Parent      string   `json:"parent,omitempty"`
	Maintainers []string `json:"maintainers,omitempty"`
	Members     []string `json:"members,omitempty"`
	// Repos maps a repository name of the org to the team's permission.
	Repos map[string]string `json:"repos,omitempty"`
}

// SeedRepo is a repository. Name is "owner/name", or Owner is set.
type SeedRepo struct {
	Owner         string            `json:"owner,omitempty"`
	Name          string            `json:"name"`
	Description   string            `json:"description,omitempty"`
	Private       bool              `json:"private,omitempty"`
	Archived      bool              `json:"archived,omitempty"`
	DefaultBranch string            `json:"defaultBranch,omitempty"`
	Files         map[string]string `json:"files,omitempty"`
	// FilesFrom is a directory whose files are added to Files; relative to
	// the seed file when loaded with LoadSeed.
	FilesFrom     string            `json:"filesFrom,omitempty"`
	Collaborators map[string]string `json:"collaborators,omitempty"`
	Labels        []SeedLabel       `json:"labels,omitempty"`
	Milestones    []string          `json:"milestones,omitempty"`
	Hooks         []SeedHook        `json:"hooks,omitempty"`
	// Protection maps branch names to their protection.
	Protection map[string]SeedProtection `json:"protection,omitempty"`
}

// SeedLabel is a repository label.
type SeedLabel struct {
	Name        string `json:"name"`
	Color       string `json:"color,omitempty"`
	Description string `json:"description,omitempty"`
}

// SeedHook is a webhook; it receives every event unless Events is set.
type SeedHook struct {
	URL    string   `json:"url"`
	Secret string   `json:"secret,omitempty"`
	Events []string `json:"events,omitempty"`
	// ContentType is json (the default here) or form.
	ContentType string `json:"contentType,omitempty"`
}

// SeedProtection is a branch's protection.
type SeedProtection struct {
	RequiredStatusChecks []string `json:"requiredStatusChecks,omitempty"`
	Strict               bool     `json:"strict,omitempty"`
	RequiredReviews      int      `json:"requiredReviews,omitempty"`
	EnforceAdmins        bool     `json:"enforceAdmins,omitempty"`
}

// SeedApp is a GitHub App, registered with its public key.
type SeedApp struct {
	ID            int64              `json:"id"`
	Slug          string             `json:"slug"`
	Name          string             `json:"name,omitempty"`
	Owner         string             `json:"owner,omitempty"`
	PublicKey     string             `json:"publicKey,omitempty"`
	PublicKeyFile string             `json:"publicKeyFile,omitempty"`
	Permissions   map[string]string  `json:"permissions,omitempty"`
	Events        []string           `json:"events,omitempty"`
	Installations []SeedInstallation `json:"installations,omitempty"`
}

// SeedInstallation installs an app on an org or user account.
type SeedInstallation struct {
	ID      int64  `json:"id"`
	Account string `json:"account"`
}

// ParseSeed reads a seed from YAML, rejecting unknown fields.
func ParseSeed(data []byte) (*Seed, error) {
	var s Seed
	if err := yaml.UnmarshalStrict(data, &s); err != nil {
		return nil, fmt.Errorf("parse seed: %w", err)
	}
	return &s, nil
}

// LoadSeed reads a seed file; filesFrom and publicKeyFile are relative to it.
func LoadSeed(path string) (*Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ParseSeed(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	base := filepath.Dir(path)
	for n := range s.Repos {
		if d := s.Repos[n].FilesFrom; d != "" && !filepath.IsAbs(d) {
			s.Repos[n].FilesFrom = filepath.Join(base, d)
		}
	}
	for n := range s.Apps {
		if p := s.Apps[n].PublicKeyFile; p != "" && !filepath.IsAbs(p) {
			s.Apps[n].PublicKeyFile = filepath.Join(base, p)
		}
	}
	return s, nil
}

// readTree reads every regular file under dir, keyed by slash path.
func readTree(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	return out, err
}

// Seed adds s to the forge.
func (f *Forge) Seed(ctx context.Context, s *Seed) error {
	// Read files before taking the lock.
	trees := make([]map[string][]byte, len(s.Repos))
	for n, r := range s.Repos {
		files := map[string][]byte{}
		if r.FilesFrom != "" {
			t, err := readTree(r.FilesFrom)
			if err != nil {
				return fmt.Errorf("seed repo %s: %w", r.Name, err)
			}
			files = t
		}
		for p, c := range r.Files {
			files[p] = []byte(c)
		}
		trees[n] = files
	}
	keys := make([]string, len(s.Apps))
	for n, a := range s.Apps {
		keys[n] = a.PublicKey
		if a.PublicKeyFile != "" {
			b, err := os.ReadFile(a.PublicKeyFile)
			if err != nil {
				return fmt.Errorf("seed app %s: %w", a.Slug, err)
			}
			keys[n] = string(b)
		}
	}
	return f.write(func(t *tx) error {
		for _, u := range s.Users {
			if err := t.seedUser(u); err != nil {
				return err
			}
		}
		for _, o := range s.Orgs {
			if err := t.seedOrg(o); err != nil {
				return err
			}
		}
		for n, r := range s.Repos {
			if err := t.seedRepo(ctx, r, trees[n]); err != nil {
				return err
			}
		}
		for _, o := range s.Orgs {
			if err := t.seedTeams(o); err != nil {
				return err
			}
		}
		for n, a := range s.Apps {
			if err := t.seedApp(a, keys[n]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (t *tx) ensureUser(login string) *user {
	if u := t.user(login); u != nil {
		return u
	}
	u := &user{ID: t.id(), Login: login, Type: "User", Created: t.now}
	t.Users[key(login)] = u
	return u
}

func (t *tx) seedUser(s SeedUser) error {
	if s.Login == "" {
		return fmt.Errorf("seed: a user has no login")
	}
	if t.org(s.Login) != nil {
		return fmt.Errorf("seed user %s: an org has that login", s.Login)
	}
	u := t.ensureUser(s.Login)
	if s.Name != "" {
		u.Name = s.Name
	}
	if s.Email != "" {
		u.Email = s.Email
	}
	u.SiteAdmin = s.SiteAdmin
	if s.Bot {
		u.Type = "Bot"
	}
	if s.Token != "" {
		if other := t.Tokens[s.Token]; other != nil && key(other.User) != key(s.Login) {
			return fmt.Errorf("seed user %s: token already belongs to someone else", s.Login)
		}
		t.Tokens[s.Token] = &token{User: u.Login, Scopes: s.Scopes}
	}
	return nil
}

func (t *tx) seedOrg(s SeedOrg) error {
	if s.Login == "" {
		return fmt.Errorf("seed: an org has no login")
	}
	if t.user(s.Login) != nil {
		return fmt.Errorf("seed org %s: a user has that login", s.Login)
	}
	o := t.org(s.Login)
	if o == nil {
		o = &org{ID: t.id(), Login: s.Login, Name: s.Name, Description: s.Description, Created: t.now,
			Members: map[string]string{}, Teams: map[string]*team{}, Settings: defaultOrgSettings()}
		t.Orgs[key(s.Login)] = o
	}
	if s.DefaultRepoPermission != "" && o.DefaultPerm == "" {
		p := s.DefaultRepoPermission
		if p != permNone {
			if p = normPerm(p); p == "" {
				return fmt.Errorf("seed org %s: defaultRepoPermission %q is not none, read, write or admin", s.Login, s.DefaultRepoPermission)
			}
		}
		o.DefaultPerm = p
	}
	for _, m := range s.Members {
		t.ensureUser(m)
		if _, ok := o.Members[key(m)]; !ok {
			o.Members[key(m)] = "member"
		}
	}
	for _, a := range s.Admins {
		t.ensureUser(a)
		if _, ok := o.Members[key(a)]; !ok {
			o.Members[key(a)] = "admin"
		}
	}
	for _, h := range s.Hooks {
		hk, err := t.seedHook(h)
		if err != nil {
			return fmt.Errorf("seed org %s: %w", s.Login, err)
		}
		if !hasHook(o.Hooks, hk.URL) {
			o.Hooks = append(o.Hooks, hk)
		}
	}
	return nil
}

func hasHook(hooks []*hook, url string) bool {
	for _, h := range hooks {
		if h.URL == url {
			return true
		}
	}
	return false
}

func (t *tx) seedHook(s SeedHook) (*hook, error) {
	if !validHookURL(s.URL) {
		return nil, fmt.Errorf("hook URL %q is not an http(s) URL", s.URL)
	}
	h := &hook{ID: t.id(), URL: s.URL, Secret: s.Secret, ContentType: "json", Events: s.Events,
		Active: true, Created: t.now, Updated: t.now}
	if s.ContentType != "" {
		if s.ContentType != "json" && s.ContentType != "form" {
			return nil, fmt.Errorf("hook contentType %q is not json or form", s.ContentType)
		}
		h.ContentType = s.ContentType
	}
	if len(h.Events) == 0 {
		h.Events = []string{"*"}
	}
	return h, nil
}

func (t *tx) seedTeams(s SeedOrg) error {
	o := t.org(s.Login)
	for _, st := range s.Teams {
		slug := slugify(st.Name)
		tm := o.Teams[slug]
		if tm == nil {
			tm = &team{ID: t.id(), Name: st.Name, Slug: slug, Privacy: "closed",
				Members: map[string]string{}, Repos: map[string]string{}, Created: t.now}
			o.Teams[slug] = tm
		}
		if tm.Created.Equal(t.now) {
			tm.Description = st.Description
			if st.Privacy != "" {
				tm.Privacy = st.Privacy
			}
			if st.Parent != "" {
				tm.Parent = slugify(st.Parent)
			}
		}
		for _, m := range st.Members {
			t.ensureUser(m)
			if _, ok := o.Members[key(m)]; !ok {
				o.Members[key(m)] = "member"
			}
			if _, ok := tm.Members[key(m)]; !ok {
				tm.Members[key(m)] = "member"
			}
		}
		for _, m := range st.Maintainers {
			t.ensureUser(m)
			if _, ok := o.Members[key(m)]; !ok {
				o.Members[key(m)] = "member"
			}
			if _, ok := tm.Members[key(m)]; !ok {
				tm.Members[key(m)] = "maintainer"
			}
		}
		for name, perm := range st.Repos {
			p := normPerm(perm)
			if p == "" {
				return fmt.Errorf("seed team %s/%s: permission %q for %s is not read, triage, write, maintain or admin", s.Login, st.Name, perm, name)
			}
			if t.repo(o.Login, name) == nil {
				return fmt.Errorf("seed team %s/%s: no repository %s/%s", s.Login, st.Name, o.Login, name)
			}
			if _, ok := tm.Repos[key(o.Login+"/"+name)]; !ok {
				tm.Repos[key(o.Login+"/"+name)] = p
			}
		}
	}
	for _, st := range s.Teams {
		if st.Parent != "" && o.Teams[slugify(st.Parent)] == nil {
			return fmt.Errorf("seed team %s/%s: no parent team %s", s.Login, st.Name, st.Parent)
		}
	}
	return nil
}

func (t *tx) seedRepo(ctx context.Context, s SeedRepo, files map[string][]byte) error {
	owner, name := s.Owner, s.Name
	if owner == "" {
		var ok bool
		if owner, name, ok = strings.Cut(s.Name, "/"); !ok {
			return fmt.Errorf("seed repo %q: name must be owner/name or owner must be set", s.Name)
		}
	}
	if !t.accountExists(owner) {
		t.ensureUser(owner)
	}
	r := t.repo(owner, name)
	if r == nil {
		if s.DefaultBranch == "" {
			s.DefaultBranch = "main"
		}
		r = newRepo(t, t.accountLogin(owner), name)
		r.DefaultBranch = s.DefaultBranch
		if !t.f.git.Exists(r.Owner, name) {
			if _, err := t.f.git.Create(ctx, r.Owner, name, s.DefaultBranch, files, "Initial commit", t.signature(r.Owner)); err != nil {
				return fmt.Errorf("seed repo %s/%s: %w", owner, name, err)
			}
		}
		r.Pushed = t.now
		r.Description, r.Private, r.Archived = s.Description, s.Private, s.Archived
		t.Repos[key(r.fullName())] = r
	}
	for login, perm := range s.Collaborators {
		p := normPerm(perm)
		if p == "" {
			return fmt.Errorf("seed repo %s: permission %q for %s is not read, triage, write, maintain or admin", r.fullName(), perm, login)
		}
		t.ensureUser(login)
		if _, ok := r.Collaborators[key(login)]; !ok {
			r.Collaborators[key(login)] = p
		}
	}
	for _, l := range s.Labels {
		color := strings.TrimPrefix(l.Color, "#")
		if color == "" {
			color = "ededed"
		}
		if !validColor.MatchString(color) {
			return fmt.Errorf("seed repo %s: label %q has color %q, not six hex digits", r.fullName(), l.Name, l.Color)
		}
		if r.label(l.Name) != nil {
			continue
		}
		r.Labels[key(l.Name)] = &label{ID: t.id(), Name: l.Name, Color: strings.ToLower(color), Description: l.Description}
	}
	for _, title := range s.Milestones {
		exists := false
		for _, m := range r.Milestones {
			exists = exists || m.Title == title
		}
		if !exists {
			n := len(r.Milestones) + 1
			r.Milestones[n] = &milestone{ID: t.id(), Number: n, Title: title, State: "open"}
		}
	}
	for _, h := range s.Hooks {
		hk, err := t.seedHook(h)
		if err != nil {
			return fmt.Errorf("seed repo %s: %w", r.fullName(), err)
		}
		if !hasHook(r.Hooks, hk.URL) {
			r.Hooks = append(r.Hooks, hk)
		}
	}
	for branch, p := range s.Protection {
		if r.Protections[branch] != nil {
			continue
		}
		r.Protections[branch] = &protection{HasStatusChecks: len(p.RequiredStatusChecks) > 0 || p.Strict,
			Contexts: p.RequiredStatusChecks, Strict: p.Strict, HasReviews: p.RequiredReviews > 0,
			RequiredReviews: p.RequiredReviews, EnforceAdmins: p.EnforceAdmins}
	}
	return nil
}

func (t *tx) seedApp(s SeedApp, publicKey string) error {
	if s.ID <= 0 || s.Slug == "" {
		return fmt.Errorf("seed: an app needs a positive id and a slug")
	}
	if _, err := parsePublicKey(publicKey); err != nil {
		return fmt.Errorf("seed app %s: %w", s.Slug, err)
	}
	a := t.Apps[s.ID]
	if a == nil {
		a = &app{ID: s.ID, Created: t.now}
		t.Apps[s.ID] = a
	}
	a.Slug, a.Name, a.Owner, a.PublicKey = s.Slug, s.Name, s.Owner, publicKey
	if a.Name == "" {
		a.Name = s.Slug
	}
	a.Permissions, a.Events = s.Permissions, s.Events
	if a.Permissions == nil {
		a.Permissions = map[string]string{"contents": "write", "pull_requests": "write", "issues": "write",
			"statuses": "write", "checks": "write", "metadata": "read", "members": "write", "administration": "write"}
	}
	bot := t.ensureUser(botLogin(a))
	bot.Type = "Bot"
	for _, in := range s.Installations {
		if in.ID <= 0 || !t.accountExists(in.Account) {
			return fmt.Errorf("seed app %s: installation %d needs a positive id and an existing account, not %q", s.Slug, in.ID, in.Account)
		}
		if other := t.Installations[in.ID]; other != nil && other.App != a.ID {
			return fmt.Errorf("seed app %s: installation %d belongs to another app", s.Slug, in.ID)
		}
		t.Installations[in.ID] = &installation{ID: in.ID, App: a.ID, Account: t.accountLogin(in.Account), Created: t.now}
	}
	return nil
}
