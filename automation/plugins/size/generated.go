package size

import (
	"bufio"
	"bytes"
	"context"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitattributes"

	"github.com/bowline-ci/bowline/automation/plugins/pluginbase"
)

// Files that say which files are generated, at the repository's root.
const (
	GeneratedFiles = ".generated_files"
	GitAttributes  = ".gitattributes"
)

// Generated tells generated files apart.
type Generated struct {
	paths, fileNames, pathPrefixes, filePrefixes map[string]bool
	attrs                                        gitattributes.Matcher
	// Invalid lists the lines of .generated_files that could not be read;
	// they are skipped.
	Invalid []string
}

func newGenerated() *Generated {
	return &Generated{paths: map[string]bool{}, fileNames: map[string]bool{}, pathPrefixes: map[string]bool{}, filePrefixes: map[string]bool{}}
}

// LoadGenerated reads .generated_files (and the files its paths-from-repo
// lines name) and .gitattributes at ref.
func LoadGenerated(ctx context.Context, env *pluginbase.Env, ref string) (*Generated, error) {
	g := newGenerated()
	data, found, err := env.File(ctx, GeneratedFiles, ref)
	if err != nil {
		return nil, err
	}
	if found {
		for _, from := range g.parse(data) {
			list, ok, err := env.File(ctx, from, ref)
			if err != nil {
				return nil, err
			}
			if ok {
				g.parsePaths(list)
			}
		}
		if len(g.Invalid) > 0 {
			env.Log.Info("Skipped invalid lines of .generated_files", "lines", g.Invalid)
		}
	}
	attrs, found, err := env.File(ctx, GitAttributes, ref)
	if err != nil {
		return nil, err
	}
	if found {
		g.parseAttributes(attrs)
	}
	return g, nil
}

// parse reads .generated_files: "<key> <value>" statements, one a line,
// "#" comments. It returns the files named by paths-from-repo.
func (g *Generated) parse(data []byte) (from []string) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			g.Invalid = append(g.Invalid, line)
			continue
		}
		switch f[0] {
		case "prefix", "path-prefix":
			g.pathPrefixes[f[1]] = true
		case "file-prefix":
			g.filePrefixes[f[1]] = true
		case "file-name":
			g.fileNames[f[1]] = true
		case "path":
			g.paths[f[1]] = true
		case "paths-from-repo":
			from = append(from, f[1])
		default:
			g.Invalid = append(g.Invalid, line)
		}
	}
	return from
}

// parsePaths reads a file of paths, one a line, "#" comments.
func (g *Generated) parsePaths(data []byte) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && line[0] != '#' {
			g.paths[line] = true
		}
	}
}

func (g *Generated) parseAttributes(data []byte) {
	attrs, err := gitattributes.ReadAttributes(bytes.NewReader(data), nil, true)
	if err != nil {
		// Lines git would reject are skipped by git too; keep what could
		// be read up to there.
		return
	}
	g.attrs = gitattributes.NewMatcher(attrs)
}

// Match reports whether a file (its path from the repository's root) is
// generated.
func (g *Generated) Match(file string) bool {
	if g.paths[file] {
		return true
	}
	for p := range g.pathPrefixes {
		if strings.HasPrefix(file, p) {
			return true
		}
	}
	base := path.Base(file)
	if g.fileNames[base] {
		return true
	}
	for p := range g.filePrefixes {
		if strings.HasPrefix(base, p) {
			return true
		}
	}
	if g.attrs != nil {
		res, _ := g.attrs.Match(strings.Split(file, "/"), []string{"linguist-generated"})
		if a, ok := res["linguist-generated"]; ok {
			return a.IsSet() || (a.IsValueSet() && a.Value() == "true")
		}
	}
	return false
}
