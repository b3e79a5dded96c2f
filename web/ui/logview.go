package ui

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"regexp"
	"strconv"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

const (
	// maxLogPage is how much of a log a run's page shows: its end. The
	// raw log link has all of it.
	maxLogPage = 2 << 20
	// maxLogChunk is how much a streaming request returns at most.
	maxLogChunk = 256 << 10
	// Folding: logs longer than foldAbove lines fold runs of at least
	// foldMin lines that are neither near a highlighted line (foldContext)
	// nor among the first foldHead or last foldTail lines.
	foldAbove   = 200
	foldMin     = 30
	foldContext = 10
	foldHead    = 10
	foldTail    = 100
)

// highlighted lines are those that say something went wrong.
var highlighted = regexp.MustCompile(`(?i)\b(errors?|fail(s|ed|ure|ures)?|fatal|panic(ked)?|timed out|timeout)\b`)

// logView is the log part of a run's page.
type logView struct {
	// HTML is the rendered lines.
	HTML template.HTML
	// File is the file shown (build-log.txt, or clone-log.txt for a run
	// that has not started its test); empty when there is none yet.
	File string
	// Message says why there is no log.
	Message string
	// SkippedBytes and SkippedLines are the beginning left out.
	SkippedBytes int64
	SkippedLines int
	// Offset and NextLine are where streaming goes on.
	Offset   int64
	NextLine int
	Complete bool
	Lines    int
}

// openLog opens the run's log: build-log.txt once the test has written
// one, else clone-log.txt.
func (h *Handler) openLog(ctx context.Context, pj *v1alpha1.ProwJob) (io.ReadCloser, string, error) {
	if h.API.Artifacts == nil || pj.Status.BuildID == "" {
		return nil, "", artifacts.ErrNotFound
	}
	for _, name := range []string{podutils.BuildLogFile, podutils.CloneLogFile} {
		rc, err := h.API.Artifacts.Open(ctx, pj, name)
		if errors.Is(err, artifacts.ErrNotFound) {
			continue
		}
		return rc, name, err
	}
	return nil, "", artifacts.ErrNotFound
}

// pageLog renders the end of the run's log for its page; a complete log is
// folded.
func (h *Handler) pageLog(ctx context.Context, pj *v1alpha1.ProwJob) logView {
	v := logView{Complete: pj.Complete(), NextLine: 1}
	rc, name, err := h.openLog(ctx, pj)
	if err != nil {
		v.Message = noLog(pj)
		if !errors.Is(err, artifacts.ErrNotFound) {
			v.Message = "The log cannot be read right now."
		}
		return v
	}
	defer rc.Close()
	v.File = name
	data, skipped, skippedLines, err := readTail(rc, maxLogPage)
	if err != nil {
		v.Message = "The log cannot be read right now."
		return v
	}
	v.SkippedBytes, v.SkippedLines = skipped, skippedLines
	if !v.Complete {
		// Stream from the end of the last whole line.
		data = data[:bytes.LastIndexByte(data, '\n')+1]
	}
	var b bytes.Buffer
	n := renderLog(&b, data, skippedLines+1, v.Complete)
	v.HTML = template.HTML(b.String()) //nolint:gosec // escaped by renderLog
	v.Lines = n
	v.Offset = skipped + int64(len(data))
	v.NextLine = skippedLines + n + 1
	return v
}

// noLog says why a run has no log yet.
func noLog(pj *v1alpha1.ProwJob) string {
	st := runState(pj)
	if pj.Complete() {
		return fmt.Sprintf("The run ended (%s) without writing a log.", st)
	}
	return fmt.Sprintf("No log yet: the run is %s.", st)
}

// readTail reads r to the end and keeps its last max bytes or so, from the
// start of a line; it reports how many bytes and lines it left out.
func readTail(r io.Reader, max int) (data []byte, skipped int64, skippedLines int, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	buf := make([]byte, 0, 2*max)
	chunk := make([]byte, 64<<10)
	cut := func(keep int) {
		if len(buf) <= keep {
			return
		}
		at := len(buf) - keep
		if nl := bytes.IndexByte(buf[at:], '\n'); nl >= 0 {
			at += nl + 1
		}
		skippedLines += bytes.Count(buf[:at], []byte{'\n'})
		skipped += int64(at)
		buf = append(buf[:0], buf[at:]...)
	}
	for {
		n, rerr := br.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if len(buf) > 2*max-len(chunk) {
			cut(max)
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return nil, 0, 0, rerr
		}
	}
	cut(max)
	return buf, skipped, skippedLines, nil
}

