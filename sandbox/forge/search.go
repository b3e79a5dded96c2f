package forge

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
)

// Issue search: the qualifiers Tide and bowline's merge controller use,
// with GitHub's semantics (qualifiers AND together, comma-separated values
// within one qualifier OR together, a leading '-' negates).

type term struct {
	neg       bool
	qualifier string // "" for free text
	values    []string
}

// tokenize splits a query on spaces outside double quotes.
func tokenize(q string) []string {
	var out []string
	var b strings.Builder
	quoted := false
	for _, r := range q {
		switch {
		case r == '"':
			quoted = !quoted
		case (r == ' ' || r == '\t' || r == '+') && !quoted:
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

func parseQuery(q string) []term {
	var terms []term
	for _, tok := range tokenize(q) {
		t := term{}
		if strings.HasPrefix(tok, "-") && len(tok) > 1 {
			t.neg, tok = true, tok[1:]
		}
		if qual, val, ok := strings.Cut(tok, ":"); ok && qual != "" && !strings.Contains(qual, "/") {
			t.qualifier = strings.ToLower(qual)
			t.values = strings.Split(val, ",")
		} else {
			t.values = []string{tok}
		}
		terms = append(terms, t)
	}
	return terms
}

// searchCtx is one issue being matched, with lazily computed facts.
type searchCtx struct {
	ctx context.Context
	f   *Forge
	s   *state
	r   *repo
	i   *issue
}

func (sc searchCtx) matchOne(qual, v string) (bool, bool) {
	i, r := sc.i, sc.r
	v = strings.Trim(v, `"`)
	lv := strings.ToLower(v)
	switch qual {
	case "is", "type":
		switch lv {
		case "pr", "pull-request":
			return i.PR != nil, true
		case "issue":
			return i.PR == nil, true
		case "open", "closed":
			return i.State == lv, true
		case "merged":
			return i.PR != nil && i.PR.Merged, true
		case "unmerged":
			return i.PR != nil && !i.PR.Merged && i.State == "closed", true
		case "draft":
			return i.PR != nil && i.PR.Draft, true
		case "public":
			return !r.Private, true
		case "private":
			return r.Private, true
		case "locked":
			return i.Locked, true
		case "unlocked":
			return !i.Locked, true
		}
	case "state":
		return i.State == lv, true
	case "repo":
		return key(r.fullName()) == lv, true
	case "org", "user", "owner":
		return key(r.Owner) == lv, true
	case "label":
		return i.hasLabel(v), true
	case "base":
		return i.PR != nil && i.PR.Base == v, true
	case "head":
		return i.PR != nil && i.PR.Head == v, true
	case "author":
		return key(i.User) == lv || key(strings.TrimPrefix(i.User, "app/")) == lv, true
	case "assignee":
		return containsFold(i.Assignees, v), true
	case "milestone":
		m := r.Milestones[i.Milestone]
		return m != nil && strings.EqualFold(m.Title, v), true
	case "archived":
		return r.Archived == (lv == "true"), true
	case "draft":
		return i.PR != nil && i.PR.Draft == (lv == "true"), true
	case "review":
		if i.PR == nil {
			return false, true
		}
		decision, _ := sc.s.reviewDecision(r, i)
		switch lv {
		case "approved":
			return decision == "approved", true
		case "changes_requested":
			return decision == "changes_requested", true
		case "none":
			return len(i.PR.Reviews) == 0, true
		case "required":
			return decision != "approved", true
		}
	case "review-requested":
		return i.PR != nil && containsFold(i.PR.RequestedReviewers, v), true
	case "reviewed-by":
		if i.PR != nil {
			for _, rv := range i.PR.Reviews {
				if key(rv.User) == lv && rv.State != "PENDING" {
					return true, true
				}
			}
		}
		return false, true
	case "status":
		if i.PR == nil {
			return false, true
		}
		return combinedState(latestStatuses(r.Statuses[i.PR.HeadSHA])) == lv, true
	case "no":
		switch lv {
		case "label":
			return len(i.Labels) == 0, true
		case "assignee":
			return len(i.Assignees) == 0, true
		case "milestone":
			return i.Milestone == 0, true
		}
	case "created":
		return matchDate(i.Created, v), true
	case "updated":
		return matchDate(i.Updated, v), true
	case "closed":
		return i.Closed != nil && matchDate(*i.Closed, v), true
	case "merged":
		return i.PR != nil && i.PR.MergedAt != nil && matchDate(*i.PR.MergedAt, v), true
	case "in", "sort":
		return true, true
	}
	return false, false
}

// matches applies every term to the issue.
func (sc searchCtx) matches(terms []term) bool {
	for _, t := range terms {
		hit := false
		if t.qualifier == "" {
			text := strings.ToLower(sc.i.Title + "\n" + sc.i.Body)
			hit = strings.Contains(text, strings.ToLower(strings.Trim(t.values[0], `"`)))
		} else {
			known := false
			for _, v := range t.values {
				ok, k := sc.matchOne(t.qualifier, v)
				known = known || k
				hit = hit || ok
			}
			if !known {
				// GitHub treats unknown qualifiers as words.
				text := strings.ToLower(sc.i.Title + "\n" + sc.i.Body)
				hit = strings.Contains(text, strings.ToLower(t.qualifier+":"+strings.Join(t.values, ",")))
			}
		}
		if hit == t.neg {
			return false
		}
	}
	return true
}

// matchDate handles >, >=, <, <=, a..b and plain dates or times.
func matchDate(t time.Time, spec string) bool {
	// GitHub keeps and compares times to the second.
	t = t.Truncate(time.Second)
	parse := func(s string) (time.Time, bool) {
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
			if v, err := time.Parse(layout, s); err == nil {
				return v, true
			}
		}
		return time.Time{}, false
	}
	if a, b, ok := strings.Cut(spec, ".."); ok {
		lo, ok1 := parse(a)
		hi, ok2 := parse(b)
		return (a == "*" || (ok1 && !t.Before(lo))) && (b == "*" || (ok2 && !t.After(hi.Add(dayIfDate(b)))))
	}
	for _, op := range []string{">=", "<=", ">", "<"} {
		if rest, ok := strings.CutPrefix(spec, op); ok {
			v, ok := parse(rest)
			if !ok {
				return false
			}
			switch op {
			case ">=":
				return !t.Before(v)
			case "<=":
				return !t.After(v.Add(dayIfDate(rest)))
			case ">":
				return t.After(v.Add(dayIfDate(rest)))
			default:
				return t.Before(v)
			}
		}
	}
	v, ok := parse(spec)
	if !ok {
		return false
	}
	return !t.Before(v) && t.Before(v.Add(max(dayIfDate(spec), time.Second)))
}

// dayIfDate widens a bare date to the whole day.
func dayIfDate(s string) time.Duration {
	if len(s) == len("2006-01-02") {
		return 24*time.Hour - time.Nanosecond
	}
	return 0
}

func (f *Forge) searchIssues(c *call) error {
	q := c.query("q")
	if strings.TrimSpace(q) == "" {
		return &apiError{Status: http.StatusUnprocessableEntity, Message: "Validation Failed",
			Errors: []fieldError{{Resource: "Search", Field: "q", Code: "missing"}}}
	}
	terms := parseQuery(q)
	by, order := c.query("sort"), c.query("order")
	for _, t := range terms {
		if t.qualifier == "sort" && !t.neg && len(t.values) > 0 {
			v := t.values[0]
			by, order, _ = strings.Cut(v, "-")
			if order == "" {
				order = "desc"
			}
		}
	}
	var out *github.IssuesSearchResult
	err := f.read(func(s *state) error {
		type hit struct {
			r *repo
			i *issue
		}
		var hits []hit
		for _, r := range s.Repos {
			if s.perm(c.who, r) == permNone {
				continue
			}
			for _, i := range r.Issues {
				sc := searchCtx{ctx: c.r.Context(), f: f, s: s, r: r, i: i}
				if sc.matches(terms) {
					hits = append(hits, hit{r, i})
				}
			}
		}
		keyOf := func(h hit) int64 {
			switch by {
			case "updated":
				return h.i.Updated.UnixNano()
			case "comments":
				return int64(h.r.commentCount(h.i.Number))
			case "created":
				return h.i.Created.UnixNano()
			}
			return h.i.ID // best match: newest first, deterministic
		}
		asc := order == "asc"
		sort.SliceStable(hits, func(a, b int) bool {
			ka, kb := keyOf(hits[a]), keyOf(hits[b])
			if ka == kb {
				ka, kb = hits[a].i.ID, hits[b].i.ID
			}
			if asc {
				return ka < kb
			}
			return ka > kb
		})
		// GitHub counts every match but serves at most 1000 of them.
		total := len(hits)
		if len(hits) > 1000 {
			hits = hits[:1000]
		}
		out = &github.IssuesSearchResult{Total: github.Ptr(total), IncompleteResults: github.Ptr(false),
			Issues: []*github.Issue{}}
		for _, h := range paginate(c, hits) {
			out.Issues = append(out.Issues, f.issueJSON(s, h.r, h.i))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}
