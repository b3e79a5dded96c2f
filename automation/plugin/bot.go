package plugin

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/google/go-github/v89/github"
)

// UsersAPI is the part of GitHub's users API Bot reads; a
// *github.UsersService satisfies it.
type UsersAPI interface {
	Get(ctx context.Context, user string) (*github.User, *github.Response, error)
}

// Bot is bowline's own GitHub identity, which plugins need to recognise
// their own comments and to ignore commands in them.
type Bot struct {
	mu    sync.Mutex
	login string
}

// NewBot returns the identity with the given login; with an empty login it
// is looked up (GET /user) the first time it is needed, which works with a
// token but not as a GitHub App (give the App's "name[bot]" login then).
func NewBot(login string) *Bot { return &Bot{login: login} }

// Login returns the bot's login.
func (b *Bot) Login(ctx context.Context, users UsersAPI) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.login != "" {
		return b.login, nil
	}
	u, _, err := users.Get(ctx, "")
	if err != nil {
		return "", fmt.Errorf("look up the bot's login: %w", err)
	}
	b.login = u.GetLogin()
	return b.login, nil
}

// Checker returns a function that tells whether a login is the bot's.
// GitHub Apps comment as "name[bot]", so either form matches.
func (b *Bot) Checker(ctx context.Context, users UsersAPI) (func(login string) bool, error) {
	me, err := b.Login(ctx, users)
	if err != nil {
		return nil, err
	}
	me = strings.TrimSuffix(strings.ToLower(me), "[bot]")
	return func(login string) bool {
		return strings.TrimSuffix(strings.ToLower(login), "[bot]") == me
	}, nil
}
