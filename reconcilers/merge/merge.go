package merge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"text/template"

	"github.com/google/go-github/v89/github"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// maxMergeAttempts is how often one pull request's merge is tried when
// GitHub answers that the base branch was modified (Tide: 3).
const maxMergeAttempts = 3

// merge merges the pull requests a decision picked, one after the other,
// recording the merge in the MergePool's status before the first one and
// after each, so that a controller that restarts midway resumes it.
func (s *Syncer) merge(ctx context.Context, cfg *Config, k poolKey, base string, plan *Plan, policy *Policy, act Actuator) (*v1alpha1.PoolMerge, error) {
	m := &v1alpha1.PoolMerge{Action: plan.Action, BaseSHA: base, StartTime: s.metaNow()}
	prs := map[int32]*PR{}
	for _, it := range plan.Merge {
		m.Pulls = append(m.Pulls, v1alpha1.PoolPull{Number: int32(it.PR.Number), SHA: it.PR.HeadSHA, Method: it.Method})
		prs[int32(it.PR.Number)] = it.PR
	}
	if err := act.RecordMerge(ctx, k, m); err != nil {
		return nil, err
	}
	return s.runMerge(ctx, cfg, k, m, prs, policy, act)
}

// resumeMerge finishes a merge that a previous leader started: pull
// requests GitHub shows merged count as merged; the rest merge only when
// the branch is where the merged ones left it (otherwise their results are
// stale, and the next sync tests them again). Nothing is merged twice: a
// merged pull request is skipped, and every merge names the head commit it
// expects.
func (s *Syncer) resumeMerge(ctx context.Context, cfg *Config, k poolKey, prev *v1alpha1.PoolMerge, act Actuator) (*v1alpha1.PoolMerge, error) {
	m := prev.DeepCopy()
	log := logFrom(ctx)
	gh, err := s.GitHub(k.org)
	if err != nil {
		return nil, err
	}
	last := m.BaseSHA
	next := len(m.Pulls)
	for i := range m.Pulls {
		p := &m.Pulls[i]
		if p.MergeSHA != "" {
			last = p.MergeSHA
			continue
		}
		pr, _, err := gh.PullRequests.Get(ctx, k.org, k.repo, int(p.Number))
		if err != nil {
			return nil, fmt.Errorf("read %s/%s#%d: %w", k.org, k.repo, p.Number, err)
		}
		if pr.GetMerged() {
			p.MergeSHA = pr.GetMergeCommitSHA()
			last = p.MergeSHA
			s.store.remove(k.org, k.repo, int(p.Number))
			continue
		}
		next = i
		break
	}
	log.Info("Resuming an interrupted merge", "pool", k.String(), "merged", next, "of", len(m.Pulls))
	if next < len(m.Pulls) {
		base, err := s.readBase(ctx, k)
		if err != nil {
			return nil, err
		}
		if base != last {
			m.Error = "the branch moved while the merge was interrupted; the rest is tested again"
			m.CompletionTime = ptrTime(s.metaNow())
			return m, nil
		}
	}
	return s.runMerge(ctx, cfg, k, m, nil, cfg.PolicyFor(k.org, k.repo, k.branch, nil, nil), act)
}

// runMerge merges the pulls of m that are not merged yet. It stops the
// whole batch when GitHub says the bot may not push or the method is not
// allowed (a configuration mismatch no other pull request escapes), and
// goes on with the next pull request when one changed its head or became
// unmergeable. Nothing is rolled back: what merged stays merged, as in
// Tide.
func (s *Syncer) runMerge(ctx context.Context, cfg *Config, k poolKey, m *v1alpha1.PoolMerge, prs map[int32]*PR, policy *Policy, act Actuator) (*v1alpha1.PoolMerge, error) {
	log := logFrom(ctx)
	var errs []string
	batch := len(m.Pulls) > 1
	for i := range m.Pulls {
		p := &m.Pulls[i]
		if p.MergeSHA != "" {
			continue
		}
		pr := prs[p.Number]
		if pr == nil {
			pr = &PR{Org: k.org, Repo: k.repo, Number: int(p.Number), HeadSHA: p.SHA, BaseRef: k.branch}
		}
		if err := s.beforeMerge(ctx, cfg, pr, batch && policy.overwritePending()); err != nil {
			return m, err
		}
		sha, stop, err := s.tryMerge(ctx, cfg, k, pr, p)
		if err != nil {
			errs = append(errs, fmt.Sprintf("#%d: %v", p.Number, err))
			log.Info("Merge failed", "pool", k.String(), "pr", p.Number, "error", err.Error())
			if stop {
				break
			}
			continue
		}
		p.MergeSHA = sha
		s.store.remove(k.org, k.repo, int(p.Number))
		log.Info("Merged", "pool", k.String(), "pr", p.Number, "sha", p.SHA, "method", p.Method, "commit", sha)
		if err := act.RecordMerge(ctx, k, m); err != nil {
			return m, err
		}
		if i+1 < len(m.Pulls) {
			if err := s.Sleep(ctx, s.MergeDelay); err != nil {
				return m, err
			}
		}
	}
	m.CompletionTime = ptrTime(s.metaNow())
	if len(errs) > 0 {
		m.Error = truncate(strings.Join(errs, "; "), 1024)
		// GitHub refused something: read the pool's mergeability again.
		s.store.markStale(k)
	}
	return m, nil
}

// overwritePending is overwrite-pending-contexts.
func (p *Policy) overwritePending() bool { return isTrue(p.ContextOptions.OverwritePendingContexts) }

