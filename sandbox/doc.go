// Package sandbox holds bowline's stand-in for GitHub: a forge that speaks
// the subset of GitHub's REST API and webhooks that bowline uses, backed by
// real git repositories. Tests and `bowline up` without credentials run
// against it; see the forge and gitstore sub-packages.
package sandbox
