package verifyowners

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// trust answers whether users are trusted as the trigger plugin trusts
// them, remembering answers for one event.
type trust struct {
	h       *handler
	answers map[string]string // login → reason not trusted, "" when trusted
}

func newTrust(h *handler) *trust { return &trust{h: h, answers: map[string]string{}} }

// check records login in found, with file, unless it is trusted.
func (t *trust) check(ctx context.Context, login, file string, found map[string]*untrusted) error {
	reason, known := t.answers[login]
	if !known {
		if len(t.answers) >= maxTrustChecks {
			return nil
		}
		var err error
		if reason, err = t.reasonNotTrusted(ctx, login); err != nil {
			return err
		}
		t.answers[login] = reason
	}
	if reason == "" {
		return nil
	}
	u := found[login]
	if u == nil {
		u = &untrusted{reason: reason}
		found[login] = u
	}
	if !slices.Contains(u.files, file) {
		u.files = append(u.files, file)
	}
	return nil
}

// reasonNotTrusted says why login is not trusted, or "" when it is: a
// trusted app, a member of the org or of trusted_org, or a collaborator
// unless only_org_members.
func (t *trust) reasonNotTrusted(ctx context.Context, login string) (string, error) {
	h, tr := t.h, t.h.cfg.Trigger
	if app, ok := strings.CutSuffix(login, "[bot]"); ok && (slices.Contains(tr.TrustedApps, app) || slices.Contains(tr.TrustedApps, login)) {
		return "", nil
	}
	orgs := []string{h.Org}
	if tr.TrustedOrg != "" && !strings.EqualFold(tr.TrustedOrg, h.Org) {
		orgs = append(orgs, tr.TrustedOrg)
	}
	for _, org := range orgs {
		member, _, err := h.GitHub.Organizations.IsMember(ctx, org, login)
		if err != nil {
			return "", fmt.Errorf("check %s membership of %s: %w", org, login, err)
		}
		if member {
			return "", nil
		}
	}
	notMember := "not a member of " + strings.Join(orgs, " or ")
	if tr.OnlyOrgMembers {
		return notMember + " (only members are trusted)", nil
	}
	collaborator, _, err := h.GitHub.Repositories.IsCollaborator(ctx, h.Org, h.Repo, login)
	if err != nil {
		return "", fmt.Errorf("check whether %s collaborates on %s/%s: %w", login, h.Org, h.Repo, err)
	}
	if collaborator {
		return "", nil
	}
	return notMember + ", and not a collaborator of " + h.Org + "/" + h.Repo, nil
}
