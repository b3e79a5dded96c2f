//go:build !unix

package configrepo

import "time"

// processCPU is not measured here.
func processCPU() time.Duration { return 0 }
