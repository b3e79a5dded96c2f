package forge

import (
	"strings"
	"time"
)

// The model below is the forge's whole state apart from git objects. It is
// plain data with JSON tags so that persist.go can snapshot it; every field
// is guarded by Forge.mu. Maps are keyed by lower-cased names because
// GitHub's logins, repository names and label names are case-insensitive.

// Permission levels in increasing order of power, as GitHub's role names.
const (
	permNone     = "none"
	permRead     = "read"
	permTriage   = "triage"
	permWrite    = "write"
	permMaintain = "maintain"
	permAdmin    = "admin"
)

var permRank = map[string]int{
	permNone: 0, permRead: 1, permTriage: 2, permWrite: 3, permMaintain: 4, permAdmin: 5,
}

// normPerm maps GitHub's legacy names (pull, push) to role names.
func normPerm(p string) string {
	switch strings.ToLower(p) {
	case "pull", "read":
		return permRead
	case "triage":
		return permTriage
	case "push", "write":
		return permWrite
	case "maintain":
		return permMaintain
	case "admin":
		return permAdmin
	}
	return ""
}

// legacyPerm is the permission name GitHub reports in the collaborator
// permission endpoint and team repository listings.
func legacyPerm(p string) string {
	switch p {
	case permAdmin:
		return "admin"
	case permMaintain, permWrite:
		return "write"
	case permTriage, permRead:
		return "read"
	}
	return "none"
}

func atLeast(have, want string) bool { return permRank[have] >= permRank[want] }

func maxPerm(a, b string) string {
	if permRank[b] > permRank[a] {
		return b
	}
	return a
}

func key(s string) string { return strings.ToLower(s) }

type state struct {
	NextID        int64                   `json:"nextID"`
	Users         map[string]*user        `json:"users"`
	Orgs          map[string]*org         `json:"orgs"`
	Repos         map[string]*repo        `json:"repos"`
	Tokens        map[string]*token       `json:"tokens"`
	Apps          map[int64]*app          `json:"apps"`
	Installations map[int64]*installation `json:"installations"`
	// OAuthApps and OAuthCodes serve the OAuth web flow (oauth.go).
	OAuthApps  map[string]*OAuthApp  `json:"oauthApps,omitempty"`
	OAuthCodes map[string]*oauthCode `json:"oauthCodes,omitempty"`
}

func newState() *state {
	return &state{
		NextID:        1000,
		Users:         map[string]*user{},
		Orgs:          map[string]*org{},
		Repos:         map[string]*repo{},
		Tokens:        map[string]*token{},
		Apps:          map[int64]*app{},
		Installations: map[int64]*installation{},
	}
}

func (s *state) id() int64 {
	s.NextID++
	return s.NextID
}

type user struct {
	ID        int64     `json:"id"`
	Login     string    `json:"login"`
	Name      string    `json:"name,omitempty"`
	Email     string    `json:"email,omitempty"`
	Type      string    `json:"type"` // User, Bot or Organization
	SiteAdmin bool      `json:"siteAdmin,omitempty"`
	Created   time.Time `json:"created"`
}

// token is a credential: a user's personal access token or an
// installation token minted for a GitHub App.
type token struct {
	User string `json:"user,omitempty"`
	// Scopes of a personal access token; nil means DefaultTokenScopes.
	Scopes       []string  `json:"scopes"`
	Installation int64     `json:"installation,omitempty"`
	Expires      time.Time `json:"expires,omitzero"`
}

type org struct {
	ID          int64                  `json:"id"`
	Login       string                 `json:"login"`
	Name        string                 `json:"name,omitempty"`
	Description string                 `json:"description,omitempty"`
	Email       string                 `json:"email,omitempty"`
	Created     time.Time              `json:"created"`
	Members     map[string]string      `json:"members"` // login -> admin|member
	Invitations map[string]*invitation `json:"invitations,omitempty"`
	Teams       map[string]*team       `json:"teams"` // slug -> team
	Hooks       []*hook                `json:"hooks,omitempty"`
	// DefaultPerm is what every member may do on the org's repositories.
	DefaultPerm string `json:"defaultPerm,omitempty"`
	// Settings are the rest of the org's profile and policies.
	Settings orgSettings `json:"settings"`
}

