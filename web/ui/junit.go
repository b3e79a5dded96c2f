package ui

import (
	"context"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/joshdk/go-junit"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

const (
	// JUnit files bigger than this are not read; nor more than
	// maxJUnitFiles of them.
	maxJUnitBytes = 16 << 20
	maxJUnitFiles = 50
	// maxFailures are listed at most; maxFailureOutput bytes of each
	// failure's output are shown.
	maxFailures      = 500
	maxFailureOutput = 16 << 10
)

// isJUnit reports whether a run's file holds JUnit results, as Prow's
// junit viewer finds them: artifacts/…/junit*.xml.
func isJUnit(name string) bool {
	base := path.Base(name)
	return strings.HasPrefix(name, "artifacts/") && strings.HasPrefix(base, "junit") && strings.HasSuffix(base, ".xml")
}

// junitView is the test results of a run.
type junitView struct {
	Files                          []string
	Tests, Passed, Failed, Skipped int
	Failures                       []junitFailure
	// More is how many failures are not listed.
	More int
	// Unreadable lists the files that could not be read or parsed.
	Unreadable []string
}

type junitFailure struct {
	Name, Class, Suite, File string
	Duration                 time.Duration
	Message, Output          string
}

// junitResults reads the JUnit files among a run's files; nil when there
// are none.
func (h *Handler) junitResults(ctx context.Context, pj *v1alpha1.ProwJob, objs []artifacts.Object) *junitView {
	var v junitView
	for _, o := range objs {
		if !isJUnit(o.Name) {
			continue
		}
		if len(v.Files) >= maxJUnitFiles || o.Size > maxJUnitBytes {
			v.Unreadable = append(v.Unreadable, o.Name)
			continue
		}
		v.Files = append(v.Files, o.Name)
		suites, err := h.readJUnit(ctx, pj, o.Name)
		if err != nil {
			v.Unreadable = append(v.Unreadable, o.Name)
			continue
		}
		for _, s := range suites {
			v.add(o.Name, s)
		}
	}
	if len(v.Files) == 0 && len(v.Unreadable) == 0 {
		return nil
	}
	if len(v.Failures) > maxFailures {
		v.More = len(v.Failures) - maxFailures
		v.Failures = v.Failures[:maxFailures]
	}
	return &v
}

func (h *Handler) readJUnit(ctx context.Context, pj *v1alpha1.ProwJob, name string) ([]junit.Suite, error) {
	rc, err := h.API.Artifacts.Open(ctx, pj, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return junit.IngestReader(io.LimitReader(rc, maxJUnitBytes))
}

func (v *junitView) add(file string, s junit.Suite) {
	for _, t := range s.Tests {
		v.Tests++
		switch t.Status {
		case junit.StatusPassed:
			v.Passed++
		case junit.StatusSkipped:
			v.Skipped++
		case junit.StatusFailed, junit.StatusError:
			v.Failed++
			f := junitFailure{Name: t.Name, Class: t.Classname, Suite: s.Name, File: file, Duration: t.Duration, Message: t.Message}
			var out []string
			if e, ok := t.Error.(junit.Error); ok {
				if f.Message == "" {
					f.Message = e.Message
				}
				out = append(out, e.Body)
			}
			out = append(out, t.SystemOut, t.SystemErr)
			f.Output = truncate(strings.TrimSpace(strings.Join(slices.DeleteFunc(out, func(s string) bool { return strings.TrimSpace(s) == "" }), "\n")), maxFailureOutput)
			if f.Message == "" {
				f.Message = firstLine(f.Output)
			}
			v.Failures = append(v.Failures, f)
		}
	}
	for _, sub := range s.Suites {
		v.add(file, sub)
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "\n… (cut: see the file for the rest)"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
