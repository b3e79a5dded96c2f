// Package yamlpos decodes YAML strictly into Go values and reports every
// problem with the file, line and column where it occurs.
//
// Decoding follows the types' json tags, the way sigs.k8s.io/yaml does, so
// Kubernetes API types (a job's corev1.PodSpec) decode without YAML tags of
// their own. Unlike sigs.k8s.io/yaml it keeps positions, rejects unknown
// fields and wrong types, and goes on after an error so that one run reports
// all of them.
package yamlpos

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem found in one file.
type Error struct {
	// File is the path of the file as given to the loader.
	File string `json:"file"`
	// Line and Column are 1-based; 0 means the whole file.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Message says what is wrong.
	Message string `json:"message"`
	// Code names the kind of a warning ("duplicate-key", "not-supported",
	// …) so that tools can tell them apart; docs/check.md lists them.
	// Errors have none.
	Code string `json:"code,omitempty"`

	// at leads from Line and Column to the offending value; Resolve
	// follows it. Empty once resolved.
	at Path
}

// String formats the error as file:line:col: message, leaving out the
// position parts that are unknown.
func (e Error) String() string {
	switch {
	case e.File == "":
		return e.Message
	case e.Line == 0:
		return e.File + ": " + e.Message
	case e.Column == 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
}

// Error makes a single Error usable as an error.
func (e Error) Error() string { return e.String() }

// Errors is a list of problems, possibly across many files. Its Error method
// prints one per line, sorted by file, line and column.
type Errors struct {
	List []Error `json:"errors"`
	// Warnings are problems that do not make the input invalid, such as a
	// field name matching only case-insensitively (which Prow accepts).
	Warnings []Error `json:"warnings,omitempty"`
}

// Add appends a problem.
func (e *Errors) Add(file string, line, col int, format string, args ...any) {
	e.List = append(e.List, Error{File: file, Line: line, Column: col, Message: sprintf(format, args)})
}

// AddPos appends a problem at a position.
func (e *Errors) AddPos(p Pos, format string, args ...any) {
	e.Add(p.File, p.Line, p.Column, format, args...)
}

// AddAt appends a problem with the value that path leads to from the
// mapping at p. Resolve moves it to that value's exact position.
func (e *Errors) AddAt(p Pos, path Path, format string, args ...any) {
	e.List = append(e.List, Error{File: p.File, Line: p.Line, Column: p.Column, Message: sprintf(format, args), at: path})
}

// Warn appends a warning of a kind (code).
func (e *Errors) Warn(file string, line, col int, code, format string, args ...any) {
	e.Warnings = append(e.Warnings, Error{File: file, Line: line, Column: col, Code: code, Message: sprintf(format, args)})
}

// WarnAt appends a warning about the value path leads to from p.
func (e *Errors) WarnAt(p Pos, path Path, code, format string, args ...any) {
	e.Warnings = append(e.Warnings, Error{File: p.File, Line: p.Line, Column: p.Column, Code: code, Message: sprintf(format, args), at: path})
}

// Strict turns every warning into an error, for those who want Prow's
// accepted-but-suspicious input refused.
func (e *Errors) Strict() {
	for _, w := range e.Warnings {
		w.Message += " (refused in strict mode)"
		e.List = append(e.List, w)
	}
	e.Warnings = nil
}

func sprintf(format string, args []any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// Append adds all problems and warnings of other.
func (e *Errors) Append(other *Errors) {
	if other != nil {
		e.List = append(e.List, other.List...)
		e.Warnings = append(e.Warnings, other.Warnings...)
	}
}

// Len is the number of problems.
func (e *Errors) Len() int {
	if e == nil {
		return 0
	}
	return len(e.List)
}

// Sort orders the problems by file, line, column and message and drops exact
// duplicates (one mistake reached through two YAML aliases, for example).
func (e *Errors) Sort() {
	e.List = sortErrors(e.List)
	e.Warnings = sortErrors(e.Warnings)
}

func sortErrors(list []Error) []Error {
	slices.SortFunc(list, func(a, b Error) int {
		return cmp.Or(
			strings.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
			strings.Compare(a.Message, b.Message),
		)
	})
	return slices.Compact(list)
}

// Err returns nil when there are no problems, otherwise e itself, sorted.
func (e *Errors) Err() error {
	if e.Len() == 0 {
		return nil
	}
	e.Sort()
	return e
}

// Error prints one problem per line.
func (e *Errors) Error() string {
	var b strings.Builder
	for i, x := range e.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(x.String())
	}
	return b.String()
}

// First returns at most n problems, for places with little room such as a
// condition message.
func (e *Errors) First(n int) []Error {
	if e == nil {
		return nil
	}
	if n < 0 || n >= len(e.List) {
		return e.List
	}
	return e.List[:n]
}

// Summary prints at most n problems, one per line, and says how many more
// there are.
func (e *Errors) Summary(n int) string {
	first := e.First(n)
	var b strings.Builder
	for i, x := range first {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(x.String())
	}
	if rest := e.Len() - len(first); rest > 0 {
		fmt.Fprintf(&b, "\n… and %d more", rest)
	}
	return b.String()
}

// Pos is where a value starts in its file. A struct field of type Pos with
// the json tag "-" is filled in by the decoder with the position of the
// mapping the struct was decoded from, so later checks can point at it.
type Pos struct {
	File   string `json:"-"`
	Line   int    `json:"-"`
	Column int    `json:"-"`
}

// IsZero reports whether the position is unknown.
func (p Pos) IsZero() bool { return p.File == "" && p.Line == 0 }

// String formats the position as file:line:col.
func (p Pos) String() string {
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}