// orgSettings are the org settings GitHub's PATCH /orgs/{org} changes
// beyond name, description and email. GitHub's defaults for a new org are
// set where orgs are created.
type orgSettings struct {
	BillingEmail                 string `json:"billingEmail,omitempty"`
	Company                      string `json:"company,omitempty"`
	Location                     string `json:"location,omitempty"`
	HasOrganizationProjects      bool   `json:"hasOrganizationProjects,omitempty"`
	HasRepositoryProjects        bool   `json:"hasRepositoryProjects,omitempty"`
	MembersCanCreateRepositories bool   `json:"membersCanCreateRepositories,omitempty"`
	MembersCanCreatePublic       bool   `json:"membersCanCreatePublic,omitempty"`
	MembersCanCreatePrivate      bool   `json:"membersCanCreatePrivate,omitempty"`
	MembersCanCreateInternal     bool   `json:"membersCanCreateInternal,omitempty"`
}

// defaultOrgSettings are a new org's settings on GitHub.
func defaultOrgSettings() orgSettings {
	return orgSettings{HasOrganizationProjects: true, HasRepositoryProjects: true, MembersCanCreateRepositories: true,
		MembersCanCreatePublic: true, MembersCanCreatePrivate: true, MembersCanCreateInternal: true}
}

type invitation struct {
	ID      int64     `json:"id"`
	Login   string    `json:"login"`
	Role    string    `json:"role"` // admin|member (GitHub: admin, direct_member)
	Inviter string    `json:"inviter"`
	Created time.Time `json:"created"`
}

type team struct {
	ID          int64             `json:"id"`
	Name        string            `json:"name"`
	Slug        string            `json:"slug"`
	Description string            `json:"description,omitempty"`
	Privacy     string            `json:"privacy"`
	Parent      string            `json:"parent,omitempty"` // slug
	Members     map[string]string `json:"members"`          // login -> member|maintainer
	Repos       map[string]string `json:"repos"`            // repo key -> permission
	Created     time.Time         `json:"created"`
}

type repo struct {
	ID          int64  `json:"id"`
	Owner       string `json:"owner"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Homepage    string `json:"homepage,omitempty"`
	Private     bool   `json:"private,omitempty"`
	// Internal is the visibility of a private repository every member of
	// the org's enterprise can read.
	Internal      bool   `json:"internal,omitempty"`
	Archived      bool   `json:"archived,omitempty"`
	DefaultBranch string `json:"defaultBranch"`
	HasIssues     bool   `json:"hasIssues"`
	HasWiki       bool   `json:"hasWiki"`
	HasProjects   bool   `json:"hasProjects"`
	AllowMerge    bool   `json:"allowMerge"`
	AllowSquash   bool   `json:"allowSquash"`
	AllowRebase   bool   `json:"allowRebase"`
	// SquashTitle and SquashMessage are the default squash commit's title
	// and message sources.
	SquashTitle   string    `json:"squashTitle,omitempty"`
	SquashMessage string    `json:"squashMessage,omitempty"`
	Created       time.Time `json:"created"`
	Updated       time.Time `json:"updated"`
	Pushed        time.Time `json:"pushed,omitzero"`

	Collaborators map[string]string `json:"collaborators"` // login -> permission
	// Invitations are pending collaborator invitations by login.
	Invitations    map[string]*repoInvitation `json:"invitations,omitempty"`
	Labels         map[string]*label          `json:"labels"`
	Issues         map[int]*issue             `json:"issues"`
	NextNumber     int                        `json:"nextNumber"`
	Comments       map[int64]*comment         `json:"comments"` // issue comments
	ReviewComments map[int64]*comment         `json:"reviewComments"`
	Statuses       map[string][]*status       `json:"statuses"` // sha -> oldest first
	CheckRuns      map[int64]*checkRun        `json:"checkRuns"`
	Protections    map[string]*protection     `json:"protections"` // branch -> rules
	Hooks          []*hook                    `json:"hooks,omitempty"`
	Milestones     map[int]*milestone         `json:"milestones,omitempty"`
	// Parent is the full name of the repository this one is a fork of.
	Parent string `json:"parent,omitempty"`
}

func (r *repo) fullName() string { return r.Owner + "/" + r.Name }

type label struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Color       string `json:"color"`
	Description string `json:"description,omitempty"`
	Default     bool   `json:"default,omitempty"`
}

type milestone struct {
	ID     int64  `json:"id"`
	Number int    `json:"number"`
	Title  string `json:"title"`
	State  string `json:"state"`
}

type issue struct {
	ID          int64      `json:"id"`
	Number      int        `json:"number"`
	Title       string     `json:"title"`
	Body        string     `json:"body,omitempty"`
	User        string     `json:"user"`
	State       string     `json:"state"` // open|closed
	StateReason string     `json:"stateReason,omitempty"`
	Locked      bool       `json:"locked,omitempty"`
	Labels      []string   `json:"labels,omitempty"` // label keys, in order added
	Assignees   []string   `json:"assignees,omitempty"`
	Milestone   int        `json:"milestone,omitempty"`
	Created     time.Time  `json:"created"`
	Updated     time.Time  `json:"updated"`
	Closed      *time.Time `json:"closed,omitempty"`
	ClosedBy    string     `json:"closedBy,omitempty"`
	PR          *pull      `json:"pr,omitempty"`
	// Events are what GitHub's issue events API lists (issueevents.go).
	Events []*issueEvent `json:"events,omitempty"`
}

type pull struct {
	Head string `json:"head"` // branch of HeadRepo
	// HeadRepo is the full name of the fork the head branch lives in;
	// empty for a branch of the pull request's own repository.
	HeadRepo            string     `json:"headRepo,omitempty"`
	HeadSHA             string     `json:"headSHA"`
	Base                string     `json:"base"`
	Draft               bool       `json:"draft,omitempty"`
	MaintainerCanModify bool       `json:"maintainerCanModify,omitempty"`
	Merged              bool       `json:"merged,omitempty"`
	MergedAt            *time.Time `json:"mergedAt,omitempty"`
	MergedBy            string     `json:"mergedBy,omitempty"`
	MergeCommitSHA      string     `json:"mergeCommitSHA,omitempty"`
	RequestedReviewers  []string   `json:"requestedReviewers,omitempty"`
	RequestedTeams      []string   `json:"requestedTeams,omitempty"`
	Reviews             []*review  `json:"reviews,omitempty"`
}

type comment struct {
	ID        int64     `json:"id"`
	Issue     int       `json:"issue"`
	User      string    `json:"user"`
	Body      string    `json:"body"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	Path      string    `json:"path,omitempty"` // review comments only
	Line      int       `json:"line,omitempty"`
	Side      string    `json:"side,omitempty"`
	CommitID  string    `json:"commitID,omitempty"`
	ReviewID  int64     `json:"reviewID,omitempty"`
	InReplyTo int64     `json:"inReplyTo,omitempty"`
}

