package plan

import (
	"fmt"
	"strings"

	"github.com/bowline-ci/bowline/schema/labels"
)

// labelIndex is what labels.yaml says about a label.
type labelIndex struct {
	Name        string   `json:"name"`
	Color       string   `json:"color"`
	Description string   `json:"description,omitempty"`
	Previously  []string `json:"previously,omitempty"`
}

// classified sorts a repository's configured labels as label_sync does.
type classified struct {
	// required must exist, with this name, color and description.
	required map[string]labels.Label
	// archaic are previous names, mapped to the label they became.
	archaic map[string]archaicLabel
	// dead are past their deleteAfter.
	dead map[string]labels.Label
	// listed are every name labels.yaml mentions.
	listed map[string]bool
}

type archaicLabel struct {
	old, current labels.Label
}

func classify(list []labels.Label, d *Desired) classified {
	c := classified{required: map[string]labels.Label{}, archaic: map[string]archaicLabel{}, dead: map[string]labels.Label{}, listed: map[string]bool{}}
	var walk func(list []labels.Label, parent *labels.Label)
	walk = func(list []labels.Label, parent *labels.Label) {
		for i := range list {
			l := list[i]
			low := lower(l.Name)
			c.listed[low] = true
			switch {
			case l.DeleteAfter != nil && d.Now.After(*l.DeleteAfter):
				c.dead[low] = l
			case parent == nil && l.DeleteAfter == nil:
				c.required[low] = l
			case parent != nil:
				c.archaic[low] = archaicLabel{old: l, current: *parent}
			}
			top := parent
			if top == nil {
				top = &list[i]
			}
			walk(l.Previously, top)
		}
	}
	walk(list, nil)
	return c
}

// planLabels keeps each repository's labels as labels.yaml says, as
// label_sync does: labels past their deleteAfter are deleted, a previous
// name is renamed to the current one (or, when the current one exists
// already, its issues and pull requests are moved to it and it is
// deleted), missing labels are created and colors and descriptions
// corrected. Other labels stay unless DeleteUnlistedLabels is set.
// Archived repositories are skipped.
func planLabels(p *Plan, d *Desired, s *State) {
	for i := range s.Repos {
		r := &s.Repos[i]
		if r.Settings.Archived {
			continue
		}
		planRepoLabels(p, d, r)
	}
}

func planRepoLabels(p *Plan, d *Desired, r *Repo) {
	c := classify(d.labelsFor(r.Name), d)
	prefix := "label/" + lower(r.Name) + "/"
	object := func(name string) string { return fmt.Sprintf("label %s in %s", name, r.Name) }
	for low, l := range c.required {
		var prev []string
		for _, x := range l.Previously {
			prev = append(prev, x.Name)
		}
		p.index(prefix+low, labelIndex{Name: l.Name, Color: lower(l.Color), Description: l.Description, Previously: prev})
	}
	for low, a := range c.archaic {
		p.index(prefix+low, "renamed to "+a.current.Name)
	}
	for low := range c.dead {
		p.index(prefix+low, "deleted")
	}
	current := map[string]Label{}
	for _, l := range r.Labels {
		current[lower(l.Name)] = l
	}
	// Orders within the repository, as label_sync: deletions, renames,
	// creations and corrections, migrations last.
	for _, low := range sortedKeys(current) {
		if _, dead := c.dead[low]; dead {
			p.add(Change{Kind: KindLabel, Action: ActionDelete, Key: prefix + low, Object: object(current[low].Name),
				Detail: "past its deleteAfter", Op: DeleteLabel{Repo: r.Name, Name: current[low].Name}, order: 0})
		}
	}
	for _, low := range sortedKeys(c.archaic) {
		cur, ok := current[low]
		if _, dead := c.dead[low]; !ok || dead {
			continue
		}
		to := c.archaic[low].current
		if _, exists := current[lower(to.Name)]; exists {
			p.add(Change{Kind: KindLabel, Action: ActionDelete, Key: prefix + low, Object: object(cur.Name),
				Detail: "move its issues and pull requests to " + to.Name + ", then delete it",
				Op:     MigrateLabel{Repo: r.Name, From: cur.Name, To: to.Name}, order: 3})
			continue
		}
		want := Label{Name: to.Name, Color: lower(to.Color), Description: to.Description}
		p.add(Change{Kind: KindLabel, Action: ActionUpdate, Key: prefix + low, Object: object(cur.Name),
			Detail: "rename to " + to.Name, Op: EditLabel{Repo: r.Name, Name: cur.Name, Label: want}, order: 1})
		current[lower(to.Name)] = want
	}
	for _, low := range sortedKeys(c.required) {
		l := c.required[low]
		want := Label{Name: l.Name, Color: lower(l.Color), Description: l.Description}
		cur, ok := current[low]
		if !ok {
			p.add(Change{Kind: KindLabel, Action: ActionCreate, Key: prefix + low, Object: object(l.Name),
				Detail: "create #" + want.Color, Op: CreateLabel{Repo: r.Name, Label: want}, order: 2})
			continue
		}
		var what []string
		if cur.Name != want.Name {
			what = append(what, "rename from "+cur.Name)
		}
		if lower(cur.Color) != want.Color {
			what = append(what, fmt.Sprintf("color #%s → #%s", lower(cur.Color), want.Color))
		}
		if cur.Description != want.Description {
			what = append(what, fmt.Sprintf("description %q → %q", cur.Description, want.Description))
		}
		if len(what) > 0 {
			p.add(Change{Kind: KindLabel, Action: ActionUpdate, Key: prefix + low, Object: object(l.Name),
				Detail: strings.Join(what, ", "), Op: EditLabel{Repo: r.Name, Name: cur.Name, Label: want}, order: 2})
		}
	}
	if !d.Options.DeleteUnlistedLabels {
		return
	}
	for _, l := range r.Labels {
		low := lower(l.Name)
		if c.listed[low] {
			continue
		}
		p.add(Change{Kind: KindLabel, Action: ActionDelete, Key: prefix + low, Object: object(l.Name),
			Detail: "not in labels.yaml", Op: DeleteLabel{Repo: r.Name, Name: l.Name}, order: 0})
	}
}