// beforeMerge sets the tide status to success (branch protection may
// require it) and, with overwrite-pending-contexts, the pull request's
// pending job contexts to success: the batch tested them.
func (s *Syncer) beforeMerge(ctx context.Context, cfg *Config, pr *PR, overwrite bool) error {
	want := tideStatus{sha: pr.HeadSHA, state: stateSuccess, description: statusInPool,
		url: cfg.statusURL(pr.Org, pr.Repo, pr.Number, s.StatusBaseURL)}
	if have, ok := s.store.lastTide(pr.Org, pr.Repo, pr.Number, pr.HeadSHA); !ok || have.state != stateSuccess {
		if err := s.setTide(ctx, pr, want); err != nil {
			return err
		}
	}
	if !overwrite {
		return nil
	}
	gh, err := s.GitHub(pr.Org)
	if err != nil {
		return err
	}
	for _, c := range pr.Contexts {
		if c.State != statePending || c.Name == statusContext {
			continue
		}
		st := &github.RepoStatus{State: github.Ptr(stateSuccess), Context: github.Ptr(c.Name),
			Description: github.Ptr("Passed in a batch that is merging.")}
		if _, _, err := gh.Repositories.CreateStatus(ctx, pr.Org, pr.Repo, pr.HeadSHA, *st); err != nil {
			return fmt.Errorf("overwrite context %s of %s: %w", c.Name, pr.key(), err)
		}
	}
	return nil
}

// errStopBatch marks merge errors after which no other pull request of the
// batch can merge either.
var errStopBatch = errors.New("stop")

// tryMerge merges one pull request, at the head commit it was tested at,
// retrying when GitHub says the base branch was modified (GitHub sometimes
// says so when merges come fast). stop says whether the rest of a batch
// should be given up.
func (s *Syncer) tryMerge(ctx context.Context, cfg *Config, k poolKey, pr *PR, p *v1alpha1.PoolPull) (sha string, stop bool, err error) {
	gh, err := s.GitHub(k.org)
	if err != nil {
		return "", true, err
	}
	opts := &github.PullRequestOptions{SHA: p.SHA, MergeMethod: p.Method}
	message := ""
	if title, body := cfg.commitTemplates(k.org, k.repo); title != nil || body != nil {
		data, err := s.templateData(ctx, gh, k, pr)
		if err != nil {
			return "", false, err
		}
		if opts.CommitTitle, err = render(title, data); err != nil {
			return "", false, err
		}
		if message, err = render(body, data); err != nil {
			return "", false, err
		}
	}
	delay := s.RetryDelay
	for attempt := 1; ; attempt++ {
		res, _, err := gh.PullRequests.Merge(ctx, k.org, k.repo, int(p.Number), message, opts)
		if err == nil {
			return res.GetSHA(), false, nil
		}
		stop, retry, reason := classifyMergeError(err)
		if !retry || attempt == maxMergeAttempts {
			if stop {
				return "", true, reason
			}
			return "", false, reason
		}
		if err := s.Sleep(ctx, delay); err != nil {
			return "", false, err
		}
		delay *= 2
	}
}

// classifyMergeError sorts GitHub's answers to a merge as Tide does.
func classifyMergeError(err error) (stop, retry bool, reason error) {
	var ge *github.ErrorResponse
	if !errors.As(err, &ge) || ge.Response == nil {
		return false, false, err
	}
	msg := ge.Message
	switch code := ge.Response.StatusCode; {
	case code == http.StatusMethodNotAllowed && strings.Contains(msg, "Base branch was modified"):
		return false, true, fmt.Errorf("base branch was modified: %s", msg)
	case code == http.StatusMethodNotAllowed && strings.Contains(msg, "not allowed"):
		return true, false, fmt.Errorf("%s: the merge method must match the repository's settings (merge_method or the method labels): %w", msg, errStopBatch)
	case code == http.StatusMethodNotAllowed:
		return false, false, fmt.Errorf("GitHub says the pull request is not mergeable (%s); do the merge requirements match the branch's settings on GitHub?", msg)
	case code == http.StatusConflict:
		return false, false, fmt.Errorf("the head was modified (%s)", msg)
	case code == http.StatusForbidden || code == http.StatusUnauthorized ||
		(code == http.StatusUnprocessableEntity && strings.Contains(strings.ToLower(msg), "protected branch")):
		return true, false, fmt.Errorf("the bot may not push to the branch (%s): %w", msg, errStopBatch)
	}
	return false, false, err
}

// mergeTemplateData is what merge_commit_template renders, with the field
// names of Prow's pull request (Number, Title, Body, Author.Login,
// HeadRefName, HeadRefOID, BaseRef.Name).
type mergeTemplateData struct {
	Number      int
	Title       string
	Body        string
	HeadRefName string
	HeadRefOID  string
	Author      struct{ Login string }
	BaseRef     struct{ Name string }
}

// templateData reads the pull request (its body is not kept) for the
// commit templates.
func (s *Syncer) templateData(ctx context.Context, gh *github.Client, k poolKey, pr *PR) (*mergeTemplateData, error) {
	full, _, err := gh.PullRequests.Get(ctx, k.org, k.repo, pr.Number)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", pr.key(), err)
	}
	d := &mergeTemplateData{Number: pr.Number, Title: full.GetTitle(), Body: full.GetBody(),
		HeadRefName: full.GetHead().GetRef(), HeadRefOID: full.GetHead().GetSHA()}
	d.Author.Login = full.GetUser().GetLogin()
	d.BaseRef.Name = full.GetBase().GetRef()
	return d, nil
}

func render(t *template.Template, data any) (string, error) {
	if t == nil {
		return "", nil
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("merge_commit_template: %w", err)
	}
	return b.String(), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func ptrTime(t metav1.Time) *metav1.Time { return &t }
