package repoowners

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"github.com/google/go-github/v89/github"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"
	"k8s.io/utils/lru"

	"github.com/bowline-ci/bowline/schema/owners"
)

// GitAPI is the part of GitHub's git data API the client reads; a
// *github.GitService satisfies it.
type GitAPI interface {
	GetRef(ctx context.Context, owner, repo, ref string) (*github.Reference, *github.Response, error)
	GetTree(ctx context.Context, owner, repo, sha string, recursive bool) (*github.Tree, *github.Response, error)
	GetBlobRaw(ctx context.Context, owner, repo, sha string) ([]byte, *github.Response, error)
}

// RepositoriesAPI is the part of GitHub's repositories API the client
// reads; a *github.RepositoriesService satisfies it.
type RepositoriesAPI interface {
	ListCollaborators(ctx context.Context, owner, repo string, opts *github.ListCollaboratorsOptions) ([]*github.User, *github.Response, error)
}

// GitHub is the client's view of GitHub for one org.
type GitHub struct {
	Git          GitAPI
	Repositories RepositoriesAPI
}

// FromClient is the GitHub view of a go-github client.
func FromClient(c *github.Client) *GitHub {
	return &GitHub{Git: c.Git, Repositories: c.Repositories}
}

// Cache sizes: revisions of repositories, and parsed files by blob.
const (
	DefaultMaxRevisions = 256
	DefaultMaxBlobs     = 50_000
	// fetchParallelism bounds the blobs read at once.
	fetchParallelism = 8
)

// Client loads and caches OWNERS. One Client serves every plugin of a
// process, so that they share what was read; it is safe for concurrent use.
type Client struct {
	revisions *lru.Cache // revisionKey → *revision
	blobs     *lru.Cache // kind + blob SHA → parsed
	loads     singleflight.Group
}

// NewClient returns a Client with the default cache sizes.
func NewClient() *Client {
	return &Client{revisions: lru.New(DefaultMaxRevisions), blobs: lru.New(DefaultMaxBlobs)}
}

// revision is the OWNERS of one commit, before the collaborator check, and
// the last collaborator-checked copy.
type revision struct {
	owners *Owners

	mu        sync.Mutex
	collabKey string
	checked   *Owners
}

// Load returns the OWNERS of org/repo at the head of branch base.
func (c *Client) Load(ctx context.Context, gh *GitHub, org, repo, base string, s Settings) (*Owners, error) {
	ref, _, err := gh.Git.GetRef(ctx, org, repo, "heads/"+base)
	if err != nil {
		return nil, fmt.Errorf("resolve branch %s of %s/%s: %w", base, org, repo, err)
	}
	sha := ref.GetObject().GetSHA()
	if sha == "" {
		return nil, fmt.Errorf("branch %s of %s/%s has no commit", base, org, repo)
	}
	return c.LoadAt(ctx, gh, org, repo, sha, s)
}

// LoadAt returns the OWNERS of org/repo at commit sha.
func (c *Client) LoadAt(ctx context.Context, gh *GitHub, org, repo, sha string, s Settings) (*Owners, error) {
	key := strings.ToLower(org+"/"+repo) + "@" + sha + "\x00" + s.key()
	var rev *revision
	if v, ok := c.revisions.Get(key); ok {
		rev = v.(*revision)
	} else {
		v, err, _ := c.loads.Do(key, func() (any, error) {
			if v, ok := c.revisions.Get(key); ok {
				return v, nil
			}
			o, err := c.read(ctx, gh, org, repo, sha, s)
			if err != nil {
				return nil, err
			}
			r := &revision{owners: o}
			c.revisions.Add(key, r)
			return r, nil
		})
		if err != nil {
			return nil, err
		}
		rev = v.(*revision)
	}
	if s.SkipCollaborators {
		return rev.owners, nil
	}
	collaborators, err := listCollaborators(ctx, gh, org, repo)
	if err != nil {
		return nil, fmt.Errorf("list collaborators of %s/%s: %w", org, repo, err)
	}
	return rev.withCollaborators(collaborators), nil
}

// withCollaborators returns the owners restricted to collaborators,
// reusing the last result while the collaborators stay the same.
func (r *revision) withCollaborators(collaborators map[string]bool) *Owners {
	logins := make([]string, 0, len(collaborators))
	for l := range collaborators {
		logins = append(logins, l)
	}
	slices.Sort(logins)
	sum := sha256.Sum256([]byte(strings.Join(logins, "\n")))
	k := hex.EncodeToString(sum[:])
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.checked == nil || r.collabKey != k {
		r.checked, r.collabKey = r.owners.filterCollaborators(collaborators), k
	}
	return r.checked
}

