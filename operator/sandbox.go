package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bowline-ci/bowline/sandbox/forge"
)

// `bowline sandbox` runs the sandbox forge on its own and drives a running
// one from a terminal, so a demo can play every part: the contributor who
// opens a pull request, the reviewer, the maintainer who merges.

func newSandboxCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run the sandbox forge, or act on a running one",
		Long: `The sandbox forge is bowline's stand-in for GitHub: the REST API subset and
webhooks bowline uses, with real git repositories served over HTTP.

  bowline sandbox serve --seed forge.yaml         run it
  bowline sandbox pr open --repo acme/widgets ...  act as a user (--token)

A user who may not push to the repository opens pull requests from a fork,
as on GitHub: pr open forks the repository into their account first.`,
		Args: cobra.NoArgs,
	}
	pr := &cobra.Command{Use: "pr", Short: "Act on pull requests", Args: cobra.NoArgs}
	pr.AddCommand(newSandboxPROpenCommand())
	cmd.AddCommand(newSandboxServeCommand(), pr, newSandboxCommentCommand(), newSandboxReviewCommand(),
		newSandboxMergeCommand(), newSandboxPushCommand(), newSandboxForkCommand())
	return cmd
}

// SandboxServeOptions configures `bowline sandbox serve`.
type SandboxServeOptions struct {
	// Addr is the listen address.
	Addr string
	// DataDir keeps state and repositories across restarts; empty keeps
	// them in memory.
	DataDir string
	// Seed is a YAML file of users, orgs, teams and repositories.
	Seed string
	// BaseURL is how clients reach the forge when that is not the listen
	// address (behind a proxy, in a container).
	BaseURL string
	// FaultInjection serves the fault-injection endpoint
	// (/_sandbox/faults, docs/sandbox.md), for testing how clients
	// survive GitHub's failures.
	FaultInjection bool
	Log            LogOptions
}

// AddFlags registers the flags of `bowline sandbox serve`.
func (o *SandboxServeOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:3000", "address to listen on")
	fs.StringVar(&o.DataDir, "data-dir", "", "directory for state and git repositories; empty keeps them in memory")
	fs.StringVar(&o.Seed, "seed", "", "YAML file of users, orgs, teams and repositories to create at start")
	fs.StringVar(&o.BaseURL, "base-url", "", "URL clients use to reach the forge; default from --addr")
	fs.BoolVar(&o.FaultInjection, "fault-injection", false, "serve /_sandbox/faults, through which anyone who reaches the forge can make it answer errors, rate limits and late answers")
	o.Log.AddFlags(fs)
}

