package configrepo

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/configset"
)

// Capabilities say what this bowline implements, taken from the program
// itself (the plugins it constructs, the roles it can run), so that
// configuration asking for more is reported by name instead of silently
// doing nothing.
type Capabilities struct {
	// Plugins are the names of the plugins bowline constructs.
	Plugins []string
	// Implemented reports whether bowline has a role for a component:
	// "orgs" applies org, team and label settings, "deploy" bowline's own
	// deployment settings. Nil means none of them is implemented.
	Implemented func(component string) bool
}

// NotImplemented is what a configuration asks of bowline that it does not
// do yet.
type NotImplemented struct {
	// Plugins are enabled plugins bowline does not implement, sorted.
	Plugins []string
	// Enabled is how many distinct plugins the configuration enables.
	Enabled int
	// Orgs and Labels count org (peribolos) and label (label_sync)
	// settings that no role applies; zero when one does.
	Orgs, Labels int
	// DeployFiles counts files under paths.deploy when no role applies
	// them.
	DeployFiles int
}

// Missing returns what set asks for that c does not implement; deployFiles
// is the number of files under the revision's deploy path.
func (c Capabilities) Missing(set *configset.Set, deployFiles int) NotImplemented {
	var n NotImplemented
	if set == nil {
		return n
	}
	if set.Plugins != nil {
		names := set.Plugins.PluginNames()
		n.Enabled = len(names)
		for _, p := range names {
			if !slices.Contains(c.Plugins, p) {
				n.Plugins = append(n.Plugins, p)
			}
		}
	}
	if !c.implemented("orgs") {
		s := set.Summary()
		n.Orgs, n.Labels = s.Orgs, s.Labels
	}
	if !c.implemented("deploy") {
		n.DeployFiles = deployFiles
	}
	return n
}

func (c Capabilities) implemented(component string) bool {
	return c.Implemented != nil && c.Implemented(component)
}

// PluginsMessage says which enabled plugins bowline does not implement.
func (n NotImplemented) PluginsMessage() string {
	return fmt.Sprintf("%d of the %d plugins enabled %s: %s",
		len(n.Plugins), n.Enabled, plural(len(n.Plugins), "is not implemented yet and does nothing", "are not implemented yet and do nothing"), strings.Join(n.Plugins, ", "))
}

// OrgsMessage says that org administration is not applied.
func (n NotImplemented) OrgsMessage() string {
	var what []string
	if n.Orgs > 0 {
		what = append(what, fmt.Sprintf("%d %s (peribolos)", n.Orgs, plural(n.Orgs, "org", "orgs")))
	}
	if n.Labels > 0 {
		what = append(what, fmt.Sprintf("%d %s (label_sync)", n.Labels, plural(n.Labels, "label", "labels")))
	}
	return "Org administration is not implemented yet: the settings of " + strings.Join(what, " and ") + " are validated but not applied to GitHub"
}

// DeployMessage says that bowline's own deployment settings are not
// applied by this operator: only one started with --deploy-template (as
// bowline bootstrap installs it) applies them.
func (n NotImplemented) DeployMessage(dir string) string {
	return fmt.Sprintf("This operator does not apply bowline's own deployment (it runs without --deploy-template, as bowline up does; bowline bootstrap's operator applies it): the %d %s under %s %s not applied",
		n.DeployFiles, plural(n.DeployFiles, "file", "files"), dir, plural(n.DeployFiles, "is", "are"))
}
