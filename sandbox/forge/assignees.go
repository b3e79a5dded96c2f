package forge

// Who may be assigned to an issue or pull request, and who may be asked
// for a review, as GitHub decides: "anyone who has commented on the issue
// or pull request, anyone with write permissions to the repository, and
// organization members with read permissions to the repository", at most
// maxAssignees of them. Others are silently left out of an assignment, as
// GitHub does (clients compare the answer with what they asked for).

// maxAssignees is GitHub's limit of assignees per issue or pull request.
const maxAssignees = 10

// mayBeAssigned reports whether login may be assigned to i on r.
func (s *state) mayBeAssigned(r *repo, i *issue, login string) bool {
	if s.hasAccess(r, login) {
		return true
	}
	if i == nil {
		return false
	}
	for _, c := range r.Comments {
		if c.Issue == i.Number && key(c.User) == key(login) {
			return true
		}
	}
	for _, c := range r.ReviewComments {
		if c.Issue == i.Number && key(c.User) == key(login) {
			return true
		}
	}
	if i.PR != nil {
		for _, rv := range i.PR.Reviews {
			if key(rv.User) == key(login) {
				return true
			}
		}
	}
	return false
}

// hasAccess reports whether login is a collaborator of r or a member of
// its org with at least read access: who may be assigned anywhere on r,
// and asked for reviews.
func (s *state) hasAccess(r *repo, login string) bool {
	if _, ok := s.accessList(r, "all")[key(login)]; ok {
		return true
	}
	if o := s.org(r.Owner); o != nil {
		if _, member := o.Members[key(login)]; member {
			return atLeast(s.perm(principal{login: login}, r), permRead)
		}
	}
	return false
}

// assignable keeps, in order and without repeats, the logins that may be
// assigned to i (nil for an issue being created) on r, up to GitHub's
// limit counting those in keep, which stay.
func (t *tx) assignable(r *repo, i *issue, keep, logins []string) []string {
	out := append([]string(nil), keep...)
	for _, l := range logins {
		if len(out) >= maxAssignees {
			break
		}
		if t.mayBeAssigned(r, i, l) && !containsFold(out, l) {
			out = append(out, t.accountLogin(l))
		}
	}
	return out
}
