package plan

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
)

// Expected returns the org as it will be once the plan's changes are made
// to s and every invitation is accepted: a copy of s, changed as the
// applier would change GitHub, blocked changes left out. s is not modified.
//
// It lets two configurations be compared without GitHub: plan the old one
// against what GitHub holds (or an empty org), take Expected, and plan the
// new one against that. The second plan is what the change of
// configuration does, apart from drift.
func (p *Plan) Expected(s *State) *State {
	out := copyState(s, p.Org)
	e := expecter{s: out, slugs: map[string]string{}}
	for name, slug := range p.TeamSlugs {
		e.slugs[name] = slug
	}
	for _, c := range p.Changes {
		if c.Blocked == "" {
			e.apply(c.Op)
		}
	}
	out.Normalize()
	return out
}

// copyState deep-copies a State: it is plain data.
func copyState(s *State, org string) *State {
	out := &State{Org: org}
	if s == nil {
		return out
	}
	b, err := json.Marshal(s)
	if err == nil {
		err = json.Unmarshal(b, out)
	}
	if err != nil {
		// A State always marshals; keep the org rather than fail.
		return &State{Org: org}
	}
	return out
}

// expecter makes a plan's changes to a State.
type expecter struct {
	s *State
	// slugs maps the configuration's team names to the slugs of their
	// teams, those the plan creates included.
	slugs  map[string]string
	nextID int64
}

func (e *expecter) apply(op Op) {
	s := e.s
	switch op := op.(type) {
	case EditOrg:
		applyOrg(&s.Settings, op)
	case SetMember:
		s.Members = setIn(s.Members, lower(op.Login), op.Role)
		delete(s.Invitations, lower(op.Login))
	case RemoveMember:
		login := lower(op.Login)
		delete(s.Members, login)
		delete(s.Invitations, login)
		// Leaving the org ends one's team memberships.
		for i := range s.Teams {
			delete(s.Teams[i].Members, login)
		}
	case CreateTeam:
		privacy := op.Privacy
		if privacy == "" {
			// GitHub's default; nested teams are always closed.
			privacy = map[bool]string{true: "closed", false: "secret"}[op.Parent != ""]
		}
		e.nextID--
		slug := slugOf(op.Name)
		e.slugs[op.Name] = slug
		s.Teams = append(s.Teams, Team{ID: e.nextID, Slug: slug, Name: op.Name, Description: op.Description,
			Privacy: privacy, Parent: e.slugs[op.Parent], Members: map[string]string{}, Repos: map[string]string{}})
	case EditTeam:
		e.editTeam(op)
	case DeleteTeam:
		e.deleteTeam(op.Slug)
	case SetTeamMember:
		if t := e.team(op.Team); t != nil {
			t.Members = setIn(t.Members, lower(op.Login), op.Role)
			t.Invitees = slices.DeleteFunc(t.Invitees, func(u string) bool { return strings.EqualFold(u, op.Login) })
		}
	case RemoveTeamMember:
		if t := e.team(op.Team); t != nil {
			delete(t.Members, lower(op.Login))
			t.Invitees = slices.DeleteFunc(t.Invitees, func(u string) bool { return strings.EqualFold(u, op.Login) })
		}
	case SetTeamRepo:
		if t := e.team(op.Team); t != nil {
			t.Repos = setIn(t.Repos, lower(op.Repo), op.Permission)
		}
	case RemoveTeamRepo:
		if t := e.team(op.Team); t != nil {
			delete(t.Repos, lower(op.Repo))
		}
	case CreateRepo:
		// GitHub's defaults for what the configuration leaves unset.
		r := Repo{Name: op.Name, Detailed: true, Collaborators: map[string]string{}, Settings: RepoSettings{
			Visibility: "public", HasIssues: true, HasProjects: true, HasWiki: true,
			AllowSquashMerge: true, AllowMergeCommit: true, AllowRebaseMerge: true, DefaultBranch: "main",
		}}
		applyRepo(&r, op.Settings)
		s.Repos = append(s.Repos, r)
	case EditRepo:
		if r := s.repo(op.Repo); r != nil {
			applyRepo(r, op.Patch)
		}
	case SetCollaborator:
		if r := s.repo(op.Repo); r != nil {
			r.Collaborators = setIn(r.Collaborators, lower(op.Login), op.Permission)
			delete(r.Invitations, lower(op.Login))
		}
	case RemoveCollaborator:
		if r := s.repo(op.Repo); r != nil {
			delete(r.Collaborators, lower(op.Login))
			delete(r.Invitations, lower(op.Login))
		}
	case SetProtection:
		if b := branchOf(s.repo(op.Repo), op.Branch); b != nil {
			pr := op.Protection
			b.Protected, b.Protection = true, &pr
		}
	case RemoveProtection:
		if b := branchOf(s.repo(op.Repo), op.Branch); b != nil {
			b.Protected, b.Protection = false, nil
		}
	case CreateLabel:
		if r := s.repo(op.Repo); r != nil {
			r.Labels = append(r.Labels, op.Label)
		}
	case EditLabel:
		if r := s.repo(op.Repo); r != nil {
			r.Labels = slices.DeleteFunc(r.Labels, func(l Label) bool {
				return strings.EqualFold(l.Name, op.Name) || strings.EqualFold(l.Name, op.Label.Name)
			})
			r.Labels = append(r.Labels, op.Label)
		}
	case MigrateLabel:
		e.deleteLabel(op.Repo, op.From)
	case DeleteLabel:
		e.deleteLabel(op.Repo, op.Name)
	}
}

