package plan

import (
	"fmt"
	"strings"

	"github.com/bowline-ci/bowline/schema/orgs"
)

// planRepos creates the repositories the configuration names, renames
// those found under a previous name and changes their settings; it never
// deletes one. Archiving and publishing are blocked unless the options
// allow them, and an archived repository is not unarchived, as in
// peribolos. It returns the renames, from lower-cased old name to new
// name, for the teams' repository permissions.
func planRepos(p *Plan, d *Desired, s *State, m Parts) map[string]string {
	renames := map[string]string{}
	if d.Config == nil || (!m.Repos && !m.Collaborators) {
		return renames
	}
	for _, name := range sortedKeys(d.Config.Repos) {
		want := d.Config.Repos[name]
		key := "repo/" + lower(name)
		var existing *Repo
		conflict := false
		for _, n := range append([]string{name}, want.Previously...) {
			r := s.repo(n)
			switch {
			case r == nil:
			case existing == nil:
				existing = r
			case !strings.EqualFold(existing.Name, r.Name):
				conflict = true
			}
		}
		if conflict {
			p.note("repo %s: a repository exists under its name and another under a previous name; it is left alone", name)
			continue
		}
		if m.Repos {
			idx := want
			idx.Collaborators = nil
			p.index(key, idx)
			p.index(key+"/visibility", visibility(want))
			p.index(key+"/archived", want.Archived)
			if existing == nil {
				planRepoCreate(p, name, want, key)
			} else {
				planRepoEdit(p, d, name, want, existing, key)
				if !strings.EqualFold(existing.Name, name) {
					renames[lower(existing.Name)] = name
				}
			}
		}
		if m.Collaborators {
			planCollaborators(p, name, want, existing)
		}
	}
	return renames
}

func planRepoCreate(p *Plan, name string, want orgs.Repo, key string) {
	if want.Archived != nil && *want.Archived {
		p.note("repo %s does not exist but is configured as archived: it is not created", name)
		return
	}
	op := CreateRepo{Name: name, Settings: RepoPatch{
		Description: want.Description, Homepage: want.HomePage, Private: want.Private, Visibility: want.Visibility,
		HasIssues: want.HasIssues, HasProjects: want.HasProjects, HasWiki: want.HasWiki,
		AllowSquashMerge: want.AllowSquashMerge, AllowMergeCommit: want.AllowMergeCommit, AllowRebaseMerge: want.AllowRebaseMerge,
		SquashMergeCommitTitle: want.SquashMergeCommitTitle, SquashMergeCommitMessage: want.SquashMergeCommitMessage,
		DefaultBranch: want.DefaultBranch,
	}}
	if oc := want.OnCreate; oc != nil {
		op.AutoInit = oc.AutoInit != nil && *oc.AutoInit
		op.GitignoreTemplate = deref(oc.GitignoreTemplate)
		op.LicenseTemplate = deref(oc.LicenseTemplate)
	}
	detail := "create"
	if visibility(want) != "" {
		detail += " (" + visibility(want) + ")"
	}
	p.add(Change{Kind: KindRepo, Action: ActionCreate, Key: key, Object: "repo " + name, Detail: detail, Op: op})
}

// visibility is what a repository's configuration says of its visibility.
func visibility(r orgs.Repo) string {
	switch {
	case r.Visibility != nil:
		return *r.Visibility
	case r.Private != nil && *r.Private:
		return "private"
	case r.Private != nil:
		return "public"
	}
	return ""
}