// renderLog renders log lines, the first numbered first; a final line
// without a newline is rendered too. With fold, long runs of lines far
// from anything highlighted are folded. It returns the number of lines.
func renderLog(b *bytes.Buffer, data []byte, first int, fold bool) int {
	var lines [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			lines = append(lines, data)
			break
		}
		lines = append(lines, data[:i])
		data = data[i+1:]
	}
	lr := newLineRenderer()
	rendered := make([]bytes.Buffer, len(lines))
	hi := make([]bool, len(lines))
	for i, l := range lines {
		text := lr.render(&rendered[i], l)
		hi[i] = highlighted.MatchString(text)
	}
	var folds [][2]int
	if fold {
		folds = foldRanges(hi)
	}
	for i := range lines {
		if len(folds) > 0 && folds[0][0] == i {
			from, to := first+folds[0][0], first+folds[0][1]-1
			fmt.Fprintf(b, `<details class="fold"><summary>Show %s lines (%s–%s)</summary>`, fmtNum(to-from+1), fmtNum(from), fmtNum(to))
		}
		n := strconv.Itoa(first + i)
		b.WriteString(`<div class="l`)
		if hi[i] {
			b.WriteString(` hl`)
		}
		b.WriteString(`" id="L` + n + `"><a href="#L` + n + `">` + n + `</a><span>`)
		b.Write(rendered[i].Bytes())
		b.WriteString("</span></div>\n")
		if len(folds) > 0 && folds[0][1] == i+1 {
			b.WriteString("</details>\n")
			folds = folds[1:]
		}
	}
	return len(lines)
}

// foldRanges picks the [from, to) ranges of lines to fold.
func foldRanges(hi []bool) [][2]int {
	n := len(hi)
	if n <= foldAbove {
		return nil
	}
	keep := make([]bool, n)
	for i := range n {
		if i < foldHead || i >= n-foldTail {
			keep[i] = true
		}
		if hi[i] {
			for j := max(0, i-foldContext); j <= min(n-1, i+foldContext); j++ {
				keep[j] = true
			}
		}
	}
	var out [][2]int
	for i := 0; i < n; {
		if keep[i] {
			i++
			continue
		}
		j := i
		for j < n && !keep[j] {
			j++
		}
		if j-i >= foldMin {
			out = append(out, [2]int{i, j})
		}
		i = j
	}
	return out
}

// logChunk streams a running log: the lines from ?offset= on (numbered
// from ?line=), as HTML. X-Next-Offset and X-Next-Line say where to go on,
// X-Run-Complete whether anything more will come, X-Log-File which file is
// served: when it is not ?file= (the build log has replaced the clone log)
// it is served from its start and X-Log-Reset says so.
func (h *Handler) logChunk(w http.ResponseWriter, r *http.Request) {
	pj, ok := h.lookup(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	offset, err1 := strconv.ParseInt(q.Get("offset"), 10, 64)
	line, err2 := strconv.Atoi(q.Get("line"))
	if err1 != nil || err2 != nil || offset < 0 || line < 1 {
		http.Error(w, "offset and line must be numbers", http.StatusBadRequest)
		return
	}
	complete := pj.Complete()
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	rc, name, err := h.openLog(r.Context(), pj)
	if err != nil {
		if !errors.Is(err, artifacts.ErrNotFound) {
			http.Error(w, "the log cannot be read", http.StatusServiceUnavailable)
			return
		}
		hd.Set("X-Next-Offset", strconv.FormatInt(offset, 10))
		hd.Set("X-Next-Line", strconv.Itoa(line))
		hd.Set("X-Run-Complete", strconv.FormatBool(complete))
		return
	}
	defer rc.Close()
	if f := q.Get("file"); f != "" && f != name {
		offset, line = 0, 1
		hd.Set("X-Log-Reset", "true")
	}
	if _, err := io.CopyN(io.Discard, rc, offset); err != nil && !errors.Is(err, io.EOF) {
		http.Error(w, "the log cannot be read", http.StatusServiceUnavailable)
		return
	}
	data, err := io.ReadAll(io.LimitReader(rc, maxLogChunk+1))
	if err != nil {
		http.Error(w, "the log cannot be read", http.StatusServiceUnavailable)
		return
	}
	more := len(data) > maxLogChunk
	if more {
		data = data[:maxLogChunk]
	}
	if more || !complete {
		// Whole lines only, unless one line fills the chunk.
		if nl := bytes.LastIndexByte(data, '\n'); nl >= 0 {
			data = data[:nl+1]
		} else if !more {
			data = nil
		}
	}
	var b bytes.Buffer
	n := renderLog(&b, data, line, false)
	hd.Set("X-Log-File", name)
	hd.Set("X-Next-Offset", strconv.FormatInt(offset+int64(len(data)), 10))
	hd.Set("X-Next-Line", strconv.Itoa(line+n))
	hd.Set("X-Run-Complete", strconv.FormatBool(complete && !more))
	_, _ = w.Write(b.Bytes())
}
