package local

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/google/go-github/v89/github"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// TrustFunc answers whether login's pull requests to org/repo may run
// here.
type TrustFunc func(ctx context.Context, org, repo, login string) (bool, error)

// UntrustedRefusal is the description of a run TrustedAuthorsOnly refuses.
const UntrustedRefusal = "Not run: the local agent runs only pull requests of org members and collaborators (bowline up --allow-untrusted-pulls)."

// TrustedAuthorsOnly is an Admit that refuses presubmit and batch runs of
// pull requests whose author trust does not vouch for. /ok-to-test does
// not change that: it says a pull request may be tested, not that its code
// may run as the operator's user, which the local agent would do.
// Postsubmits and periodics test merged code and are not asked about.
func TrustedAuthorsOnly(trust TrustFunc) func(context.Context, *v1alpha1.ProwJob) (string, error) {
	return func(ctx context.Context, pj *v1alpha1.ProwJob) (string, error) {
		var all []v1alpha1.Refs
		if pj.Spec.Refs != nil {
			all = append(all, *pj.Spec.Refs)
		}
		all = append(all, pj.Spec.ExtraRefs...)
		for _, refs := range all {
			for _, p := range refs.Pulls {
				if p.Author == "" {
					return UntrustedRefusal, nil
				}
				ok, err := trust(ctx, refs.Org, refs.Repo, p.Author)
				if err != nil {
					return "", err
				}
				if !ok {
					return UntrustedRefusal, nil
				}
			}
		}
		return "", nil
	}
}

// GitHubTrust asks GitHub whether login is a member of org or a
// collaborator of org/repo.
func GitHubTrust(client func(org string) (*github.Client, error)) TrustFunc {
	return func(ctx context.Context, org, repo, login string) (bool, error) {
		gh, err := client(org)
		if err != nil {
			return false, err
		}
		member, _, err := gh.Organizations.IsMember(ctx, org, login)
		if err != nil {
			return false, fmt.Errorf("check %s membership of %s: %w", org, login, err)
		}
		if member {
			return true, nil
		}
		collab, _, err := gh.Repositories.IsCollaborator(ctx, org, repo, login)
		if err != nil {
			return false, fmt.Errorf("check whether %s collaborates on %s/%s: %w", login, org, repo, err)
		}
		return collab, nil
	}
}

// WorkspaceRoot is where `bowline up` keeps the workspaces of the runs of
// a data directory: beside it (<data-dir>-jobs), not inside it, so that
// neither a job's working directory nor its relative paths lead into the
// data directory, where the webhook secret, the admin kubeconfig and the
// control plane's state are.
func WorkspaceRoot(dataDir string) (string, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("workspace root: %w", err)
	}
	return abs + "-jobs", nil
}
