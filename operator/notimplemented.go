package main

import (
	"github.com/bowline-ci/bowline/reconcilers/configrepo"
)

// capabilities are what this bowline implements: the plugins it
// constructs and the components it has roles for.
func capabilities() configrepo.Capabilities {
	return configrepo.Capabilities{Plugins: pluginNames(), Implemented: implemented}
}
