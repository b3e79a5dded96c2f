package configplan

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiffFields(t *testing.T) {
	tests := []struct {
		name          string
		before, after any
		want          []FieldChange
	}{
		{name: "equal", before: map[string]any{"a": 1}, after: map[string]any{"a": 1}},
		{name: "scalar", before: map[string]any{"a": 1, "b": "x"}, after: map[string]any{"a": 2, "b": "x"},
			want: []FieldChange{{Path: "a", Before: "1", After: "2"}}},
		{name: "field added and removed", before: map[string]any{"a": true}, after: map[string]any{"b": "y"},
			want: []FieldChange{{Path: "a", Before: "true"}, {Path: "b", After: "y"}}},
		{name: "object added, field by field", before: map[string]any{}, after: map[string]any{"d": map[string]any{"timeout": "3h", "grace": "15s"}},
			want: []FieldChange{{Path: "d.grace", After: "15s"}, {Path: "d.timeout", After: "3h"}}},
		{name: "empty object added and removed, whole", before: map[string]any{"roles": map[string]any{"web": map[string]any{}}},
			after: map[string]any{"roles": map[string]any{"merge": map[string]any{}}},
			want:  []FieldChange{{Path: "roles.merge", After: "{}"}, {Path: "roles.web", Before: "{}"}}},
		{name: "named items by name", before: map[string]any{"env": []any{map[string]any{"name": "A", "value": "1"}, map[string]any{"name": "B", "value": "2"}}},
			after: map[string]any{"env": []any{map[string]any{"name": "B", "value": "3"}, map[string]any{"name": "C", "value": "4"}}},
			want: []FieldChange{{Path: "env[A].name", Before: "A"}, {Path: "env[A].value", Before: "1"}, {Path: "env[B].value", Before: "2", After: "3"},
				{Path: "env[C].name", After: "C"}, {Path: "env[C].value", After: "4"}}},
		{name: "lists of the same length item by item", before: map[string]any{"l": []any{"a", "b"}}, after: map[string]any{"l": []any{"a", "c"}},
			want: []FieldChange{{Path: "l[1]", Before: "b", After: "c"}}},
		{name: "lists of other lengths whole", before: map[string]any{"l": []any{"a"}}, after: map[string]any{"l": []any{"a", "c"}},
			want: []FieldChange{{Path: "l", Before: `["a"]`, After: `["a","c"]`}}},
		{name: "strings that need quotes", before: map[string]any{"s": ""}, after: map[string]any{"s": "two\nlines"},
			want: []FieldChange{{Path: "s", Before: `""`, After: `"two\nlines"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := diffFields(tt.before, tt.after)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("diffFields (-want +got):\n%s", d)
			}
		})
	}
}

func TestHeadline(t *testing.T) {
	tests := []struct {
		name string
		plan Plan
		want string
	}{
		{name: "refused", plan: Plan{Errors: []Problem{{File: "jobs/a.yaml", Line: 3, Column: 5, Message: "bad"}, {Message: "worse"}}},
			want: "Refused: 2 errors (first at jobs/a.yaml:3:5)"},
		{name: "refused without a position", plan: Plan{Errors: []Problem{{Message: "namespace"}}}, want: "Refused: 1 error"},
		{name: "nothing", plan: Plan{Valid: true}, want: "Valid; changes nothing bowline applies"},
		{name: "sections", plan: Plan{Valid: true, Jobs: []JobChange{{Action: Added}, {Action: Changed}, {Action: Changed}},
			Plugins: PluginChanges{Enabled: []PluginEnablement{{Scope: "acme"}}}, Orgs: []OrgPlan{{Org: "acme", Create: 1}},
			Deploy: DeployChanges{Settings: []FieldChange{{Path: "image"}}}},
			want: "Valid: jobs +1 ~2 -0, plugins in 1 place, org acme +1 ~0 -0, deployment settings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.plan.Headline(); got != tt.want {
				t.Errorf("Headline = %q, want %q", got, tt.want)
			}
		})
	}
	var many []OrgPlan
	for i := range 40 {
		many = append(many, OrgPlan{Org: fmt.Sprintf("org-%d", i)})
	}
	if h := (&Plan{Valid: true, Orgs: many}).Headline(); len([]rune(h)) > 140 {
		t.Errorf("a headline of %d characters: GitHub keeps 140", len([]rune(h)))
	}
}

// TestMarkdownBounded: however large the plan, the comment fits what
// GitHub accepts, and a cut leaves no code block or collapsed section
// open.
func TestMarkdownBounded(t *testing.T) {
	p := &Plan{Valid: true}
	long := strings.Repeat("x", 300)
	for i := range 3000 {
		j := JobChange{Action: Changed, Type: "presubmit", Name: fmt.Sprintf("job-%d", i), Repo: "acme/widgets"}
		for k := range 30 {
			j.Fields = append(j.Fields, FieldChange{Path: fmt.Sprintf("spec.containers[%d].image", k), Before: long, After: long})
		}
		p.Jobs = append(p.Jobs, j)
	}
	for i := range 500 {
		p.Deploy.Files = append(p.Deploy.Files, DeployChange{Path: fmt.Sprintf("config/bowline/%d.yaml", i), Action: Changed, Diff: strings.Repeat("+line\n", 200)})
	}
	md := p.Markdown()
	if len(md) > MaxMarkdownChars+200 {
		t.Fatalf("Markdown of %d characters", len(md))
	}
	if strings.Count(md, "```")%2 != 0 || strings.Count(md, "<details>") != strings.Count(md, "</details>") {
		t.Errorf("an unbalanced cut:\n%s", md[len(md)-500:])
	}
	if !strings.Contains(md, "… and 2900 more") || !strings.Contains(md, "run `bowline plan` for all of it") {
		t.Errorf("the bounds are not said:\n%s", md[len(md)-300:])
	}
}

// countingPRs is a PullRequests that counts what it is asked.
type countingPRs struct{ open, files int }

func (c *countingPRs) Open(_ context.Context, org, repo string) ([]PullRequest, error) {
	c.open++
	return []PullRequest{{Number: 2, BaseRef: "main"}, {Number: 1, BaseRef: "main"}}, nil
}

func (c *countingPRs) Files(context.Context, string, string, int) ([]string, error) {
	c.files++
	return []string{"a.go"}, nil
}

func (c *countingPRs) Approved(context.Context, string, string) (map[int]bool, error) {
	return nil, nil
}

func (c *countingPRs) Repos(context.Context, string) ([]string, error) { return nil, nil }

// TestPRCacheBounds: a plan reads each repository's open pull requests
// and each pull request's files once, and no more than its bounds; what it
// leaves out is said.
func TestPRCacheBounds(t *testing.T) {
	ctx := context.Background()
	src := &countingPRs{}
	c := newPRCache(src)
	for i := range maxRepos + 5 {
		for range 2 {
			prs, ok := c.open(ctx, "acme", fmt.Sprintf("r%d", i))
			if ok != (i < maxRepos) {
				t.Fatalf("repository %d: listed %t", i, ok)
			}
			if ok && (len(prs) != 2 || prs[0].Number != 1) {
				t.Fatalf("open pull requests %+v, want them by number", prs)
			}
		}
	}
	for i := range maxFileLists + 3 {
		for range 2 {
			_, err := c.files(ctx, "acme", "r0", i)
			if (err == nil) != (i < maxFileLists) {
				t.Fatalf("pull request %d: %v", i, err)
			}
		}
	}
	if src.open != maxRepos || src.files != maxFileLists {
		t.Errorf("%d listings and %d file reads, want %d and %d", src.open, src.files, maxRepos, maxFileLists)
	}
	notes := strings.Join(c.notes(), "\n")
	for _, want := range []string{"5 more repositories were not counted", "3 pull requests were not counted"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

// TestMarkdownQuotesOthersWords: pull request titles and messages are
// shown, not read as HTML, table cells or mentions that notify people.
func TestMarkdownQuotesOthersWords(t *testing.T) {
	p := &Plan{Valid: true, Tide: TideChanges{Queries: []QueryChange{{Action: Changed, Scope: "orgs acme"}}, Counted: true, Entering: 1,
		Enter: []PRRef{{Repo: "acme/w", Number: 3, Title: "cc @acme/maintainers <img src=x> | done"}}}}
	md := p.Markdown()
	if !strings.Contains(md, "cc &#64;acme/maintainers &lt;img src=x&gt; \\| done") || strings.Contains(md, "@acme") {
		t.Errorf("the title is not quoted:\n%s", md)
	}
}
