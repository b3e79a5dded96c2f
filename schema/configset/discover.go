package configset

import (
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/bowline-ci/bowline/schema/deploy"
)

// Suffixes of files in supplemental config directories.
const (
	SupplementalProwConfigSuffix   = "_prowconfig.yaml"
	SupplementalPluginConfigSuffix = "_pluginconfig.yaml"
	// ProwIgnoreFileName lists job config files to leave out, with
	// .gitignore patterns relative to its directory.
	ProwIgnoreFileName = ".prowignore"
)

func isYAML(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// walk lists the regular files under root (or root itself if it is a file),
// sorted. skipDir may prune directories.
func (l *loader) walk(root string, skipDir func(p string) bool) ([]string, bool) {
	info, err := fs.Stat(l.fsys, root)
	if err != nil {
		l.fileError(root, err)
		return nil, false
	}
	if !info.IsDir() {
		return []string{root}, true
	}
	var out []string
	err = fs.WalkDir(l.fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			l.fileError(p, err)
			return nil
		}
		// Kubernetes mounts ConfigMaps with "..data"-style directories and
		// links for atomic updates; the files appear once outside them.
		if p != root && strings.HasPrefix(d.Name(), "..") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != root && skipDir != nil && skipDir(p) {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0 {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		l.fileError(root, err)
	}
	slices.Sort(out)
	return out, true
}

func (l *loader) fileError(p string, err error) {
	var pe *fs.PathError
	msg := err.Error()
	if errors.As(err, &pe) {
		msg = pe.Op + ": " + pe.Err.Error()
	}
	l.errs.Add(l.display(p), 0, 0, "%s", msg)
}

// jobFiles lists the job config files under root: YAML files not excluded
// by a .prowignore. Base names must be unique, as Prow requires.
func (l *loader) jobFiles(root string) []string {
	all, ok := l.walk(root, nil)
	if !ok {
		return nil
	}
	if len(all) == 1 && all[0] == root {
		return all
	}
	var rules []ignoreRule
	for _, p := range all {
		if path.Base(p) == ProwIgnoreFileName {
			data, err := fs.ReadFile(l.fsys, p)
			if err != nil {
				l.fileError(p, err)
				continue
			}
			l.files = append(l.files, p)
			rules = append(rules, parseIgnore(path.Dir(p), string(data))...)
		}
	}
	// Shallow directories first, so that deeper files' rules win.
	slices.SortStableFunc(rules, func(a, b ignoreRule) int {
		return strings.Count(a.dir, "/") - strings.Count(b.dir, "/")
	})
	var out []string
	seen := map[string]string{}
	for _, p := range all {
		if !isYAML(p) || ignored(rules, p) {
			continue
		}
		base := path.Base(p)
		if prev, dup := seen[base]; dup {
			l.errs.Add(l.display(p), 0, 0, "job config file name %s is also used by %s; names must be unique", base, l.display(prev))
			continue
		}
		seen[base] = p
		out = append(out, p)
	}
	return out
}

// ProwIgnoreFilter returns the YAML files among paths (slash-separated,
// relative to one root) that no .prowignore among paths leaves out, in
// order; read gives a .prowignore's content. The rules are those of job
// config directories, and of Prow's in-repo config.
func ProwIgnoreFilter(paths []string, read func(p string) []byte) []string {
	var rules []ignoreRule
	for _, p := range paths {
		if path.Base(p) == ProwIgnoreFileName {
			rules = append(rules, parseIgnore(path.Dir(p), string(read(p)))...)
		}
	}
	slices.SortStableFunc(rules, func(a, b ignoreRule) int {
		return strings.Count(a.dir, "/") - strings.Count(b.dir, "/")
	})
	var out []string
	for _, p := range paths {
		if isYAML(p) && !ignored(rules, p) {
			out = append(out, p)
		}
	}
	return out
}

// ignoreRule is one line of a .prowignore.
type ignoreRule struct {
	dir      string
	pattern  string
	negate   bool
	dirOnly  bool
	anchored bool
}

func parseIgnore(dir, text string) []ignoreRule {
	var out []ignoreRule
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, " \t\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{dir: dir}
		if strings.HasPrefix(line, "!") {
			r.negate, line = true, line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.dirOnly, line = true, strings.TrimSuffix(line, "/")
		}
		if strings.Contains(line, "/") {
			r.anchored, line = true, strings.TrimPrefix(line, "/")
		}
		r.pattern = line
		out = append(out, r)
	}
	return out
}

// ignored applies the rules in order; the last one matching decides.
func ignored(rules []ignoreRule, p string) bool {
	out := false
	for _, r := range rules {
		prefix := r.dir + "/"
		if r.dir == "." {
			prefix = ""
		}
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		if r.matches(strings.TrimPrefix(p, prefix)) {
			out = !r.negate
		}
	}
	return out
}

// matches reports whether the rule matches a path relative to its
// directory, or one of the path's parent directories.
func (r ignoreRule) matches(rel string) bool {
	parts := strings.Split(rel, "/")
	for i := range parts {
		isDir := i < len(parts)-1
		if r.dirOnly && !isDir {
			continue
		}
		var target string
		if r.anchored {
			target = strings.Join(parts[:i+1], "/")
		} else {
			target = parts[i]
		}
		if ok, _ := path.Match(r.pattern, target); ok {
			return true
		}
		if r.anchored && strings.Contains(r.pattern, "**") && globstar(r.pattern, target) {
			return true
		}
	}
	return false
}

// globstar matches patterns with ** (any number of directories).
func globstar(pattern, target string) bool {
	pp, tp := strings.Split(pattern, "/"), strings.Split(target, "/")
	var match func(i, j int) bool
	match = func(i, j int) bool {
		if i == len(pp) {
			return j == len(tp)
		}
		if pp[i] == "**" {
			for k := j; k <= len(tp); k++ {
				if match(i+1, k) {
					return true
				}
			}
			return false
		}
		if j == len(tp) {
			return false
		}
		ok, _ := path.Match(pp[i], tp[j])
		return ok && match(i+1, j+1)
	}
	return match(0, 0)
}

// suffixFiles lists the files under root whose names end in suffix.
func (l *loader) suffixFiles(root, suffix string) []string {
	all, _ := l.walk(root, nil)
	var out []string
	for _, p := range all {
		if strings.HasSuffix(p, suffix) {
			out = append(out, p)
		}
	}
	return out
}

// ownersSkipped are directories never searched for OWNERS files, as in
// Prow's preconfigured denylist.
var ownersSkipped = []string{".git", "_output", "vendor"}

func (l *loader) ownersFiles(root string) []string {
	all, _ := l.walk(root, func(p string) bool { return slices.Contains(ownersSkipped, path.Base(p)) })
	var out []string
	for _, p := range all {
		if b := path.Base(p); b == "OWNERS" || b == "OWNERS_ALIASES" {
			out = append(out, p)
		}
	}
	return out
}

// deployFile finds bowline's deployment file: root itself when it is a
// file, otherwise deploy.FileName (or deploy.FileNameAlt) in it. Any other
// YAML file in the directory is an error, so that a misnamed file is not
// taken for settings in effect; other files (a README) are left alone.
func (l *loader) deployFile(root string) string {
	all, ok := l.walk(root, nil)
	if !ok {
		return ""
	}
	if len(all) == 1 && all[0] == root {
		return root
	}
	var found string
	for _, p := range all {
		switch {
		case !isYAML(p):
		case path.Dir(p) == root && (path.Base(p) == deploy.FileName || path.Base(p) == deploy.FileNameAlt):
			if found != "" {
				l.errs.Add(l.display(p), 0, 0, "%s is also given as %s: keep one", path.Base(p), l.display(found))
				continue
			}
			found = p
		default:
			l.errs.Add(l.display(p), 0, 0, "only %s/%s is read here: bowline's deployment is one file (docs/deploy.md); rename this one or move it out of %s", l.display(root), deploy.FileName, l.display(root))
		}
	}
	return found
}

// orgFiles lists peribolos files: a file given directly, or the org.yaml
// and teams.yaml files of a directory tree.
func (l *loader) orgFiles(root string) []string {
	all, ok := l.walk(root, nil)
	if !ok {
		return nil
	}
	if len(all) == 1 && all[0] == root {
		return all
	}
	var out []string
	for _, p := range all {
		if b := path.Base(p); b == "org.yaml" || b == "teams.yaml" {
			out = append(out, p)
		}
	}
	return out
}
