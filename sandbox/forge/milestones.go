package forge

import (
	"sort"
	"strings"

	"github.com/google/go-github/v89/github"
)

// Milestones: enough for the milestone qualifier of search, Prow's
// milestone plugins and issue edits that set a milestone by number.

func (f *Forge) listMilestones(c *call) error {
	var out []*github.Milestone
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		st := c.query("state")
		if st == "" {
			st = "open"
		}
		var nums []int
		for n, m := range r.Milestones {
			if st == "all" || m.State == st {
				nums = append(nums, n)
			}
		}
		sort.Ints(nums)
		out = []*github.Milestone{}
		for _, n := range nums {
			out = append(out, f.milestoneJSON(r, n))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(paginate(c, out))
}

func (f *Forge) getMilestone(c *call) error {
	n, err := c.intParam("number")
	if err != nil {
		return err
	}
	var out *github.Milestone
	err = f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		if out = f.milestoneJSON(r, n); out == nil {
			return errNotFound()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) createMilestone(c *call) error {
	var req struct {
		Title string `json:"title"`
		State string `json:"state"`
	}
	if err := c.decode(&req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Title) == "" {
		return errInvalid("Milestone", "title", "missing_field")
	}
	if req.State == "" {
		req.State = "open"
	}
	if req.State != "open" && req.State != "closed" {
		return errInvalid("Milestone", "state", "invalid")
	}
	var out *github.Milestone
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permWrite)
		if err != nil {
			return err
		}
		n := 1
		for num, m := range r.Milestones {
			if m.Title == req.Title {
				return errInvalid("Milestone", "title", "already_exists")
			}
			n = max(n, num+1)
		}
		if r.Milestones == nil {
			r.Milestones = map[int]*milestone{}
		}
		r.Milestones[n] = &milestone{ID: t.id(), Number: n, Title: req.Title, State: req.State}
		out = f.milestoneJSON(r, n)
		return nil
	})
	if err != nil {
		return err
	}
	return c.created(out)
}