type review struct {
	ID        int64     `json:"id"`
	User      string    `json:"user"`
	Body      string    `json:"body,omitempty"`
	State     string    `json:"state"` // APPROVED, CHANGES_REQUESTED, COMMENTED, PENDING, DISMISSED
	CommitID  string    `json:"commitID"`
	Submitted time.Time `json:"submitted"`
}

type status struct {
	ID          int64     `json:"id"`
	State       string    `json:"state"`
	Context     string    `json:"context"`
	Description string    `json:"description,omitempty"`
	TargetURL   string    `json:"targetURL,omitempty"`
	Creator     string    `json:"creator"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

type checkRun struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	HeadSHA    string     `json:"headSHA"`
	Status     string     `json:"status"`
	Conclusion string     `json:"conclusion,omitempty"`
	DetailsURL string     `json:"detailsURL,omitempty"`
	ExternalID string     `json:"externalID,omitempty"`
	Started    *time.Time `json:"started,omitempty"`
	Completed  *time.Time `json:"completed,omitempty"`
	Title      string     `json:"title,omitempty"`
	Summary    string     `json:"summary,omitempty"`
	Text       string     `json:"text,omitempty"`
	App        int64      `json:"app,omitempty"`
	Creator    string     `json:"creator,omitempty"`
	// Annotations accumulate over the run's creation and updates, as on
	// GitHub.
	Annotations []checkAnnotation `json:"annotations,omitempty"`
}

// checkAnnotation is one annotation of a check run's output.
type checkAnnotation struct {
	Path        string `json:"path"`
	StartLine   int    `json:"startLine"`
	EndLine     int    `json:"endLine"`
	StartColumn *int   `json:"startColumn,omitempty"`
	EndColumn   *int   `json:"endColumn,omitempty"`
	Level       string `json:"level"`
	Title       string `json:"title,omitempty"`
	Message     string `json:"message"`
	RawDetails  string `json:"rawDetails,omitempty"`
}

// repoInvitation invites a user to collaborate on a repository.
type repoInvitation struct {
	ID         int64     `json:"id"`
	Login      string    `json:"login"`
	Permission string    `json:"permission"`
	Inviter    string    `json:"inviter"`
	Created    time.Time `json:"created"`
}

// protection is a branch's protection rules.
type protection struct {
	Strict           bool     `json:"strict,omitempty"`
	Contexts         []string `json:"contexts,omitempty"`
	HasStatusChecks  bool     `json:"hasStatusChecks,omitempty"`
	EnforceAdmins    bool     `json:"enforceAdmins,omitempty"`
	RequiredReviews  int      `json:"requiredReviews,omitempty"`
	HasReviews       bool     `json:"hasReviews,omitempty"`
	DismissStale     bool     `json:"dismissStale,omitempty"`
	CodeOwners       bool     `json:"codeOwners,omitempty"`
	RestrictUsers    []string `json:"restrictUsers,omitempty"`
	RestrictTeams    []string `json:"restrictTeams,omitempty"`
	HasRestrictions  bool     `json:"hasRestrictions,omitempty"`
	LinearHistory    bool     `json:"linearHistory,omitempty"`
	AllowForcePushes bool     `json:"allowForcePushes,omitempty"`
	AllowDeletions   bool     `json:"allowDeletions,omitempty"`
	// RestrictApps are the apps that may push, by slug.
	RestrictApps []string `json:"restrictApps,omitempty"`
	// Dismissal restrictions name who may dismiss reviews.
	HasDismissal   bool     `json:"hasDismissal,omitempty"`
	DismissalUsers []string `json:"dismissalUsers,omitempty"`
	DismissalTeams []string `json:"dismissalTeams,omitempty"`
	// Bypass allowances name who may merge without the required reviews.
	HasBypass   bool     `json:"hasBypass,omitempty"`
	BypassUsers []string `json:"bypassUsers,omitempty"`
	BypassTeams []string `json:"bypassTeams,omitempty"`
	BypassApps  []string `json:"bypassApps,omitempty"`
	// LastPushApproval requires the last push to be approved by someone
	// else.
	LastPushApproval bool `json:"lastPushApproval,omitempty"`
	// ConversationResolution requires review threads to be resolved.
	ConversationResolution bool `json:"conversationResolution,omitempty"`
	// Signatures requires signed commits.
	Signatures bool `json:"signatures,omitempty"`
}

type hook struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url"`
	ContentType string    `json:"contentType"` // json|form
	Secret      string    `json:"secret,omitempty"`
	InsecureSSL string    `json:"insecureSSL,omitempty"`
	Events      []string  `json:"events"`
	Active      bool      `json:"active"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

func (h *hook) wants(event string) bool {
	if !h.Active {
		return false
	}
	for _, e := range h.Events {
		if e == "*" || e == event {
			return true
		}
	}
	return false
}

type app struct {
	ID          int64             `json:"id"`
	Slug        string            `json:"slug"`
	Name        string            `json:"name"`
	Owner       string            `json:"owner"`
	PublicKey   string            `json:"publicKey"` // PEM
	Permissions map[string]string `json:"permissions,omitempty"`
	Events      []string          `json:"events,omitempty"`
	Created     time.Time         `json:"created"`
}

type installation struct {
	ID      int64     `json:"id"`
	App     int64     `json:"app"`
	Account string    `json:"account"` // org or user login
	Created time.Time `json:"created"`
}

// lookups; callers hold Forge.mu.

func (s *state) user(login string) *user { return s.Users[key(login)] }

func (s *state) org(login string) *org { return s.Orgs[key(login)] }

func (s *state) repo(owner, name string) *repo { return s.Repos[key(owner+"/"+name)] }

// account is the user or organization that owns repositories.
func (s *state) accountExists(login string) bool {
	return s.user(login) != nil || s.org(login) != nil
}

func (s *state) installationFor(account string) *installation {
	for _, in := range s.Installations {
		if key(in.Account) == key(account) {
			return in
		}
	}
	return nil
}

func (r *repo) issue(n int) *issue { return r.Issues[n] }

func (r *repo) label(name string) *label { return r.Labels[key(name)] }

func (i *issue) hasLabel(name string) bool {
	for _, l := range i.Labels {
		if l == key(name) {
			return true
		}
	}
	return false
}
