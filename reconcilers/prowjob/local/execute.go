package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/bowline-ci/bowline/artifacts"
	"github.com/bowline-ci/bowline/podutils"
	"github.com/bowline-ci/bowline/podutils/clonerefs"
	"github.com/bowline-ci/bowline/podutils/entrypoint"
	"github.com/bowline-ci/bowline/podutils/initupload"
	"github.com/bowline-ci/bowline/podutils/sidecar"
	"github.com/bowline-ci/bowline/reconcilers/prowjob/decorate"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// plan is everything a run needs, worked out before it starts so that a
// job that cannot run fails Start instead of failing later.
type plan struct {
	spec        podutils.JobSpec
	workspace   string
	storage     artifacts.Config
	runPath     string
	clone       *clonerefs.Options
	entrypoints []entrypoint.Options
	sidecar     sidecar.Options
}

func (r *Runner) plan(pj *v1alpha1.ProwJob) (*plan, error) {
	if pj.Status.BuildID == "" {
		return nil, fmt.Errorf("prowjob %s has no build ID yet", pj.Name)
	}
	if pj.Spec.PodSpec == nil || len(pj.Spec.PodSpec.Containers) == 0 {
		return nil, fmt.Errorf("prowjob %s has no containers to run", pj.Name)
	}
	p := &plan{
		spec:      podutils.JobSpecFor(pj, pj.Status.BuildID),
		workspace: filepath.Join(r.opts.Root, pj.Name),
		storage:   artifacts.ConfigFor(pj, r.opts.Bucket),
	}
	if err := p.storage.Validate(); err != nil {
		return nil, err
	}
	var err error
	if p.runPath, err = p.storage.RunPath(p.spec); err != nil {
		return nil, err
	}
	dc := pj.Spec.DecorationConfig
	if dc == nil {
		dc = &v1alpha1.DecorationConfig{}
	}
	logs := filepath.Join(p.workspace, "logs")
	artifactsDir := filepath.Join(logs, "artifacts")
	cloning := len(p.spec.AllRefs()) > 0 && (dc.SkipCloning == nil || !*dc.SkipCloning)
	if cloning {
		p.clone = &clonerefs.Options{
			SrcRoot:        filepath.Join(p.workspace, "go"),
			Log:            filepath.Join(logs, "clone.json"),
			GitRefs:        p.spec.AllRefs(),
			GitHubHost:     r.opts.GitHubHost,
			OAuthTokenFile: r.opts.OAuthTokenFile,
		}
	}
	jobEnv, err := podutils.Environment(p.spec, artifactsDir)
	if err != nil {
		return nil, err
	}
	dir := workDir(p.workspace, p.spec, cloning)
	containers := pj.Spec.PodSpec.Containers
	for _, c := range containers {
		args := append(append([]string{}, c.Command...), c.Args...)
		if len(c.Command) == 0 {
			return nil, fmt.Errorf("container %q: the local agent needs an explicit command", c.Name)
		}
		if err := lookCommand(c.Name, args[0]); err != nil {
			return nil, err
		}
		env, vars, err := r.environment(c.Name, c.Env, jobEnv, p.workspace)
		if err != nil {
			return nil, err
		}
		// $(VAR) in the command and arguments, as the kubelet expands them.
		for i := range args {
			args[i] = expand(args[i], vars)
		}
		cdir := logs
		name := ""
		if len(containers) > 1 {
			cdir = filepath.Join(logs, c.Name)
			name = c.Name
		}
		eo := entrypoint.Options{
			Args:          args,
			ContainerName: name,
			ProcessLog:    filepath.Join(cdir, "process-log.txt"),
			MarkerFile:    filepath.Join(cdir, "marker-file.txt"),
			MetadataFile:  filepath.Join(artifactsDir, "metadata.json"),
			Timeout:       podutils.Duration{Duration: durationOr(dc.Timeout, decorate.DefaultTimeout)},
			GracePeriod:   podutils.Duration{Duration: durationOr(dc.GracePeriod, decorate.DefaultGracePeriod)},
			ArtifactDir:   artifactsDir,
			Dir:           dir,
			Env:           env,
		}
		p.entrypoints = append(p.entrypoints, eo)
		p.sidecar.Entries = append(p.sidecar.Entries, sidecar.Entry{
			ContainerName: name, ProcessLog: eo.ProcessLog, MarkerFile: eo.MarkerFile, MetadataFile: eo.MetadataFile,
		})
	}
	p.sidecar.Storage = p.storage
	p.sidecar.SecretDirs = append([]string{}, r.opts.SecretFiles...)
	if r.opts.OAuthTokenFile != "" {
		p.sidecar.SecretDirs = append(p.sidecar.SecretDirs, r.opts.OAuthTokenFile)
	}
	p.sidecar.Secrets = r.opts.Secrets
	p.sidecar.LogsDir = logs
	p.sidecar.ArtifactDir = artifactsDir
	// The sidecar stops waiting for the markers once every command has
	// returned (see execute): a job that removed its own logs directory
	// cannot keep its run from ending.
	p.sidecar.GracePeriod = podutils.Duration{Duration: r.opts.LogUploadInterval}
	p.sidecar.LogUploadInterval = podutils.Duration{Duration: r.opts.LogUploadInterval}
	p.sidecar.MarkerPollInterval = podutils.Duration{Duration: r.opts.LogUploadInterval / 4}
	return p, nil
}

