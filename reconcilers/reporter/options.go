package reporter

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"
)

// Options are the reporter's flags.
type Options struct {
	// Workers is how many runs are reported at once.
	Workers int
	// BotLogin is the GitHub login whose comments are summary comments;
	// empty looks it up from the token.
	BotLogin string
}

// AddFlags registers the flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.Workers, "github-workers", 5, "ProwJobs reported to GitHub at once")
	fs.StringVar(&o.BotLogin, "github-bot-login", "", "GitHub login of the bot whose comments are job summaries; empty looks it up")
}

// Validate reports values that cannot work.
func (o *Options) Validate() error {
	var errs []error
	if o.Workers < 1 {
		errs = append(errs, fmt.Errorf("--github-workers must be at least 1, not %d", o.Workers))
	}
	return errors.Join(errs...)
}
