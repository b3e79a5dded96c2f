package verifyowners

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/bowline-ci/bowline/automation/repoowners"
)

// check parses an OWNERS file and returns the users it names, or what is
// wrong with it.
func check(file string, data []byte, denied []string) ([]string, *problem) {
	f, err := repoowners.ParseFile(data)
	if err != nil {
		return nil, &problem{file: file, message: fmt.Sprintf("Cannot parse file: %v.", err), line: errorLine(err)}
	}
	patterns := make([]string, 0, len(f.Sections))
	for pattern := range f.Sections {
		patterns = append(patterns, pattern)
	}
	slices.Sort(patterns)
	var labels []string
	for _, pattern := range patterns {
		labels = append(labels, f.Sections[pattern].Labels...)
		if pattern == "" {
			continue
		}
		if _, err := regexp.Compile(pattern); err != nil {
			return nil, &problem{file: file, message: fmt.Sprintf("The filter %q is not a regular expression: %v.", pattern, err), line: 1}
		}
	}
	var banned []string
	for _, l := range labels {
		if slices.Contains(denied, l) && !slices.Contains(banned, l) {
			banned = append(banned, l)
		}
	}
	if len(banned) > 0 {
		slices.Sort(banned)
		return nil, &problem{file: file, message: fmt.Sprintf("File contains banned labels: %s.", strings.Join(banned, ", ")), line: 1}
	}
	var approvers, users []string
	for _, s := range f.Sections {
		approvers = append(approvers, s.Approvers...)
		users = append(users, s.Approvers...)
		users = append(users, s.Reviewers...)
		users = append(users, s.AdvisoryApprovers...)
		users = append(users, s.RequiredReviewers...)
	}
	if path.Dir(file) == "." && len(approvers) == 0 {
		return nil, &problem{file: file, message: fmt.Sprintf("No approvers defined in this root directory %s file.", path.Base(file)), line: 1}
	}
	return normalize(users), nil
}

var lineRE = regexp.MustCompile(`line (\d+)`)

// errorLine finds the line a YAML error names, or 1.
func errorLine(err error) int {
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && n > 0 {
			return n
		}
	}
	return 1
}

func normalize(logins []string) []string {
	var out []string
	for _, l := range logins {
		if n := repoowners.NormLogin(l); n != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// added lists what now has and before lacks.
func added(now, before []string) []string {
	return slices.DeleteFunc(slices.Clone(now), func(s string) bool { return slices.Contains(before, s) })
}

func allMembers(aliases map[string][]string) []string {
	var out []string
	for _, m := range aliases {
		out = append(out, m...)
	}
	return normalize(out)
}

func emptyAliases(aliases map[string][]string) []string {
	var out []string
	for a, m := range aliases {
		if len(m) == 0 {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

var hunkRE = regexp.MustCompile(`^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@`)

// addedLines lists the lines of the new file that a patch adds.
func addedLines(patch string) []int {
	var out []int
	line := 0
	for _, l := range strings.Split(patch, "\n") {
		if m := hunkRE.FindStringSubmatch(l); m != nil {
			line, _ = strconv.Atoi(m[1])
			continue
		}
		switch {
		case line == 0:
		case strings.HasPrefix(l, "+"):
			out = append(out, line)
			line++
		case strings.HasPrefix(l, "-"), strings.HasPrefix(l, `\`):
		default:
			line++
		}
	}
	return out
}

func untrustedComment(intro, joinURL, org string, users map[string]*untrusted) string {
	var b strings.Builder
	b.WriteString(intro)
	fmt.Fprintf(&b, " To trust them, make them [members](%s) of the %s org, then comment `/verify-owners`.\n", joinURL, org)
	logins := make([]string, 0, len(users))
	for l := range users {
		logins = append(logins, l)
	}
	slices.Sort(logins)
	for _, l := range logins {
		u := users[l]
		fmt.Fprintf(&b, "- %s\n  - %s\n", l, u.reason)
		for _, f := range u.files {
			fmt.Fprintf(&b, "  - %s\n", f)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}
