package forge_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v89/github"
)

// TestCheckRunAnnotations: a check run's output carries annotations, at
// most 50 a request and appended by every update, as GitHub's Checks API
// does; they are listed with a link to the annotated file at the run's
// commit.
func TestCheckRunAnnotations(t *testing.T) {
	env, _, _, inst := appEnv(t)
	ctx := t.Context()
	sha := must[*github.Reference](t)(inst.Git.GetRef(ctx, "acme", "widgets", "heads/main")).GetObject().GetSHA()
	ann := func(path string, line int, level, msg string) *github.CheckRunAnnotation {
		return &github.CheckRunAnnotation{Path: github.Ptr(path), StartLine: github.Ptr(line), EndLine: github.Ptr(line),
			AnnotationLevel: github.Ptr(level), Message: github.Ptr(msg)}
	}
	many := func(n int) []*github.CheckRunAnnotation {
		var out []*github.CheckRunAnnotation
		for i := range n {
			out = append(out, ann("jobs/a.yaml", i+1, "warning", fmt.Sprintf("warning %d", i)))
		}
		return out
	}
	output := func(anns ...*github.CheckRunAnnotation) *github.CheckRunOutput {
		return &github.CheckRunOutput{Title: github.Ptr("Plan"), Summary: github.Ptr("2 errors"), Annotations: anns}
	}

	cr := must[*github.CheckRun](t)(inst.Checks.CreateCheckRun(ctx, "acme", "widgets", github.CreateCheckRunOptions{
		Name: "bowline/config", HeadSHA: sha, Conclusion: github.Ptr("failure"),
		Output: output(ann("jobs/a.yaml", 3, "failure", "unknown field"), ann("config.yaml", 1, "warning", "deprecated"))}))
	if got := cr.GetOutput().GetAnnotationsCount(); got != 2 || !strings.HasSuffix(cr.GetOutput().GetAnnotationsURL(), fmt.Sprintf("/check-runs/%d/annotations", cr.GetID())) {
		t.Fatalf("output %+v", cr.GetOutput())
	}
	// Updates append; more than 50 take several.
	cr = must[*github.CheckRun](t)(inst.Checks.UpdateCheckRun(ctx, "acme", "widgets", cr.GetID(), github.UpdateCheckRunOptions{Name: "bowline/config", Output: output(many(50)...)}))
	cr = must[*github.CheckRun](t)(inst.Checks.UpdateCheckRun(ctx, "acme", "widgets", cr.GetID(), github.UpdateCheckRunOptions{Name: "bowline/config", Output: output(many(10)...)}))
	if got := cr.GetOutput().GetAnnotationsCount(); got != 62 {
		t.Fatalf("annotations after two updates: %d, want 62", got)
	}
	// An update without output leaves them.
	cr = must[*github.CheckRun](t)(inst.Checks.UpdateCheckRun(ctx, "acme", "widgets", cr.GetID(), github.UpdateCheckRunOptions{Name: "bowline/config", Status: github.Ptr("completed"), Conclusion: github.Ptr("failure")}))
	if cr.GetOutput().GetAnnotationsCount() != 62 || cr.GetOutput().GetTitle() != "Plan" {
		t.Fatalf("output after an update without one: %+v", cr.GetOutput())
	}

	list := must[[]*github.CheckRunAnnotation](t)(env.Client(t, "").Checks.ListCheckRunAnnotations(ctx, "acme", "widgets", cr.GetID(), &github.ListOptions{PerPage: 100}))
	if len(list) != 62 || list[0].GetPath() != "jobs/a.yaml" || list[0].GetStartLine() != 3 || list[0].GetAnnotationLevel() != "failure" || list[0].GetMessage() != "unknown field" {
		t.Fatalf("annotations %d, first %+v", len(list), list[0])
	}
	// The raw answer links each annotation to its file at the run's commit.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/repos/acme/widgets/check-runs/%d/annotations?per_page=1", env.URL, cr.GetID()), nil)
	if err != nil {
		t.Fatal(err)
	}
	var raw []struct {
		BlobHRef string `json:"blob_href"`
	}
	resp, err := inst.Do(req, &raw)
	if err != nil || resp.StatusCode != http.StatusOK || len(raw) != 1 || raw[0].BlobHRef != env.URL+"/acme/widgets/blob/"+sha+"/jobs/a.yaml" {
		t.Fatalf("raw annotations %+v, %v", raw, err)
	}

	bad := []struct {
		name   string
		output *github.CheckRunOutput
		want   string
	}{
		{name: "more than 50 in one request", output: output(many(51)...), want: "Only 50 annotations"},
		{name: "no title", output: &github.CheckRunOutput{Summary: github.Ptr("s")}, want: `"title" wasn't supplied`},
		{name: "no summary", output: &github.CheckRunOutput{Title: github.Ptr("t")}, want: `"summary" wasn't supplied`},
		{name: "summary too long", output: &github.CheckRunOutput{Title: github.Ptr("t"), Summary: github.Ptr(strings.Repeat("x", 65536))}, want: "65535 characters"},
		{name: "no path", output: output(&github.CheckRunAnnotation{StartLine: github.Ptr(1), EndLine: github.Ptr(1), AnnotationLevel: github.Ptr("notice"), Message: github.Ptr("m")}), want: `"path" wasn't supplied`},
		{name: "unknown level", output: output(ann("a", 1, "error", "m")), want: "annotation_level"},
		{name: "columns across lines", output: output(&github.CheckRunAnnotation{Path: github.Ptr("a"), StartLine: github.Ptr(1), EndLine: github.Ptr(2),
			StartColumn: github.Ptr(1), AnnotationLevel: github.Ptr("notice"), Message: github.Ptr("m")}), want: "start_column"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := inst.Checks.CreateCheckRun(ctx, "acme", "widgets", github.CreateCheckRunOptions{Name: "x", HeadSHA: sha, Output: tt.output})
			if got := status(t, resp, err); got != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("status %d, error %v; want 422 mentioning %q", got, err, tt.want)
			}
		})
	}
}
