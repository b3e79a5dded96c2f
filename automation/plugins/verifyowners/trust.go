package verifyowners

import (
	"context"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/automation/trust"
)

// trustChecks answers whether users are trusted as the trigger plugin trusts
// them, remembering answers for one event.
type trustChecks struct {
	h       *handler
	answers map[string]string // login → reason not trusted, "" when trusted
}

func newTrustChecks(h *handler) *trustChecks { return &trustChecks{h: h, answers: map[string]string{}} }

// check records login in found, with file, unless it is trusted.
func (t *trustChecks) check(ctx context.Context, login, file string, found map[string]*untrusted) error {
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
func (t *trustChecks) reasonNotTrusted(ctx context.Context, login string) (string, error) {
	h, rules := t.h, t.h.cfg.Trigger
	trusted, err := h.TrustedBy(ctx, rules, login)
	if err != nil || trusted {
		return "", err
	}
	notMember := "not a member of " + strings.Join(trust.Orgs(rules, h.Org), " or ")
	if rules.OnlyOrgMembers {
		return notMember + " (only members are trusted)", nil
	}
	return notMember + ", and not a collaborator of " + h.FullName(), nil
}