// contain puts every command of the run into c: started in its
// container's cgroup, marked in its environment, and what it leaves swept
// once it has ended.
func (p *plan) contain(c *containment) {
	for i := range p.entrypoints {
		p.entrypoints[i].Env = append(p.entrypoints[i].Env, c.env(i))
		p.entrypoints[i].Prepare = c.prepare(i)
		p.entrypoints[i].Sweep = c.killContainer(i)
	}
}

// environment is a process's environment: the host's basics, the runner's
// extra variables, the container's own, then the job contract, which wins.
func (r *Runner) environment(container string, own []corev1.EnvVar, job []podutils.EnvVar, workspace string) ([]string, map[string]string, error) {
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, k := range hostEnv {
		if v, ok := os.LookupEnv(k); ok {
			set(k, v)
		}
	}
	// A home and a temporary directory of the run's own: not the
	// operator's, where its credentials and configuration are.
	set("HOME", filepath.Join(workspace, "home"))
	set("TMPDIR", filepath.Join(workspace, "tmp"))
	set("GOPATH", filepath.Join(workspace, "go"))
	for _, kv := range r.opts.Env {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
	for _, e := range own {
		if e.ValueFrom != nil {
			return nil, nil, fmt.Errorf("container %q: env %s comes from a Secret, ConfigMap or field, which the local agent cannot resolve", container, e.Name)
		}
		set(e.Name, expand(e.Value, vars))
	}
	for _, e := range job {
		set(e.Name, e.Value)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vars[k])
	}
	return out, vars, nil
}

// varRef is a kubelet variable reference, $(NAME).
var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

// expand replaces $(NAME) references to known variables, as the kubelet
// does; unknown references stay as written, and $$(NAME) is an escaped,
// literal $(NAME).
func expand(v string, vars map[string]string) string {
	if !strings.Contains(v, "$(") {
		return v
	}
	var b strings.Builder
	last := 0
	for _, m := range varRef.FindAllStringSubmatchIndex(v, -1) {
		start, end := m[0], m[1]
		if start > 0 && v[start-1] == '$' {
			// Escaped: drop one $ and keep the reference.
			b.WriteString(v[last : start-1])
			b.WriteString(v[start:end])
			last = end
			continue
		}
		b.WriteString(v[last:start])
		if val, ok := vars[v[m[2]:m[3]]]; ok {
			b.WriteString(val)
		} else {
			b.WriteString(v[start:end])
		}
		last = end
	}
	b.WriteString(v[last:])
	return b.String()
}

