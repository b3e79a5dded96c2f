package forge

import (
	"context"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/google/go-github/v89/github"
)

var validColor = regexp.MustCompile(`^[0-9a-fA-F]{6}$`)

func (f *Forge) listLabels(c *call) error {
	var out []*github.Label
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		var ls []*label
		for _, l := range r.Labels {
			ls = append(ls, l)
		}
		sort.Slice(ls, func(a, b int) bool { return key(ls[a].Name) < key(ls[b].Name) })
		out = []*github.Label{}
		for _, l := range ls {
			out = append(out, f.labelJSON(r, l))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

// labelName is the {name} path value; clients escape it.
func (c *call) labelName() string {
	n := c.param("name")
	if u, err := url.PathUnescape(n); err == nil {
		return u
	}
	return n
}

func (f *Forge) getLabel(c *call) error {
	var out *github.Label
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		l := r.label(c.labelName())
		if l == nil {
			return errNotFound()
		}
		out = f.labelJSON(r, l)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

type labelRequest struct {
	Name        *string `json:"name"`
	NewName     *string `json:"new_name"`
	Color       *string `json:"color"`
	Description *string `json:"description"`
}

func (f *Forge) createLabel(c *call) error {
	var req labelRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Name == nil || strings.TrimSpace(*req.Name) == "" {
		return errInvalid("Label", "name", "missing_field")
	}
	color := "ededed"
	if req.Color != nil {
		color = strings.TrimPrefix(*req.Color, "#")
		if !validColor.MatchString(color) {
			return errInvalid("Label", "color", "invalid")
		}
	}
	var out *github.Label
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permWrite)
		if err != nil {
			return err
		}
		if r.label(*req.Name) != nil {
			return errInvalid("Label", "name", "already_exists")
		}
		l := &label{ID: t.id(), Name: *req.Name, Color: strings.ToLower(color)}
		if req.Description != nil {
			l.Description = *req.Description
		}
		r.Labels[key(l.Name)] = l
		out = f.labelJSON(r, l)
		return nil
	})
	if err != nil {
		return err
	}
	return c.created(out)
}

func (f *Forge) editLabel(c *call) error {
	var req labelRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.Label
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permWrite)
		if err != nil {
			return err
		}
		l := r.label(c.labelName())
		if l == nil {
			return errNotFound()
		}
		newName := req.NewName
		if newName == nil {
			newName = req.Name
		}
		if newName != nil && *newName != l.Name {
			if other := r.label(*newName); other != nil && other != l {
				return errInvalid("Label", "name", "already_exists")
			}
			oldKey := key(l.Name)
			delete(r.Labels, oldKey)
			l.Name = *newName
			r.Labels[key(l.Name)] = l
			for _, i := range r.Issues {
				for n, k := range i.Labels {
					if k == oldKey {
						i.Labels[n] = key(l.Name)
					}
				}
			}
		}
		if req.Color != nil {
			color := strings.TrimPrefix(*req.Color, "#")
			if !validColor.MatchString(color) {
				return errInvalid("Label", "color", "invalid")
			}
			l.Color = strings.ToLower(color)
		}
		if req.Description != nil {
			l.Description = *req.Description
		}
		out = f.labelJSON(r, l)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) deleteLabel(c *call) error {
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permWrite)
		if err != nil {
			return err
		}
		l := r.label(c.labelName())
		if l == nil {
			return errNotFound()
		}
		delete(r.Labels, key(l.Name))
		for _, i := range r.Issues {
			i.Labels = removeAll(i.Labels, []string{key(l.Name)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}

func (f *Forge) listIssueLabels(c *call) error {
	var out []*github.Label
	err := f.read(func(s *state) error {
		r, i, err := c.issueFor(s, permRead)
		if err != nil {
			return err
		}
		out = f.labelsJSON(r, i.Labels)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

// labelsBody accepts both GitHub's forms: ["a","b"] and {"labels":[...]}.
func (c *call) labelsBody() ([]string, error) {
	var raw any
	if err := c.decode(&raw); err != nil {
		return nil, err
	}
	var list []any
	switch v := raw.(type) {
	case []any:
		list = v
	case map[string]any:
		l, _ := v["labels"].([]any)
		list = l
	case nil:
	default:
		return nil, errInvalid("Label", "labels", "invalid")
	}
	var out []string
	for _, x := range list {
		switch v := x.(type) {
		case string:
			out = append(out, v)
		case map[string]any:
			if n, ok := v["name"].(string); ok {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

func (f *Forge) addIssueLabels(c *call) error { return f.changeIssueLabels(c, false) }
func (f *Forge) setIssueLabels(c *call) error { return f.changeIssueLabels(c, true) }

func (f *Forge) changeIssueLabels(c *call, replace bool) error {
	names, err := c.labelsBody()
	if err != nil {
		return err
	}
	var out []*github.Label
	err = f.write(func(t *tx) error {
		r, i, err := c.issueFor(t.state, permTriage)
		if err != nil {
			return err
		}
		ctx := c.r.Context()
		if replace {
			t.setLabels(ctx, r, i, names, c.who.login)
		} else {
			t.setLabels(ctx, r, i, append(labelNames(r, i), names...), c.who.login)
		}
		out = f.labelsJSON(r, i.Labels)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func labelNames(r *repo, i *issue) []string {
	var out []string
	for _, k := range i.Labels {
		if l := r.Labels[k]; l != nil {
			out = append(out, l.Name)
		}
	}
	return out
}

// setLabels replaces an issue's labels, creating unknown ones and emitting
// one labeled or unlabeled event per change.
func (t *tx) setLabels(ctx context.Context, r *repo, i *issue, names []string, who string) {
	t.ensureLabels(r, names)
	want := labelKeys(names)
	prev := i.Labels
	i.Labels = want
	i.Updated = t.now
	// Payloads show the pull request as the change left it, as GitHub's do.
	for _, k := range prev {
		if !contains(want, k) {
			if l := r.Labels[k]; l != nil {
				t.labelEvent(ctx, r, i, "unlabeled", who, l)
			}
		}
	}
	for _, k := range want {
		if !contains(prev, k) {
			t.labelEvent(ctx, r, i, "labeled", who, r.Labels[k])
		}
	}
}

func (f *Forge) removeIssueLabel(c *call) error {
	var out []*github.Label
	err := f.write(func(t *tx) error {
		r, i, err := c.issueFor(t.state, permTriage)
		if err != nil {
			return err
		}
		name := c.labelName()
		if !i.hasLabel(name) {
			return &apiError{Status: 404, Message: "Label does not exist"}
		}
		var keep []string
		for _, n := range labelNames(r, i) {
			if key(n) != key(name) {
				keep = append(keep, n)
			}
		}
		t.setLabels(c.r.Context(), r, i, keep, c.who.login)
		out = f.labelsJSON(r, i.Labels)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) removeAllIssueLabels(c *call) error {
	err := f.write(func(t *tx) error {
		r, i, err := c.issueFor(t.state, permTriage)
		if err != nil {
			return err
		}
		t.setLabels(c.r.Context(), r, i, nil, c.who.login)
		return nil
	})
	if err != nil {
		return err
	}
	return c.noContent()
}
