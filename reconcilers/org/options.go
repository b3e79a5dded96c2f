package org

import (
	"fmt"

	"github.com/spf13/pflag"
)

// Options are the orgs role's flags. What the role may do to an org is not
// among them: that is each GitHubOrganization's spec.
type Options struct {
	// Workers bounds the orgs synced at once.
	Workers int
}

// AddFlags registers the flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.Workers, "orgs-workers", 2, "GitHub orgs synced at once at most; each sync sends its writes one at a time")
}

// Validate reports values that cannot work.
func (o *Options) Validate() error {
	if o.Workers < 1 {
		return fmt.Errorf("--orgs-workers must be at least 1, not %d", o.Workers)
	}
	return nil
}
