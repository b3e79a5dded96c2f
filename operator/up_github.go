package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	ghclient "github.com/bowline-ci/bowline/scm/github"
)

// githubSource names where the credentials came from, for messages: the
// flag and the file.
type githubSource struct {
	// TokenFile or AppKeyFile is the file that holds the credential.
	TokenFile, AppKeyFile string
	// TokenFlag and AppFlags are the flags that named them.
	TokenFlag, AppFlags string
}

// checkGitHubCredentials makes one authenticated call with the credentials
// and fails, in one line that says what to do, when GitHub rejects them or
// they lack a scope or permission bowline needs. Classic tokens report
// their scopes; for other tokens it writes to out that their permissions
// cannot be checked.
func checkGitHubCredentials(ctx context.Context, out io.Writer, opts ghclient.Options, src githubSource) error {
	opts.Metrics = nil
	opts.MaxRetries = -1
	opts.Budget = nil
	c, err := ghclient.New(opts)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	access, err := c.Verify(ctx)
	switch {
	case errors.Is(err, ghclient.ErrBadCredentials) && opts.AppID != 0:
		return fmt.Errorf("GitHub rejected GitHub App %d with the key in %s (401 Bad credentials): check %s", opts.AppID, src.AppKeyFile, src.AppFlags)
	case errors.Is(err, ghclient.ErrBadCredentials):
		return fmt.Errorf("GitHub rejected the token in %s (401 Bad credentials): create a personal access token with the scopes %s and put it in that file (%s)",
			src.TokenFile, strings.Join(ghclient.TokenScopes, " and "), src.TokenFlag)
	case err != nil:
		return fmt.Errorf("cannot reach GitHub at %s to check the credentials: %w", c.BaseURL(), err)
	}
	if opts.AppID != 0 {
		return checkAppInstallations(access, opts.AppID)
	}
	if !access.ScopesKnown {
		fmt.Fprintf(out, "GitHub does not report this token's permissions (a fine-grained token?): it needs read and write access to pull requests, issues, commit statuses and contents, and read access to org members.\n")
		return nil
	}
	if missing := ghclient.MissingScopes(access.Scopes, ghclient.TokenScopes); len(missing) > 0 {
		have := strings.Join(access.Scopes, ", ")
		if have == "" {
			have = "none"
		}
		return fmt.Errorf("the token in %s (user %s) lacks the scopes %s (it has: %s): create a token with the scopes %s and put it in that file",
			src.TokenFile, access.Login, strings.Join(missing, ", "), have, strings.Join(ghclient.TokenScopes, ", "))
	}
	return nil
}

// checkAppInstallations fails when the App is installed nowhere, or lacks
// a permission bowline needs on an installation.
func checkAppInstallations(access *ghclient.Access, appID int64) error {
	if len(access.Installations) == 0 {
		return fmt.Errorf("GitHub App %s (%d) is not installed on any org or user: install it where bowline should work", access.Login, appID)
	}
	var lacking []string
	for _, in := range access.Installations {
		if missing := ghclient.MissingPermissions(in.Permissions, ghclient.AppPermissions); len(missing) > 0 {
			lacking = append(lacking, fmt.Sprintf("on %s: %s", in.Account, strings.Join(missing, ", ")))
		}
	}
	if len(lacking) > 0 {
		return fmt.Errorf("GitHub App %s (%d) lacks permissions (%s): grant them in the App's settings and accept them on each installation",
			access.Login, appID, strings.Join(lacking, "; "))
	}
	return nil
}