func listCollaborators(ctx context.Context, gh *GitHub, org, repo string) (map[string]bool, error) {
	out := map[string]bool{}
	opts := &github.ListCollaboratorsOptions{ListOptions: github.ListOptions{PerPage: 100}}
	for {
		users, resp, err := gh.Repositories.ListCollaborators(ctx, org, repo, opts)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			out[NormLogin(u.GetLogin())] = true
		}
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// file is an OWNERS-bearing file of the tree.
type file struct {
	path, sha string
	kind      string // owners, md or aliases
}

// read lists the tree at sha and reads the files that matter.
func (c *Client) read(ctx context.Context, gh *GitHub, org, repo, sha string, s Settings) (*Owners, error) {
	deny := compileDenylist(ctx, s.DirDenylist)
	entries, err := listTree(ctx, gh, org, repo, sha, deny)
	if err != nil {
		return nil, err
	}
	var files []file
	for _, e := range entries {
		if e.GetType() != "blob" {
			continue
		}
		p := e.GetPath()
		switch {
		case p == s.Filenames.OwnersAliases:
			files = append(files, file{p, e.GetSHA(), "aliases"})
		case denied(deny, p):
		case path.Base(p) == s.Filenames.Owners:
			files = append(files, file{p, e.GetSHA(), "owners"})
		case s.MDYAML && strings.HasSuffix(p, ".md"):
			files = append(files, file{p, e.GetSHA(), "md"})
		}
	}
	parsed := make([]any, len(files))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchParallelism)
	for i, f := range files {
		g.Go(func() error {
			v, err := c.parsedBlob(gctx, gh, org, repo, f)
			parsed[i] = v
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return build(ctx, files, parsed, s, sha), nil
}

// parsedResult is a parsed file or why it could not be parsed.
type parsedResult struct {
	owners  *File
	aliases map[string][]string
	err     error
}

// parsedBlob reads and parses one file, by blob SHA from the cache when it
// was read before (a blob's content never changes).
func (c *Client) parsedBlob(ctx context.Context, gh *GitHub, org, repo string, f file) (*parsedResult, error) {
	k := f.kind + ":" + f.sha
	if v, ok := c.blobs.Get(k); ok {
		return v.(*parsedResult), nil
	}
	data, _, err := gh.Git.GetBlobRaw(ctx, org, repo, f.sha)
	if err != nil {
		return nil, fmt.Errorf("read %s of %s/%s: %w", f.path, org, repo, err)
	}
	res := parseFile(f.kind, data)
	c.blobs.Add(k, res)
	return res, nil
}

// listTree lists every entry of the tree at sha: recursively in one call,
// or, when GitHub truncates that listing (very large trees), directory by
// directory, skipping denied directories.
func listTree(ctx context.Context, gh *GitHub, org, repo, sha string, deny []*regexp.Regexp) ([]*github.TreeEntry, error) {
	tree, _, err := gh.Git.GetTree(ctx, org, repo, sha, true)
	if err != nil {
		return nil, fmt.Errorf("list the tree of %s/%s at %s: %w", org, repo, sha, err)
	}
	if !tree.GetTruncated() {
		return tree.Entries, nil
	}
	var out []*github.TreeEntry
	type dir struct{ path, sha string }
	queue := []dir{{"", sha}}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		t, _, err := gh.Git.GetTree(ctx, org, repo, d.sha, false)
		if err != nil {
			return nil, fmt.Errorf("list %s/%s:%s: %w", org, repo, d.path, err)
		}
		for _, e := range t.Entries {
			p := e.GetPath()
			if d.path != "" {
				p = d.path + "/" + p
			}
			e.Path = github.Ptr(p)
			out = append(out, e)
			if e.GetType() == "tree" && !deniedDir(deny, p) {
				queue = append(queue, dir{p, e.GetSHA()})
			}
		}
	}
	return out, nil
}

func compileDenylist(ctx context.Context, patterns []string) []*regexp.Regexp {
	var out []*regexp.Regexp
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			logr.FromContextOrDiscard(ctx).Info("Ignoring an invalid owners_dir_denylist entry", "pattern", p, "error", err.Error())
			continue
		}
		out = append(out, re)
	}
	return out
}

