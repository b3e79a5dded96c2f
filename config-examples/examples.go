// Package examples embeds bowline's example config repositories, so that
// `bowline up` can start from one wherever the binary runs:
//
//   - quickstart: one repository, the common plugins, a presubmit, a
//     postsubmit and a periodic; `bowline up` uses it, with the sandbox
//     forge's seed and the demo repository's files under sandbox/.
//   - full: every configuration area bowline reads, commented.
//
// Each is a config repository in Prow's layout: config/prow/config.yaml,
// config/prow/plugins.yaml, config/jobs/, config/orgs/ and config/labels.yaml.
package examples

import (
	"embed"
	"io/fs"
)

//go:embed all:quickstart all:full
var files embed.FS

// Names lists the examples.
var Names = []string{"quickstart", "full"}

// FS returns one example's files, rooted at the example's directory.
func FS(name string) (fs.FS, error) { return fs.Sub(files, name) }
