package main

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	examples "github.com/bowline-ci/bowline/config-examples"
)

// TestQuickstartSaysWhatIsNotImplemented keeps the quickstart's comments
// honest: a plugin bowline does not construct, and the merge and label
// sections while no role applies them, say "not implemented yet"; what
// bowline does implement does not.
func TestQuickstartSaysWhatIsNotImplemented(t *testing.T) {
	fsys, err := examples.FS("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	const marker = "not implemented yet"
	have := pluginNames()
	item := regexp.MustCompile(`^\s+- ([a-z0-9-]+)\s*(#.*)?$`)
	inList := false
	for _, line := range strings.Split(read("config/prow/plugins.yaml"), "\n") {
		if strings.TrimSpace(line) == "plugins:" && strings.HasPrefix(line, "    ") {
			inList = true
			continue
		}
		m := item.FindStringSubmatch(line)
		if !inList || m == nil {
			if inList && strings.TrimSpace(line) == "" {
				inList = false
			}
			continue
		}
		name, says := m[1], strings.Contains(m[2], marker)
		switch implemented := slices.Contains(have, name); {
		case implemented && says:
			t.Errorf("quickstart plugins.yaml says %s is %s, but bowline constructs it: drop %q from its comment", name, marker, "("+marker+")")
		case !implemented && !says:
			t.Errorf("quickstart plugins.yaml enables %s, which bowline does not construct: its comment must say %q", name, "("+marker+")")
		}
	}
	for _, tt := range []struct{ file, section, component string }{
		{"config/prow/config.yaml", "tide:", "merge"},
		{"config/labels.yaml", "default:", "orgs"},
	} {
		text := read(tt.file)
		before, _, ok := strings.Cut(text, "\n"+tt.section)
		if !ok {
			t.Errorf("%s has no %s section", tt.file, tt.section)
			continue
		}
		// The comment block just above the section.
		lines := strings.Split(before, "\n")
		var comment []string
		for i := len(lines) - 1; i >= 0 && strings.HasPrefix(lines[i], "#"); i-- {
			comment = append(comment, lines[i])
		}
		says := strings.Contains(strings.Join(comment, " "), marker)
		switch {
		case implemented(tt.component) && says:
			t.Errorf("%s says its %s section is %s, but the %s role exists: update the comment", tt.file, tt.section, marker, tt.component)
		case !implemented(tt.component) && !says:
			t.Errorf("%s: the comment above %s must say it is %s (no %s role)", tt.file, tt.section, marker, tt.component)
		}
	}
}
