package artifacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/bowline-ci/bowline/podutils"
)

// DefaultPollInterval is how often Tail looks for more log when none is
// given.
const DefaultPollInterval = 2 * time.Second

// Tail copies a run's build-log.txt to w as it grows, starting at offset,
// and returns once the run has finished (its finished.json exists) and the
// whole log has been copied, or when ctx ends. It returns the offset
// reached, so that a reader that went away can resume.
//
// The uploader rewrites build-log.txt as the run goes on and writes it one
// last time before finished.json, so the log is complete once finished.json
// is there. Until the first upload the log does not exist; Tail waits.
func (s *Store) Tail(ctx context.Context, runPath string, offset int64, w io.Writer, poll time.Duration) (int64, error) {
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	logKey := Key(runPath, podutils.BuildLogFile)
	finishedKey := Key(runPath, podutils.FinishedFile)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return offset, ctx.Err()
		case <-timer.C:
		}
		// Look for finished.json before reading, so that a finished run's
		// last read sees the final log.
		finished, err := s.Exists(ctx, finishedKey)
		if err != nil {
			return offset, err
		}
		chunk, err := s.ReadFrom(ctx, logKey, offset)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return offset, err
		case len(chunk) > 0:
			n, err := w.Write(chunk)
			offset += int64(n)
			if err != nil {
				return offset, fmt.Errorf("copy log: %w", err)
			}
		}
		if finished {
			return offset, nil
		}
		timer.Reset(poll)
	}
}
