package forge

import (
	"fmt"
	"sort"
	"time"

	"github.com/google/go-github/v89/github"
)

// Check runs. As on GitHub, only GitHub Apps (installation tokens) may
// create or update them; anyone who can read the repository may list them.

var checkStatuses = map[string]bool{"queued": true, "in_progress": true, "completed": true}

var checkConclusions = map[string]bool{"success": true, "failure": true, "neutral": true, "cancelled": true,
	"skipped": true, "timed_out": true, "action_required": true, "stale": true}

func (f *Forge) checkRunJSON(s *state, r *repo, cr *checkRun) *github.CheckRun {
	id := fmt.Sprint(cr.ID)
	out := &github.CheckRun{ID: github.Ptr(cr.ID), NodeID: nodeID("CR", cr.ID), HeadSHA: github.Ptr(cr.HeadSHA),
		Name: github.Ptr(cr.Name), Status: github.Ptr(cr.Status), ExternalID: github.Ptr(cr.ExternalID),
		DetailsURL: github.Ptr(cr.DetailsURL), StartedAt: tsp(cr.Started), CompletedAt: tsp(cr.Completed),
		URL:     github.Ptr(f.repoAPI(r, "check-runs", id)),
		HTMLURL: github.Ptr(f.repoHTML(r, "runs", id)),
		Output: &github.CheckRunOutput{Title: github.Ptr(cr.Title), Summary: github.Ptr(cr.Summary),
			Text: github.Ptr(cr.Text), AnnotationsCount: github.Ptr(len(cr.Annotations)),
			AnnotationsURL: github.Ptr(f.repoAPI(r, "check-runs", id, "annotations"))},
		PullRequests: []*github.PullRequest{},
	}
	if cr.Conclusion != "" {
		out.Conclusion = github.Ptr(cr.Conclusion)
	}
	if a := s.Apps[cr.App]; a != nil {
		out.App = f.appJSON(s, a)
	}
	return out
}

type checkRunRequest struct {
	Name        *string                `json:"name"`
	HeadSHA     *string                `json:"head_sha"`
	DetailsURL  *string                `json:"details_url"`
	ExternalID  *string                `json:"external_id"`
	Status      *string                `json:"status"`
	Conclusion  *string                `json:"conclusion"`
	StartedAt   *time.Time             `json:"started_at"`
	CompletedAt *time.Time             `json:"completed_at"`
	Output      *github.CheckRunOutput `json:"output"`
}

// apply updates cr and reports whether it has just completed.
func (req *checkRunRequest) apply(cr *checkRun, now time.Time) (completed bool, err error) {
	if req.Name != nil && *req.Name != "" {
		cr.Name = *req.Name
	}
	if req.DetailsURL != nil {
		cr.DetailsURL = *req.DetailsURL
	}
	if req.ExternalID != nil {
		cr.ExternalID = *req.ExternalID
	}
	if req.StartedAt != nil {
		t := req.StartedAt.UTC()
		cr.Started = &t
	}
	if o := req.Output; o != nil {
		added, err := outputAnnotations(o)
		if err != nil {
			return false, err
		}
		cr.Title, cr.Summary, cr.Text = deref(o.Title), deref(o.Summary), deref(o.Text)
		if len(cr.Annotations)+len(added) > maxAnnotationsPerRun {
			return false, errInvalidMsg(fmt.Sprintf("Invalid request.\n\nA check run can have at most %d annotations.", maxAnnotationsPerRun))
		}
		// Annotations are appended: more than 50 take several updates.
		cr.Annotations = append(cr.Annotations, added...)
	}
	was := cr.Status
	if req.Status != nil {
		if !checkStatuses[*req.Status] {
			return false, errInvalid("CheckRun", "status", "invalid")
		}
		cr.Status = *req.Status
	}
	if req.Conclusion != nil {
		if !checkConclusions[*req.Conclusion] {
			return false, errInvalid("CheckRun", "conclusion", "invalid")
		}
		cr.Conclusion, cr.Status = *req.Conclusion, "completed"
	}
	if cr.Status == "completed" {
		if cr.Conclusion == "" {
			return false, errInvalidMsg("Invalid request.\n\n\"conclusion\" wasn't supplied.")
		}
		done := now
		if req.CompletedAt != nil {
			done = req.CompletedAt.UTC()
		}
		cr.Completed = &done
	}
	return cr.Status == "completed" && was != "completed", nil
}

