// Package clonerefs clones the repositories a run tests: for each refs, the
// base branch, then each pull request merged onto it in order, under the
// source root at src/<path_alias> or src/github.com/<org>/<repo>. Every git
// command and its output is recorded; the records are written as JSON (the
// clone-records.json a run uploads). As Prow's clonerefs, a failed clone is
// recorded rather than returned, so that initupload can report it and fail
// the run with the clone log uploaded.
package clonerefs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bowline-ci/bowline/podutils"
)

// OptionsEnv is the environment variable holding Options as JSON.
const OptionsEnv = "CLONEREFS_OPTIONS"

// Who authors merge commits when the options name nobody.
const (
	DefaultGitUserName  = "ci-robot"
	DefaultGitUserEmail = "ci-robot@bowline.dev"
)

// Options configures a clone. Its JSON is $CLONEREFS_OPTIONS.
type Options struct {
	// SrcRoot is the source root ($GOPATH); repositories go under src/.
	SrcRoot string `json:"src_root"`
	// Log is the file the clone records are written to, as JSON.
	Log string `json:"log"`
	// GitUserName and GitUserEmail author the merge commits.
	GitUserName  string `json:"git_user_name,omitempty"`
	GitUserEmail string `json:"git_user_email,omitempty"`
	// GitRefs are the repositories to clone.
	GitRefs []podutils.Refs `json:"refs"`
	// GitHubHost is the host of default clone URLs, optionally with a
	// scheme (http://host:port); default github.com over https.
	GitHubHost string `json:"github_host,omitempty"`
	// OAuthTokenFile holds a token for cloning over HTTPS. The token never
	// appears in the records.
	OAuthTokenFile string `json:"oauth_token_file,omitempty"`
	// KeyFiles are SSH private keys for cloning over SSH.
	KeyFiles []string `json:"key_files,omitempty"`
	// HostFingerprints are known_hosts lines for SSH; without them host
	// keys are not checked.
	HostFingerprints []string `json:"host_fingerprints,omitempty"`
	// CookiePath is a git cookie file.
	CookiePath string `json:"cookie_path,omitempty"`
	// MaxParallelWorkers clones this many repositories at once; default 1.
	MaxParallelWorkers int `json:"max_parallel_workers,omitempty"`
	// Fail makes Run return an error when a clone failed (Prow's clonerefs
	// records failures and succeeds; initupload then fails the run).
	Fail bool `json:"fail,omitempty"`
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	var errs []error
	if o.SrcRoot == "" {
		errs = append(errs, errors.New("src_root is required"))
	}
	if o.Log == "" {
		errs = append(errs, errors.New("log is required"))
	}
	for i, r := range o.GitRefs {
		if r.Org == "" || r.Repo == "" {
			errs = append(errs, fmt.Errorf("refs[%d]: org and repo are required", i))
		}
		if r.BaseRef == "" && r.BaseSHA == "" {
			errs = append(errs, fmt.Errorf("refs[%d] (%s/%s): base_ref or base_sha is required", i, r.Org, r.Repo))
		}
	}
	return errors.Join(errs...)
}

// Record is what happened while cloning one refs, in Prow's format.
type Record struct {
	Refs     podutils.Refs `json:"refs"`
	Commands []Command     `json:"commands,omitempty"`
	Failed   bool          `json:"failed"`
	FinalSHA string        `json:"final_sha,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
}

// Command is one git command, its combined output and its error.
type Command struct {
	Command string `json:"command"`
	Output  string `json:"output,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Failed reports whether any clone failed.
func Failed(records []Record) bool {
	for _, r := range records {
		if r.Failed {
			return true
		}
	}
	return false
}

// Run clones every refs and writes the records to o.Log. It returns the
// records; an error means the records could not be written, or (with
// o.Fail) that a clone failed.
func Run(ctx context.Context, o Options) ([]Record, error) {
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("clonerefs options: %w", err)
	}
	auth, err := newAuth(o)
	if err != nil {
		return nil, err
	}
	defer auth.cleanup()

	records := make([]Record, len(o.GitRefs))
	workers := max(o.MaxParallelWorkers, 1)
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for i, refs := range o.GitRefs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			records[i] = cloneRefs(ctx, o, auth, refs)
		}()
	}
	wg.Wait()

	if err := WriteRecords(o.Log, records); err != nil {
		return records, err
	}
	if o.Fail && Failed(records) {
		return records, errors.New("a repository could not be cloned; see the clone records")
	}
	return records, nil
}

// WriteRecords writes records as JSON to file.
func WriteRecords(file string, records []Record) error {
	if records == nil {
		records = []Record{}
	}
	b, err := json.MarshalIndent(records, "", "  ")
	if err != nil {
		return fmt.Errorf("encode clone records: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("write clone records: %w", err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return fmt.Errorf("write clone records: %w", err)
	}
	return nil
}

// ReadRecords reads the records Run wrote.
func ReadRecords(file string) ([]Record, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read clone records: %w", err)
	}
	var records []Record
	if err := json.Unmarshal(b, &records); err != nil {
		return nil, fmt.Errorf("parse clone records %s: %w", file, err)
	}
	return records, nil
}

// FormatLog renders records as the human-readable clone-log.txt.
func FormatLog(records []Record) string {
	var b strings.Builder
	for _, r := range records {
		fmt.Fprintf(&b, "# Cloning %s/%s at %s", r.Refs.Org, r.Refs.Repo, r.Refs.BaseRef)
		if r.Refs.BaseSHA != "" {
			fmt.Fprintf(&b, "(%s)", r.Refs.BaseSHA)
		}
		for _, p := range r.Refs.Pulls {
			fmt.Fprintf(&b, ", #%d", p.Number)
			if p.SHA != "" {
				fmt.Fprintf(&b, "(%s)", p.SHA)
			}
		}
		b.WriteString("\n")
		for _, c := range r.Commands {
			fmt.Fprintf(&b, "$ %s\n", c.Command)
			if c.Output != "" {
				b.WriteString(c.Output)
				if !strings.HasSuffix(c.Output, "\n") {
					b.WriteString("\n")
				}
			}
			if c.Error != "" {
				fmt.Fprintf(&b, "# Error: %s\n", c.Error)
			}
		}
		if r.Failed {
			b.WriteString("# FAILED\n")
		} else {
			fmt.Fprintf(&b, "# Final SHA: %s\n", r.FinalSHA)
		}
		fmt.Fprintf(&b, "# Total runtime: %s\n\n", r.Duration.Round(time.Millisecond))
	}
	return b.String()
}
