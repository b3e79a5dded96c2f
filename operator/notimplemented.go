package main

import (
	"github.com/bowline-ci/bowline/reconcilers/configrepo"
)

// capabilities are what this bowline implements: the plugins it
// constructs and the components it has roles for; the deployment file is
// applied where --deploy-template says which Deployment is the operator's.
func (o *OperatorOptions) capabilities() configrepo.Capabilities {
	return configrepo.Capabilities{Plugins: pluginNames(), Implemented: func(c string) bool {
		if c == "deploy" {
			return o.DeployTemplate != ""
		}
		return implemented(c)
	}}
}