// execute carries out a planned run.
func (r *Runner) execute(ctx context.Context, run *Run, p *plan, store *artifacts.Store) Result {
	// Uploads go on after an abort: the run's files matter most then.
	upCtx := context.WithoutCancel(ctx)
	cloneLog := ""
	if p.clone != nil {
		cloneLog = p.clone.Log
		if _, err := clonerefs.Run(ctx, *p.clone); err != nil {
			return Result{State: v1alpha1.ErrorState, Description: "Could not clone: " + err.Error()}
		}
	}
	err := initupload.Upload(upCtx, store, initupload.Options{Storage: p.storage, Log: cloneLog}, p.spec, time.Now())
	switch {
	case ctx.Err() != nil:
		// Aborted while cloning: a failed clone is the abort's doing.
		return r.abortedBeforeStart(upCtx, p, store)
	case errors.Is(err, initupload.ErrCloneFailed):
		return Result{State: v1alpha1.FailureState, Description: "Job failed: the repositories could not be cloned (see clone-log.txt)."}
	case err != nil:
		return Result{State: v1alpha1.ErrorState, Description: "Could not upload started.json: " + err.Error()}
	}
	run.setPhase(PhaseRunning)
	r.notify(run)

	type sidecarOut struct {
		res sidecar.Result
		err error
	}
	// The sidecar holds the logs directory open before any command starts,
	// so that nothing a command does to its path changes what is uploaded.
	for _, d := range []string{p.sidecar.LogsDir, filepath.Join(p.workspace, "home"), filepath.Join(p.workspace, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return Result{State: v1alpha1.ErrorState, Description: "Could not create the run's directories: " + err.Error()}
		}
	}
	side, err := sidecar.New(store, p.sidecar, p.spec)
	if err != nil {
		return Result{State: v1alpha1.ErrorState, Description: "Could not start uploading: " + err.Error()}
	}
	defer side.Close()
	sc := make(chan sidecarOut, 1)
	// An abort reaches the commands, which end and write their markers;
	// the sidecar's wait ends only once they have all returned.
	scCtx, commandsDone := context.WithCancel(upCtx)
	defer commandsDone()
	go func() {
		res, err := side.Finish(scCtx)
		sc <- sidecarOut{res, err}
	}()
	results := make([]entrypoint.Result, len(p.entrypoints))
	var wg sync.WaitGroup
	for i, eo := range p.entrypoints {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := entrypoint.Run(ctx, eo)
			if err != nil {
				// The marker could not be written; write it here so that the
				// sidecar does not wait for it forever.
				res.ExitCode = podutils.InternalErrorCode
				_ = entrypoint.WriteMarker(eo.MarkerFile, res.ExitCode)
			}
			results[i] = res
		}()
	}
	wg.Wait()
	commandsDone()
	run.setPhase(PhaseUploading)
	out := <-sc
	res := outcome(results)
	if out.err != nil {
		res.Description += " Some files could not be uploaded: " + out.err.Error()
	}
	return res
}

// outcome turns how the commands ended into the run's result, with Prow's
// descriptions. The commands' own results decide (the runner has them in
// hand); the markers the sidecar read only go into finished.json.
func outcome(results []entrypoint.Result) Result {
	var res Result
	aborted := false
	for _, r := range results {
		res.TimedOut = res.TimedOut || r.TimedOut
		aborted = aborted || r.Aborted
		if r.ExitCode != 0 && res.ExitCode == 0 {
			res.ExitCode = r.ExitCode
		}
	}
	switch {
	case aborted:
		res.State, res.Description = v1alpha1.AbortedState, "Job aborted."
	case res.TimedOut:
		res.State, res.Description = v1alpha1.FailureState, "Job timed out."
	case res.ExitCode == 0:
		res.State, res.Description = v1alpha1.SuccessState, "Job succeeded."
	default:
		res.State, res.Description = v1alpha1.FailureState, "Job failed."
	}
	for _, r := range results {
		if r.StartErr != nil {
			res.State, res.Description = v1alpha1.ErrorState, "Could not start the job: "+r.StartErr.Error()
		}
	}
	return res
}

// abortedBeforeStart finishes a run aborted while it was cloning.
func (r *Runner) abortedBeforeStart(ctx context.Context, p *plan, store *artifacts.Store) Result {
	fin := podutils.NewFinished(p.spec, time.Now(), podutils.ResultAborted, nil)
	if raw, err := json.MarshalIndent(fin, "", "  "); err == nil {
		_ = store.WriteFile(ctx, artifacts.Key(p.runPath, podutils.FinishedFile), raw)
	}
	return Result{State: v1alpha1.AbortedState, Description: "Job aborted."}
}

func durationOr(d *metav1.Duration, fallback time.Duration) time.Duration {
	if d != nil && d.Duration > 0 {
		return d.Duration
	}
	return fallback
}