// Validate reports flag values that cannot work.
func (o *SandboxServeOptions) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr %q is not host:port", o.Addr))
	}
	if o.BaseURL != "" {
		if u, err := url.Parse(o.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--base-url %q is not an http(s) URL", o.BaseURL))
		}
	}
	if err := o.Log.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func newSandboxServeCommand() *cobra.Command {
	o := &SandboxServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the sandbox forge until interrupted",
		Long: `Run the sandbox forge. It prints its URL, which is the API root (for go-github,
the base URL) and the prefix of clone URLs (URL/owner/repo.git), and the
users with the tokens the seed gave them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return runSandboxServe(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func runSandboxServe(ctx context.Context, out io.Writer, o *SandboxServeOptions) error {
	log := o.Log.Logger()
	var seed *forge.Seed
	if o.Seed != "" {
		s, err := forge.LoadSeed(o.Seed)
		if err != nil {
			return err
		}
		seed = s
	}
	lis, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	base := o.BaseURL
	if base == "" {
		host, port, _ := net.SplitHostPort(lis.Addr().String())
		if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
			host = "localhost"
		}
		base = "http://" + net.JoinHostPort(host, port)
	}
	f, err := forge.New(forge.Options{DataDir: o.DataDir, BaseURL: base, Log: log, FaultInjection: o.FaultInjection})
	if err != nil {
		lis.Close()
		return err
	}
	defer f.Close()
	if seed != nil {
		if err := f.Seed(ctx, seed); err != nil {
			lis.Close()
			return err
		}
	}
	srv := &http.Server{Handler: f.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	printSandbox(out, base, seed)
	log.Info("Sandbox forge serving", "url", base, "dataDir", o.DataDir)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// printSandbox tells the person who started the sandbox how to use it.
// The tokens are the sandbox's own, from their seed file.
func printSandbox(out io.Writer, base string, seed *forge.Seed) {
	fmt.Fprintf(out, "Sandbox forge at %s\n", base)
	fmt.Fprintf(out, "  API:   %s (go-github base URL, or GitHub Enterprise URL %s/api/v3)\n", base, base)
	fmt.Fprintf(out, "  Clone: %s/{owner}/{repo}.git\n", base)
	if seed == nil {
		return
	}
	users := append([]forge.SeedUser(nil), seed.Users...)
	sort.Slice(users, func(i, j int) bool { return users[i].Login < users[j].Login })
	for _, u := range users {
		if u.Token != "" {
			fmt.Fprintf(out, "  User %-16s token %s\n", u.Login, u.Token)
		}
	}
}

// SandboxClientOptions are the flags every client verb shares.
type SandboxClientOptions struct {
	// URL is the running sandbox's base URL.
	URL string
	// Token is the acting user's token; empty means $BOWLINE_SANDBOX_TOKEN.
	Token string
	// Repo is owner/name.
	Repo string
}

// AddFlags registers the shared client flags.
func (o *SandboxClientOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.URL, "url", "http://localhost:3000", "base URL of the running sandbox forge")
	fs.StringVar(&o.Token, "token", "", "token of the user to act as (default $BOWLINE_SANDBOX_TOKEN)")
	fs.StringVar(&o.Repo, "repo", "", "repository, owner/name")
}

// Validate reports flag values that cannot work.
func (o *SandboxClientOptions) Validate() error {
	var errs []error
	if u, err := url.Parse(o.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("--url %q is not an http(s) URL", o.URL))
	}
	if o.Token == "" {
		o.Token = os.Getenv("BOWLINE_SANDBOX_TOKEN")
	}
	if o.Token == "" {
		errs = append(errs, errors.New("--token (or $BOWLINE_SANDBOX_TOKEN) is required"))
	}
	if owner, name, ok := strings.Cut(o.Repo, "/"); !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		errs = append(errs, fmt.Errorf("--repo %q is not owner/name", o.Repo))
	}
	return errors.Join(errs...)
}

func (o *SandboxClientOptions) client() (*github.Client, error) {
	base := strings.TrimSuffix(o.URL, "/") + "/"
	return github.NewClient(github.WithAuthToken(o.Token), github.WithURLs(&base, &base))
}

func (o *SandboxClientOptions) ownerName() (string, string) {
	owner, name, _ := strings.Cut(o.Repo, "/")
	return owner, name
}

// fileFlags parses --file path=content and --file path=@localfile.
func fileFlags(specs []string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, s := range specs {
		p, v, ok := strings.Cut(s, "=")
		if !ok || p == "" {
			return nil, fmt.Errorf("--file %q is not path=content or path=@file", s)
		}
		if local, isFile := strings.CutPrefix(v, "@"); isFile {
			b, err := os.ReadFile(local)
			if err != nil {
				return nil, err
			}
			files[p] = b
			continue
		}
		files[p] = []byte(v)
	}
	return files, nil
}

// pushFiles commits files to branch through the contents API, creating
// the branch from the default branch first. It returns the last commit.
func pushFiles(ctx context.Context, c *github.Client, owner, name, branch string, files map[string][]byte, message string) (string, error) {
	if _, _, err := c.Git.GetRef(ctx, owner, name, "heads/"+branch); err != nil {
		r, _, err := c.Repositories.Get(ctx, owner, name)
		if err != nil {
			return "", err
		}
		base, _, err := c.Git.GetRef(ctx, owner, name, "heads/"+r.GetDefaultBranch())
		if err != nil {
			return "", err
		}
		if _, _, err := c.Git.CreateRef(ctx, owner, name, github.CreateRef{Ref: "refs/heads/" + branch, SHA: base.GetObject().GetSHA()}); err != nil {
			return "", err
		}
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	sha := ""
	for _, p := range paths {
		opts := &github.RepositoryContentFileOptions{Message: github.Ptr(message), Content: files[p], Branch: github.Ptr(branch)}
		if cur, _, _, err := c.Repositories.GetContents(ctx, owner, name, p, &github.RepositoryContentGetOptions{Ref: branch}); err == nil && cur != nil {
			opts.SHA = cur.SHA
		}
		res, _, err := c.Repositories.CreateFile(ctx, owner, name, p, opts)
		if err != nil {
			return "", fmt.Errorf("write %s: %w", p, err)
		}
		sha = res.Commit.GetSHA()
	}
	return sha, nil
}

func newSandboxPushCommand() *cobra.Command {
	o := &SandboxClientOptions{}
	var branch, message string
	var files []string
	cmd := &cobra.Command{
		Use:   "push",
		Short: "Commit files to a branch as the token's user",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			fs, err := fileFlags(files)
			if err != nil {
				return err
			}
			if len(fs) == 0 || branch == "" {
				return errors.New("--branch and at least one --file are required")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			owner, name := o.ownerName()
			sha, err := pushFiles(cmd.Context(), c, owner, name, branch, fs, message)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Pushed %s to %s:%s (%d files)\n", shortSHA(sha), o.Repo, branch, len(fs))
			return nil
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&branch, "branch", "", "branch to commit to (created from the default branch)")
	cmd.Flags().StringVar(&message, "message", "Update files", "commit message")
	cmd.Flags().StringArrayVar(&files, "file", nil, "path=content or path=@localfile (repeatable)")
	return cmd
}

func newSandboxPROpenCommand() *cobra.Command {
	o := &SandboxClientOptions{}
	var head, base, title, body string
	var files []string
	var draft, fork bool
	cmd := &cobra.Command{
		Use:   "open",
		Short: "Open a pull request, pushing --file changes to --head first (in a fork when the user may not push)",
		Long: `Open a pull request on --repo from the branch --head, after committing the
--file changes to that branch. A user who may not push to --repo (someone
outside the org, say) works as on GitHub: the repository is forked into
their account, the branch lives in the fork, and the pull request is opened
from user:branch. --fork does the same for anyone; --head user:branch opens
one from a fork's existing branch.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			if head == "" || title == "" {
				return errors.New("--head and --title are required")
			}
			fs, err := fileFlags(files)
			if err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, out := cmd.Context(), cmd.OutOrStdout()
			owner, name := o.ownerName()
			r, _, err := c.Repositories.Get(ctx, owner, name)
			if err != nil {
				return err
			}
			headOwner, headName, branch := owner, name, head
			if u, b, ok := strings.Cut(head, ":"); ok {
				headOwner, branch = u, b
			} else if len(fs) > 0 && (fork || !r.GetPermissions().GetPush()) {
				f, err := forkRepo(ctx, c, owner, name)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "Forked %s to %s\n", o.Repo, f.GetFullName())
				headOwner, headName = f.GetOwner().GetLogin(), f.GetName()
			}
			if len(fs) > 0 {
				if headOwner != owner && headName == name {
					// --head user:branch: the user's fork of the repository.
					if f, err := forkRepo(ctx, c, owner, name); err == nil && strings.EqualFold(f.GetOwner().GetLogin(), headOwner) {
						headName = f.GetName()
					}
				}
				if _, err := pushFiles(ctx, c, headOwner, headName, branch, fs, title); err != nil {
					return err
				}
			}
			if base == "" {
				base = r.GetDefaultBranch()
			}
			spec := branch
			if headOwner != owner {
				spec = headOwner + ":" + branch
			}
			pr, _, err := c.PullRequests.Create(ctx, owner, name, &github.NewPullRequest{Title: github.Ptr(title),
				Head: github.Ptr(spec), Base: github.Ptr(base), Body: github.Ptr(body), Draft: github.Ptr(draft)})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Opened %s#%d %q (%s → %s) at %s\n", o.Repo, pr.GetNumber(), pr.GetTitle(),
				spec, base, shortSHA(pr.GetHead().GetSHA()))
			return nil
		},
	}
	o.AddFlags(cmd.Flags())
	cmd.Flags().StringVar(&head, "head", "", "branch with the change, or user:branch for a branch of user's fork")
	cmd.Flags().StringVar(&base, "base", "", "branch to merge into (default: the repository's default branch)")
	cmd.Flags().StringVar(&title, "title", "", "title")
	cmd.Flags().StringVar(&body, "body", "", "description")
	cmd.Flags().BoolVar(&draft, "draft", false, "open as a draft")
	cmd.Flags().BoolVar(&fork, "fork", false, "push --file changes to a fork even when the user may push to --repo")
	cmd.Flags().StringArrayVar(&files, "file", nil, "path=content or path=@localfile to push to --head first (repeatable)")
	return cmd
}