func (e *expecter) team(name string) *Team {
	slug, ok := e.slugs[name]
	if !ok {
		return nil
	}
	for i := range e.s.Teams {
		if e.s.Teams[i].Slug == slug {
			return &e.s.Teams[i]
		}
	}
	return nil
}

func (e *expecter) editTeam(op EditTeam) {
	t := e.team(op.Team)
	if t == nil {
		return
	}
	if op.Name != nil {
		// GitHub derives the slug from the name.
		old, slug := t.Slug, slugOf(*op.Name)
		t.Name, t.Slug = *op.Name, slug
		e.slugs[op.Team] = slug
		for i := range e.s.Teams {
			if e.s.Teams[i].Parent == old {
				e.s.Teams[i].Parent = slug
			}
		}
	}
	if op.Description != nil {
		t.Description = *op.Description
	}
	if op.Privacy != nil {
		t.Privacy = *op.Privacy
	}
	if op.Parent != nil {
		t.Parent = e.slugs[*op.Parent]
	}
	if op.RemoveParent {
		t.Parent = ""
	}
}

// deleteTeam deletes a team and, as GitHub does, its child teams.
func (e *expecter) deleteTeam(slug string) {
	gone := map[string]bool{slug: true}
	for changed := true; changed; {
		changed = false
		for _, t := range e.s.Teams {
			if !gone[t.Slug] && gone[t.Parent] {
				gone[t.Slug], changed = true, true
			}
		}
	}
	e.s.Teams = slices.DeleteFunc(e.s.Teams, func(t Team) bool { return gone[t.Slug] })
}

func (e *expecter) deleteLabel(repo, name string) {
	if r := e.s.repo(repo); r != nil {
		r.Labels = slices.DeleteFunc(r.Labels, func(l Label) bool { return strings.EqualFold(l.Name, name) })
	}
}

func branchOf(r *Repo, name string) *Branch {
	if r == nil {
		return nil
	}
	for i := range r.Branches {
		if r.Branches[i].Name == name {
			return &r.Branches[i]
		}
	}
	return nil
}

func setIn(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

func applyOrg(s *OrgSettings, op EditOrg) {
	str := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	flag := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	str(&s.BillingEmail, op.BillingEmail)
	str(&s.Company, op.Company)
	str(&s.Email, op.Email)
	str(&s.Name, op.Name)
	str(&s.Description, op.Description)
	str(&s.Location, op.Location)
	flag(&s.HasOrganizationProjects, op.HasOrganizationProjects)
	flag(&s.HasRepositoryProjects, op.HasRepositoryProjects)
	str(&s.DefaultRepositoryPermission, op.DefaultRepositoryPermission)
	flag(&s.MembersCanCreateRepositories, op.MembersCanCreateRepositories)
	flag(&s.MembersCanCreatePublicRepositories, op.MembersCanCreatePublicRepositories)
	flag(&s.MembersCanCreatePrivateRepositories, op.MembersCanCreatePrivateRepositories)
	flag(&s.MembersCanCreateInternalRepositories, op.MembersCanCreateInternalRepositories)
}

func applyRepo(r *Repo, p RepoPatch) {
	s := &r.Settings
	str := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	flag := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	str(&r.Name, p.Name)
	str(&s.Description, p.Description)
	str(&s.Homepage, p.Homepage)
	flag(&s.HasIssues, p.HasIssues)
	flag(&s.HasProjects, p.HasProjects)
	flag(&s.HasWiki, p.HasWiki)
	flag(&s.AllowSquashMerge, p.AllowSquashMerge)
	flag(&s.AllowMergeCommit, p.AllowMergeCommit)
	flag(&s.AllowRebaseMerge, p.AllowRebaseMerge)
	str(&s.SquashMergeCommitTitle, p.SquashMergeCommitTitle)
	str(&s.SquashMergeCommitMessage, p.SquashMergeCommitMessage)
	str(&s.DefaultBranch, p.DefaultBranch)
	flag(&s.Archived, p.Archived)
	switch {
	case p.Visibility != nil:
		s.Visibility, s.Private = *p.Visibility, *p.Visibility != "public"
	case p.Private != nil:
		s.Private = *p.Private
		s.Visibility = map[bool]string{true: "private", false: "public"}[*p.Private]
	}
}

var slugInvalid = regexp.MustCompile(`[^a-z0-9_]+`)

// slugOf is the slug GitHub gives a team of that name: lower case, runs of
// other characters replaced by one dash.
func slugOf(name string) string {
	return strings.Trim(slugInvalid.ReplaceAllString(lower(name), "-"), "-")
}

// Converged returns the org once the configuration d is applied to s, as
// the orgs role converges it, sync after sync: some changes are planned
// only once others are made (the labels of a repository it creates).
func Converged(d *Desired, s *State) *State {
	for range 3 {
		p := Compute(d, s)
		if !p.hasApplicable() {
			break
		}
		s = p.Expected(s)
	}
	return s
}

func (p *Plan) hasApplicable() bool {
	return slices.ContainsFunc(p.Changes, func(c Change) bool { return c.Blocked == "" })
}
