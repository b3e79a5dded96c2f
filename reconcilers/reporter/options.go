package reporter

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/slack-go/slack"
	"github.com/spf13/pflag"
)

// Options are the reporter's flags.
type Options struct {
	// Workers is how many runs are reported at once.
	Workers int
	// BotLogin is the GitHub login whose comments are summary comments;
	// empty looks it up from the token.
	BotLogin string
	// SlackTokenFile holds the Slack bot token of the default workspace
	// (reporter settings without host); empty turns Slack reporting off.
	SlackTokenFile string
	// AdditionalSlackTokenFiles are host=path pairs: the tokens of other
	// workspaces, chosen by a setting's host.
	AdditionalSlackTokenFiles []string
	// SlackWorkers is how many runs are reported to Slack at once.
	SlackWorkers int
	// SlackAPIURL is Slack's Web API; a stand-in's in tests.
	SlackAPIURL string
}

// AddFlags registers the flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.Workers, "github-workers", 5, "ProwJobs reported to GitHub at once")
	fs.StringVar(&o.BotLogin, "github-bot-login", "", "GitHub login of the bot whose comments are job summaries; empty looks it up")
	fs.StringVar(&o.SlackTokenFile, "slack-token-file", "", "file with the Slack bot token (chat:write) of the default workspace; empty turns Slack reporting off")
	fs.StringSliceVar(&o.AdditionalSlackTokenFiles, "additional-slack-token-files", nil, "host=path of the Slack tokens of other workspaces, chosen by a reporter setting's host")
	fs.IntVar(&o.SlackWorkers, "slack-workers", 1, "ProwJobs reported to Slack at once")
	fs.StringVar(&o.SlackAPIURL, "slack-api-url", "https://slack.com/api/", "Slack's Web API")
}

// SlackClients reads the token files into one Slack client per workspace
// host; none when no token file is set. Tokens never appear in errors.
func (o *Options) SlackClients() (map[string]SlackPoster, error) {
	files := map[string]string{}
	if o.SlackTokenFile != "" {
		files[DefaultSlackHost] = o.SlackTokenFile
	}
	for _, hp := range o.AdditionalSlackTokenFiles {
		host, path, _ := strings.Cut(hp, "=")
		files[host] = path
	}
	out := map[string]SlackPoster{}
	for host, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read the Slack token of %s: %w", host, err)
		}
		token := strings.TrimSpace(string(b))
		if token == "" {
			return nil, fmt.Errorf("the Slack token file of %s (%s) is empty", host, path)
		}
		out[host] = slack.New(token, slack.OptionAPIURL(o.SlackAPIURL))
	}
	return out, nil
}

// Validate reports values that cannot work.
func (o *Options) Validate() error {
	var errs []error
	if o.Workers < 1 {
		errs = append(errs, fmt.Errorf("--github-workers must be at least 1, not %d", o.Workers))
	}
	if o.SlackWorkers < 1 {
		errs = append(errs, fmt.Errorf("--slack-workers must be at least 1, not %d", o.SlackWorkers))
	}
	for _, hp := range o.AdditionalSlackTokenFiles {
		if host, path, ok := strings.Cut(hp, "="); !ok || host == "" || path == "" {
			errs = append(errs, fmt.Errorf("--additional-slack-token-files %q is not host=path", hp))
		}
	}
	if u, err := url.Parse(o.SlackAPIURL); err != nil || u.Scheme == "" || u.Host == "" || !strings.HasSuffix(u.Path, "/") {
		errs = append(errs, fmt.Errorf("--slack-api-url %q is not an http(s) URL ending in /", o.SlackAPIURL))
	}
	return errors.Join(errs...)
}