// GitHub's limits on a check run's output: 50 annotations a request, 65535
// characters of summary or text. GitHub keeps at most this many
// annotations on one run.
const (
	maxAnnotationsPerRequest = 50
	maxOutputChars           = 65535
	maxAnnotationsPerRun     = 50000
)

var annotationLevels = map[string]bool{"notice": true, "warning": true, "failure": true}

// outputAnnotations validates an output as GitHub does and returns its
// annotations.
func outputAnnotations(o *github.CheckRunOutput) ([]checkAnnotation, error) {
	switch {
	case o.Title == nil:
		return nil, errInvalidMsg("Invalid request.\n\n\"title\" wasn't supplied.")
	case o.Summary == nil:
		return nil, errInvalidMsg("Invalid request.\n\n\"summary\" wasn't supplied.")
	case len([]rune(*o.Summary)) > maxOutputChars:
		return nil, errInvalidMsg(fmt.Sprintf("Invalid request.\n\nOnly %d characters are allowed; %d were supplied.", maxOutputChars, len([]rune(*o.Summary))))
	case o.Text != nil && len([]rune(*o.Text)) > maxOutputChars:
		return nil, errInvalidMsg(fmt.Sprintf("Invalid request.\n\nOnly %d characters are allowed; %d were supplied.", maxOutputChars, len([]rune(*o.Text))))
	case len(o.Annotations) > maxAnnotationsPerRequest:
		return nil, errInvalidMsg(fmt.Sprintf("Invalid request.\n\nOnly %d annotations are allowed per request.", maxAnnotationsPerRequest))
	}
	out := make([]checkAnnotation, 0, len(o.Annotations))
	for _, a := range o.Annotations {
		for field, missing := range map[string]bool{"path": a.Path == nil || *a.Path == "", "start_line": a.StartLine == nil,
			"end_line": a.EndLine == nil, "annotation_level": a.AnnotationLevel == nil, "message": a.Message == nil || *a.Message == ""} {
			if missing {
				return nil, errInvalidMsg("Invalid request.\n\n\"" + field + "\" wasn't supplied.")
			}
		}
		if !annotationLevels[*a.AnnotationLevel] {
			return nil, errInvalidMsg("Invalid request.\n\nFor 'properties/annotation_level', \"" + *a.AnnotationLevel + "\" is not a member of [\"notice\", \"warning\", \"failure\"].")
		}
		if *a.StartLine < 1 || *a.EndLine < *a.StartLine {
			return nil, errInvalidMsg("Invalid request.\n\nstart_line and end_line must be lines of the file, end_line not before start_line.")
		}
		if (a.StartColumn != nil || a.EndColumn != nil) && *a.StartLine != *a.EndLine {
			return nil, errInvalidMsg("Invalid request.\n\nstart_column and end_column may only be given when start_line and end_line are the same.")
		}
		out = append(out, checkAnnotation{Path: *a.Path, StartLine: *a.StartLine, EndLine: *a.EndLine, StartColumn: a.StartColumn,
			EndColumn: a.EndColumn, Level: *a.AnnotationLevel, Title: deref(a.Title), Message: *a.Message, RawDetails: deref(a.RawDetails)})
	}
	return out, nil
}

// annotationJSON is an annotation as GitHub lists it, with the link to the
// annotated file at the run's commit that go-github leaves out.
type annotationJSON struct {
	github.CheckRunAnnotation
	BlobHRef string `json:"blob_href"`
}