func planRepoEdit(p *Plan, d *Desired, name string, want orgs.Repo, have *Repo, key string) {
	cur := have.Settings
	var patch RepoPatch
	var what []string
	str := func(field string, want *string, have string, dst **string) {
		if want != nil && *want != have {
			*dst = want
			what = append(what, fmt.Sprintf("%s %q → %q", field, have, *want))
		}
	}
	flag := func(field string, want *bool, have bool, dst **bool) {
		if want != nil && *want != have {
			*dst = want
			what = append(what, fmt.Sprintf("%s %t → %t", field, have, *want))
		}
	}
	if have.Name != name {
		patch.Name = &name
		what = append(what, "rename from "+have.Name)
	}
	if cur.Archived {
		if want.Archived != nil && !*want.Archived {
			p.add(Change{Kind: KindRepo, Action: ActionUpdate, Key: key, Object: "repo " + name, Detail: "unarchive",
				Blocked: "GitHub's API does not unarchive a repository (peribolos does not either); unarchive it by hand",
				Op:      EditRepo{Repo: have.Name, Patch: RepoPatch{Archived: want.Archived}}})
		}
		return
	}
	str("description", want.Description, cur.Description, &patch.Description)
	str("homepage", want.HomePage, cur.Homepage, &patch.Homepage)
	flag("has_issues", want.HasIssues, cur.HasIssues, &patch.HasIssues)
	flag("has_projects", want.HasProjects, cur.HasProjects, &patch.HasProjects)
	flag("has_wiki", want.HasWiki, cur.HasWiki, &patch.HasWiki)
	flag("allow_squash_merge", want.AllowSquashMerge, cur.AllowSquashMerge, &patch.AllowSquashMerge)
	flag("allow_merge_commit", want.AllowMergeCommit, cur.AllowMergeCommit, &patch.AllowMergeCommit)
	flag("allow_rebase_merge", want.AllowRebaseMerge, cur.AllowRebaseMerge, &patch.AllowRebaseMerge)
	str("squash_merge_commit_title", want.SquashMergeCommitTitle, cur.SquashMergeCommitTitle, &patch.SquashMergeCommitTitle)
	str("squash_merge_commit_message", want.SquashMergeCommitMessage, cur.SquashMergeCommitMessage, &patch.SquashMergeCommitMessage)
	str("default_branch", want.DefaultBranch, cur.DefaultBranch, &patch.DefaultBranch)

	// Visibility and archival are changes of their own, so that blocking
	// one leaves the other settings to apply.
	curVis := cur.Visibility
	if curVis == "" {
		curVis = map[bool]string{true: "private", false: "public"}[cur.Private]
	}
	var vis RepoPatch
	visDetail, publish := "", false
	if want.Visibility != nil && *want.Visibility != curVis {
		vis.Visibility = want.Visibility
		visDetail, publish = fmt.Sprintf("visibility %s → %s", curVis, *want.Visibility), *want.Visibility == "public"
	} else if want.Visibility == nil && want.Private != nil && *want.Private != cur.Private {
		vis.Private = want.Private
		visDetail, publish = fmt.Sprintf("private %t → %t", cur.Private, *want.Private), !*want.Private
	}
	repoName := have.Name
	if len(what) > 0 {
		p.add(Change{Kind: KindRepo, Action: ActionUpdate, Key: key, Object: "repo " + name, Detail: strings.Join(what, ", "),
			Op: EditRepo{Repo: repoName, Patch: patch}})
		repoName = name
	}
	if visDetail != "" {
		c := Change{Kind: KindRepo, Action: ActionUpdate, Key: key + "/visibility", Object: "repo " + name, Detail: visDetail,
			Op: EditRepo{Repo: repoName, Patch: vis}, order: 1}
		if publish && !d.Options.AllowRepoPublish {
			c.Blocked = "making a private repository public is not allowed (spec.safety.allowRepoPublish)"
		}
		p.add(c)
	}
	if want.Archived != nil && *want.Archived {
		c := Change{Kind: KindRepo, Action: ActionUpdate, Key: key + "/archived", Object: "repo " + name, Detail: "archive",
			Op: EditRepo{Repo: repoName, Patch: RepoPatch{Archived: want.Archived}}, order: 2}
		if !d.Options.AllowRepoArchival {
			c.Blocked = "archiving a repository is not allowed (spec.safety.allowRepoArchival)"
		}
		p.add(c)
	}
}

// planCollaborators gives the configured collaborators their permission
// and removes every other direct collaborator and pending invitation (and
// those configured with none), as peribolos does; members' access through the org and its teams is not
// touched.
func planCollaborators(p *Plan, name string, want orgs.Repo, have *Repo) {
	wantPerm := map[string]string{}
	spelled := map[string]string{}
	for u, perm := range want.Collaborators {
		// none is peribolos' way of saying "not a collaborator": removed.
		if perm = normPermission(perm); perm == "" || perm == "none" {
			continue
		}
		wantPerm[lower(u)] = perm
		spelled[lower(u)] = u
	}
	var direct map[string]string
	var invites map[string]RepoInvitation
	if have != nil {
		direct, invites = have.Collaborators, have.Invitations
	}
	prefix := "repo/" + lower(name) + "/collaborator/"
	obj := func(u string) string { return fmt.Sprintf("repo %s collaborator %s", name, u) }
	for _, u := range sortedKeys(wantPerm) {
		perm := wantPerm[u]
		key := prefix + u
		p.index(key, perm)
		inv, invited := invites[u]
		switch cur, ok := direct[u]; {
		case ok && cur == perm:
		case ok:
			p.add(Change{Kind: KindCollaborator, Action: ActionUpdate, Key: key, Object: obj(spelled[u]),
				Detail: fmt.Sprintf("permission %s → %s", cur, perm), Op: SetCollaborator{Repo: name, Login: spelled[u], Permission: perm}})
		case invited && normPermission(inv.Permission) == perm:
			// Waiting for them to accept.
		case invited:
			p.add(Change{Kind: KindCollaborator, Action: ActionUpdate, Key: key, Object: obj(spelled[u]),
				Detail: fmt.Sprintf("invitation's permission %s → %s", inv.Permission, perm),
				Op:     SetCollaborator{Repo: name, Login: spelled[u], Permission: perm, InvitationID: inv.ID}})
		default:
			p.add(Change{Kind: KindCollaborator, Action: ActionCreate, Key: key, Object: obj(spelled[u]),
				Detail: "add with " + perm, Op: SetCollaborator{Repo: name, Login: spelled[u], Permission: perm}})
		}
	}
	for _, u := range sortedKeys(direct) {
		if _, ok := wantPerm[u]; !ok {
			p.add(Change{Kind: KindCollaborator, Action: ActionDelete, Key: prefix + u, Object: obj(u),
				Detail: "remove (" + direct[u] + ")", Op: RemoveCollaborator{Repo: name, Login: u}})
		}
	}
	for _, u := range sortedKeys(invites) {
		if _, ok := wantPerm[u]; !ok {
			if _, dup := direct[u]; dup {
				continue
			}
			p.add(Change{Kind: KindCollaborator, Action: ActionDelete, Key: prefix + u, Object: obj(u),
				Detail: "cancel the invitation", Op: RemoveCollaborator{Repo: name, Login: u, InvitationID: invites[u].ID}})
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