// forkRepo forks owner/name into the token's user account, or returns the
// fork it has already. GitHub answers 202 Accepted, which go-github
// reports as an error carrying the repository.
func forkRepo(ctx context.Context, c *github.Client, owner, name string) (*github.Repository, error) {
	f, _, err := c.Repositories.CreateFork(ctx, owner, name, nil)
	var accepted *github.AcceptedError
	if errors.As(err, &accepted) {
		f = &github.Repository{}
		if err := json.Unmarshal(accepted.Raw, f); err != nil {
			return nil, fmt.Errorf("fork %s/%s: %w", owner, name, err)
		}
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fork %s/%s: %w", owner, name, err)
	}
	return f, nil
}

func newSandboxForkCommand() *cobra.Command {
	o := &SandboxClientOptions{}
	cmd := &cobra.Command{
		Use:   "fork",
		Short: "Fork a repository into the token's user account",
		Long: `Fork --repo into the token's user account, as GitHub's fork button does, and
print the fork's clone URL. Forking again returns the existing fork. Push
to the fork (bowline sandbox push --repo user/name, or git) and open a pull
request from it with bowline sandbox pr open --head user:branch.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			owner, name := o.ownerName()
			f, err := forkRepo(cmd.Context(), c, owner, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Forked %s to %s (git: %s)\n", o.Repo, f.GetFullName(), f.GetCloneURL())
			return nil
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func numberFlag(fs *pflag.FlagSet, n *int) {
	fs.IntVar(n, "number", 0, "issue or pull request number")
}

func newSandboxCommentCommand() *cobra.Command {
	o := &SandboxClientOptions{}
	var number int
	var body string
	cmd := &cobra.Command{
		Use:   "comment",
		Short: "Comment on an issue or pull request (slash commands included)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			if number <= 0 || body == "" {
				return errors.New("--number and --body are required")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			owner, name := o.ownerName()
			cm, _, err := c.Issues.CreateComment(cmd.Context(), owner, name, number, &github.IssueComment{Body: github.Ptr(body)})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Commented on %s#%d as %s: %s\n", o.Repo, number, cm.GetUser().GetLogin(), cm.GetHTMLURL())
			return nil
		},
	}
	o.AddFlags(cmd.Flags())
	numberFlag(cmd.Flags(), &number)
	cmd.Flags().StringVar(&body, "body", "", "comment text")
	return cmd
}

func newSandboxReviewCommand() *cobra.Command {
	o := &SandboxClientOptions{}
	var number int
	var event, body string
	cmd := &cobra.Command{
		Use:   "review",
		Short: "Review a pull request: approve, request-changes or comment",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			ev, ok := map[string]string{"approve": "APPROVE", "request-changes": "REQUEST_CHANGES", "comment": "COMMENT"}[event]
			if number <= 0 || !ok {
				return errors.New("--number and --event (approve, request-changes or comment) are required")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			owner, name := o.ownerName()
			rv, _, err := c.PullRequests.CreateReview(cmd.Context(), owner, name, number,
				&github.PullRequestReviewRequest{Event: github.Ptr(ev), Body: github.Ptr(body)})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Reviewed %s#%d as %s: %s at %s\n", o.Repo, number, rv.GetUser().GetLogin(), rv.GetState(), shortSHA(rv.GetCommitID()))
			return nil
		},
	}
	o.AddFlags(cmd.Flags())
	numberFlag(cmd.Flags(), &number)
	cmd.Flags().StringVar(&event, "event", "approve", "approve, request-changes or comment")
	cmd.Flags().StringVar(&body, "body", "", "review text (required unless approving)")
	return cmd
}

func newSandboxMergeCommand() *cobra.Command {
	o := &SandboxClientOptions{}
	var number int
	var method, sha string
	cmd := &cobra.Command{
		Use:   "merge",
		Short: "Merge a pull request",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			if number <= 0 {
				return errors.New("--number is required")
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			owner, name := o.ownerName()
			res, _, err := c.PullRequests.Merge(cmd.Context(), owner, name, number, "", &github.PullRequestOptions{MergeMethod: method, SHA: sha})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Merged %s#%d by %s: %s\n", o.Repo, number, method, shortSHA(res.GetSHA()))
			return nil
		},
	}
	o.AddFlags(cmd.Flags())
	numberFlag(cmd.Flags(), &number)
	cmd.Flags().StringVar(&method, "method", "merge", "merge, squash or rebase")
	cmd.Flags().StringVar(&sha, "sha", "", "merge only if the head is still this commit")
	return cmd
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