// listCheckRunAnnotations is GET /check-runs/{id}/annotations.
func (f *Forge) listCheckRunAnnotations(c *call) error {
	id, err := c.int64Param("id")
	if err != nil {
		return err
	}
	out := []annotationJSON{}
	err = f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		cr := r.CheckRuns[id]
		if cr == nil {
			return errNotFound()
		}
		for _, a := range paginate(c, cr.Annotations) {
			out = append(out, annotationJSON{
				CheckRunAnnotation: github.CheckRunAnnotation{Path: github.Ptr(a.Path), StartLine: github.Ptr(a.StartLine), EndLine: github.Ptr(a.EndLine),
					StartColumn: a.StartColumn, EndColumn: a.EndColumn, AnnotationLevel: github.Ptr(a.Level), Message: github.Ptr(a.Message),
					Title: github.Ptr(a.Title), RawDetails: github.Ptr(a.RawDetails)},
				BlobHRef: f.repoHTML(r, "blob", cr.HeadSHA, a.Path),
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (c *call) needApp() error {
	if c.who.inst == nil {
		return errForbidden("You must authenticate via a GitHub App.")
	}
	return nil
}

func (f *Forge) createCheckRun(c *call) error {
	if err := c.needApp(); err != nil {
		return err
	}
	var req checkRunRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if req.Name == nil || *req.Name == "" {
		return errInvalid("CheckRun", "name", "missing_field")
	}
	if req.HeadSHA == nil {
		return errInvalid("CheckRun", "head_sha", "missing_field")
	}
	var out *github.CheckRun
	err := f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permWrite)
		if err != nil {
			return err
		}
		sha, err := f.git.ResolveRef(c.r.Context(), r.Owner, r.Name, *req.HeadSHA)
		if err != nil {
			return errInvalidMsg("No commit found for SHA: " + *req.HeadSHA)
		}
		cr := &checkRun{ID: t.id(), HeadSHA: sha, Status: "queued", App: c.who.inst.App, Creator: c.who.login}
		completed, err := req.apply(cr, t.now)
		if err != nil {
			return err
		}
		r.CheckRuns[cr.ID] = cr
		t.checkRunEvent(r, cr, "created", c.who.login)
		if completed {
			t.checkRunEvent(r, cr, "completed", c.who.login)
		}
		out = f.checkRunJSON(t.state, r, cr)
		return nil
	})
	if err != nil {
		return err
	}
	return c.created(out)
}

func (f *Forge) updateCheckRun(c *call) error {
	if err := c.needApp(); err != nil {
		return err
	}
	id, err := c.int64Param("id")
	if err != nil {
		return err
	}
	var req checkRunRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	var out *github.CheckRun
	err = f.write(func(t *tx) error {
		r, err := c.repoFor(t.state, permWrite)
		if err != nil {
			return err
		}
		cr := r.CheckRuns[id]
		if cr == nil {
			return errNotFound()
		}
		if cr.App != c.who.inst.App {
			return errForbidden("Invalid app_id `" + fmt.Sprint(c.who.inst.App) + "` - check run can only be modified by the GitHub App that created it.")
		}
		completed, err := req.apply(cr, t.now)
		if err != nil {
			return err
		}
		if completed {
			t.checkRunEvent(r, cr, "completed", c.who.login)
		}
		out = f.checkRunJSON(t.state, r, cr)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

func (f *Forge) getCheckRun(c *call) error {
	id, err := c.int64Param("id")
	if err != nil {
		return err
	}
	var out *github.CheckRun
	err = f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		cr := r.CheckRuns[id]
		if cr == nil {
			return errNotFound()
		}
		out = f.checkRunJSON(s, r, cr)
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}

// listCheckRuns is GET /commits/{ref}/check-runs; filter=latest (the
// default) keeps the newest run of each name.
func (f *Forge) listCheckRuns(c *call) error {
	var out *github.ListCheckRunsResults
	err := f.read(func(s *state) error {
		r, err := c.repoFor(s, permRead)
		if err != nil {
			return err
		}
		sha, err := f.refSHA(c, r)
		if err != nil {
			return err
		}
		var list []*checkRun
		for _, cr := range r.CheckRuns {
			if cr.HeadSHA != sha {
				continue
			}
			if n := c.query("check_name"); n != "" && n != cr.Name {
				continue
			}
			if st := c.query("status"); st != "" && st != cr.Status {
				continue
			}
			list = append(list, cr)
		}
		sort.Slice(list, func(a, b int) bool { return list[a].ID > list[b].ID })
		if c.query("filter") != "all" {
			seen := map[string]bool{}
			var latest []*checkRun
			for _, cr := range list {
				if !seen[cr.Name] {
					seen[cr.Name] = true
					latest = append(latest, cr)
				}
			}
			list = latest
		}
		out = &github.ListCheckRunsResults{Total: github.Ptr(len(list)), CheckRuns: []*github.CheckRun{}}
		for _, cr := range paginate(c, list) {
			out.CheckRuns = append(out.CheckRuns, f.checkRunJSON(s, r, cr))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.ok(out)
}
