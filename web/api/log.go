package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// jobOutputHeaders are set on everything a job wrote (its log, its
// artifacts): the browser must not guess a type from the content, and the
// page is sandboxed, so that no script a job wrote runs in the UI's origin.
func jobOutputHeaders(w http.ResponseWriter) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "sandbox")
}

// HeaderLogFile names the file a log response holds.
const HeaderLogFile = "X-Log-File"

// log serves the run's log from ?offset= on: build-log.txt once the test
// has written one, otherwise clone-log.txt (a run that failed while
// cloning, a merge conflict for one, has only that), otherwise a line
// saying where the run stands. So the link on a GitHub status always leads
// to whatever log exists. X-Log-File names the file served and
// X-Run-Complete says whether more may come.
func (h *Handler) log(w http.ResponseWriter, r *http.Request) {
	pj, ok := h.prowJob(w, r)
	if !ok {
		return
	}
	var offset int64
	if o := r.URL.Query().Get("offset"); o != "" {
		n, err := strconv.ParseInt(o, 10, 64)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("offset must be a byte count, not %q", o))
			return
		}
		offset = n
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Run-Complete", strconv.FormatBool(pj.Complete()))
	jobOutputHeaders(w)
	for _, name := range []string{podutils.BuildLogFile, podutils.CloneLogFile} {
		rc, err := h.openFile(r, pj, name)
		if errors.Is(err, artifacts.ErrNotFound) {
			continue
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, "cannot read "+name)
			return
		}
		defer rc.Close()
		if _, err := io.CopyN(io.Discard, rc, offset); err != nil && !errors.Is(err, io.EOF) {
			writeError(w, http.StatusInternalServerError, "cannot read the log")
			return
		}
		w.Header().Set(HeaderLogFile, name)
		_, _ = io.Copy(w, rc)
		return
	}
	if offset == 0 {
		_, _ = io.WriteString(w, noLog(pj))
	}
}

// noLog says why a run has no log yet.
func noLog(pj *v1alpha1.ProwJob) string {
	st := state(pj)
	msg := fmt.Sprintf("No log yet: the run is %s.", st)
	if pj.Complete() {
		msg = fmt.Sprintf("The run ended (%s) without writing a log.", st)
	}
	if d := pj.Status.Description; d != "" {
		msg += " " + d
	}
	return msg + "\n"
}

// openFile opens one of a run's files; a run without files (no build ID
// yet, no artifact store) has none.
func (h *Handler) openFile(r *http.Request, pj *v1alpha1.ProwJob, name string) (io.ReadCloser, error) {
	if h.Artifacts == nil || pj.Status.BuildID == "" {
		return nil, fmt.Errorf("%s: %w", name, artifacts.ErrNotFound)
	}
	return h.Artifacts.Open(r.Context(), pj, name)
}