// deniedDir reports whether directory d is denied.
func deniedDir(deny []*regexp.Regexp, d string) bool {
	for _, re := range deny {
		if re.MatchString(d) {
			return true
		}
	}
	return false
}

// denied reports whether a file lies in a denied directory: the search
// never enters one, so a file below it is not seen either.
func denied(deny []*regexp.Regexp, p string) bool {
	if len(deny) == 0 {
		return false
	}
	for d := path.Dir(p); ; d = path.Dir(d) {
		if deniedDir(deny, d) {
			return true
		}
		if d == "." {
			return false
		}
	}
}

// build assembles Owners from the parsed files; files that could not be
// parsed are skipped, as Prow does.
func build(ctx context.Context, files []file, parsed []any, s Settings, sha string) *Owners {
	log := logr.FromContextOrDiscard(ctx)
	o := &Owners{
		approvers: entries{}, advisoryApprovers: entries{}, reviewers: entries{}, requiredReviewers: entries{}, labels: entries{},
		options: map[string]owners.Options{}, aliases: map[string][]string{},
		filenames: s.Filenames, mdYAML: s.MDYAML, sha: sha,
	}
	for i, f := range files {
		if r := parsed[i].(*parsedResult); f.kind == "aliases" {
			o.aliases = r.aliases
			if r.err != nil {
				log.Info("OWNERS_ALIASES is partly invalid; using what could be read", "file", f.path, "error", r.err.Error())
			}
		}
	}
	for i, f := range files {
		r := parsed[i].(*parsedResult)
		if f.kind == "aliases" {
			continue
		}
		if r.err != nil {
			log.Info("Skipping an invalid OWNERS file", "file", f.path, "error", r.err.Error())
			continue
		}
		if r.owners == nil {
			continue
		}
		at := dirOf(f.path)
		if f.kind == "md" {
			at = f.path
		}
		o.apply(at, r.owners)
	}
	return o
}

// apply records an OWNERS file of directory (or Markdown file) at.
func (o *Owners) apply(at string, f *File) {
	for pattern, c := range f.Sections {
		var re *regexp.Regexp
		if pattern != "" && pattern != ".*" {
			var err error
			if re, err = regexp.Compile(pattern); err != nil {
				continue
			}
		}
		add := func(m entries, values []string) {
			if len(values) > 0 {
				m[at] = append(m[at], entry{re: re, values: values})
			}
		}
		add(o.approvers, expand(o.aliases, append(slices.Clone(c.Approvers), c.AdvisoryApprovers...)))
		add(o.advisoryApprovers, expand(o.aliases, c.AdvisoryApprovers))
		add(o.reviewers, expand(o.aliases, c.Reviewers))
		add(o.requiredReviewers, expand(o.aliases, c.RequiredReviewers))
		labels := slices.Clone(c.Labels)
		slices.Sort(labels)
		add(o.labels, slices.Compact(labels))
	}
	if f.Options != (owners.Options{}) {
		o.options[at] = f.Options
	}
}

// FromFiles resolves OWNERS from a repository's files given by path (only
// the OWNERS files, OWNERS_ALIASES and, with MDYAML, Markdown files
// matter), for callers that have them at hand rather than on GitHub.
// Collaborators are not checked.
func FromFiles(ctx context.Context, files map[string][]byte, s Settings) *Owners {
	deny := compileDenylist(ctx, s.DirDenylist)
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	var list []file
	var parsed []any
	for _, p := range paths {
		var f file
		switch {
		case p == s.Filenames.OwnersAliases:
			f = file{path: p, kind: "aliases"}
		case denied(deny, p):
			continue
		case path.Base(p) == s.Filenames.Owners:
			f = file{path: p, kind: "owners"}
		case s.MDYAML && strings.HasSuffix(p, ".md"):
			f = file{path: p, kind: "md"}
		default:
			continue
		}
		list = append(list, f)
		parsed = append(parsed, parseFile(f.kind, files[p]))
	}
	return build(ctx, list, parsed, s, "")
}

func parseFile(kind string, data []byte) *parsedResult {
	res := &parsedResult{}
	switch kind {
	case "aliases":
		res.aliases, res.err = ParseAliases(data)
	case "md":
		res.owners, res.err = parseMarkdown(data)
	default:
		res.owners, res.err = ParseFile(data)
	}
	return res
}
