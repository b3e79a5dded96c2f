package ghclient

import (
	"strings"
)

// paramKind says how many path segments follow a collection name and which
// of them are parameters.
type paramKind int

const (
	// anyParam: the next segment, whatever it is, is a parameter.
	anyParam paramKind = iota
	// numericParam: the next segment is a parameter only if it is a number,
	// so /issues/comments keeps "comments" as a literal.
	numericParam
	// restParam: everything that follows is one parameter (file paths, refs).
	restParam
	// ownerRepoParam: the next two segments are :owner and :repo.
	ownerRepoParam
)

type param struct {
	kind paramKind
	name string
}

// collections maps a path segment to the parameter that follows it in
// GitHub's REST routes.
var collections = map[string]param{
	"repos":         {ownerRepoParam, ""},
	"orgs":          {anyParam, ":org"},
	"users":         {anyParam, ":username"},
	"teams":         {anyParam, ":team"},
	"members":       {anyParam, ":username"},
	"memberships":   {anyParam, ":username"},
	"collaborators": {anyParam, ":username"},
	"assignees":     {anyParam, ":assignee"},
	"issues":        {numericParam, ":number"},
	"pulls":         {numericParam, ":number"},
	"milestones":    {numericParam, ":number"},
	"comments":      {numericParam, ":id"},
	"reviews":       {numericParam, ":id"},
	"hooks":         {numericParam, ":id"},
	"deliveries":    {numericParam, ":id"},
	"invitations":   {numericParam, ":id"},
	"check-runs":    {numericParam, ":id"},
	"check-suites":  {numericParam, ":id"},
	"installations": {numericParam, ":id"},
	"labels":        {anyParam, ":name"},
	"statuses":      {anyParam, ":ref"},
	"commits":       {anyParam, ":ref"},
	"branches":      {anyParam, ":branch"},
	"trees":         {anyParam, ":sha"},
	"blobs":         {anyParam, ":sha"},
	"tags":          {anyParam, ":sha"},
	"contents":      {restParam, ":path"},
	"refs":          {restParam, ":ref"},
	"ref":           {restParam, ":ref"},
	"matching-refs": {restParam, ":ref"},
	"compare":       {restParam, ":basehead"},
	"tarball":       {restParam, ":ref"},
	"zipball":       {restParam, ":ref"},
}

// literals are path segments kept as they are. Any segment that is neither a
// collection nor a literal becomes :param, so the number of templates stays
// bounded whatever URLs are requested.
var literals = map[string]bool{
	"access_tokens": true, "app": true, "archived": true, "code": true,
	"combined": true, "dismissals": true, "enforce_admins": true,
	"events": true, "files": true, "git": true, "graphql": true,
	"installation": true, "merge": true, "merges": true, "outside_collaborators": true,
	"permission": true, "protection": true, "public_members": true,
	"rate_limit": true, "readme": true, "repositories": true,
	"requested_reviewers": true, "required_pull_request_reviews": true,
	"required_status_checks": true, "restrictions": true, "search": true,
	"status": true, "user": true, "update-branch": true, "merge-upstream": true,
	"contexts": true, "lock": true, "reactions": true, "ping": true,
	"attempts": true, "redeliver": true, "timeline": true, "sub_issues": true,
}

// pathTemplate turns a request path into a route template with a bounded
// set of values, for metric labels: /repos/o/r/pulls/1/files becomes
// /repos/:owner/:repo/pulls/:number/files. prefix is the API base path
// (/api/v3 for GitHub Enterprise) and is dropped first.
func pathTemplate(prefix, path string) string {
	path = strings.TrimPrefix(path, strings.TrimSuffix(prefix, "/"))
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) == 1 && segs[0] == "" {
		return "/"
	}
	out := make([]string, 0, len(segs))
	for i := 0; i < len(segs); i++ {
		s := segs[i]
		p, isCollection := collections[s]
		switch {
		case isCollection:
			out = append(out, s)
			rest := len(segs) - i - 1
			if rest == 0 {
				continue
			}
			switch p.kind {
			case ownerRepoParam:
				out = append(out, ":owner")
				i++
				if rest > 1 {
					out = append(out, ":repo")
					i++
				}
			case restParam:
				out = append(out, p.name)
				i = len(segs)
			case numericParam:
				if isNumber(segs[i+1]) {
					out = append(out, p.name)
					i++
				}
			case anyParam:
				out = append(out, p.name)
				i++
			}
		case literals[s]:
			out = append(out, s)
		case isNumber(s):
			out = append(out, ":id")
		default:
			out = append(out, ":param")
		}
	}
	return "/" + strings.Join(out, "/")
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
