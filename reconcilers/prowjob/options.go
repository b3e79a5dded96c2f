package prowjob

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"
)

// Options are the job controller's flags.
type Options struct {
	// Workers is how many runs are reconciled at once.
	Workers int
	// UtilityImage runs the pod utilities of decorated jobs whose
	// decoration config names no utility images: the bowline image.
	UtilityImage string
}

// AddFlags registers the flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.Workers, "prowjob-workers", 8, "ProwJobs reconciled at once")
	fs.StringVar(&o.UtilityImage, "utility-image", "", "image that runs the pod utilities (clonerefs, initupload, entrypoint, sidecar) of decorated jobs")
}

// Validate reports values that cannot work.
func (o *Options) Validate() error {
	var errs []error
	if o.Workers < 1 {
		errs = append(errs, fmt.Errorf("--prowjob-workers must be at least 1, not %d", o.Workers))
	}
	return errors.Join(errs...)
}
