package gc

import (
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// Reasons, as sinker's metrics name them.
const (
	reasonAged         = "aged"
	reasonAgedPeriodic = "aged-periodic"
	reasonTTLed        = "ttled"
	reasonOrphaned     = "orphaned"
)

type key struct{ namespace, name string }

// runInfo is what the pod rules need to know of a run.
type runInfo struct {
	complete   bool
	completion time.Time
	// deleted is set when this collection deletes the run.
	deleted bool
}

type deletion struct {
	namespace, name, reason string
}

// plan is what one collection deletes among ProwJobs, and what it knows
// of every run for the pod rules.
type plan struct {
	delete []deletion
	runs   map[key]runInfo
}

// planProwJobs applies the ProwJob rules. It is pure.
func planProwJobs(pjs []v1alpha1.ProwJob, cfg Config, now time.Time) plan {
	p := plan{runs: make(map[key]runInfo, len(pjs))}
	// The newest run of each periodic still in the configuration is kept.
	newest := map[key]*v1alpha1.ProwJob{}
	for i := range pjs {
		pj := &pjs[i]
		if pj.Spec.Type != v1alpha1.PeriodicJob || !slices.Contains(cfg.Periodics, pj.Spec.Job) {
			continue
		}
		k := key{pj.Namespace, pj.Spec.Job}
		if n := newest[k]; n == nil || started(pj).After(started(n)) {
			newest[k] = pj
		}
	}
	for i := range pjs {
		pj := &pjs[i]
		info := runInfo{complete: pj.Complete()}
		if info.complete {
			info.completion = pj.Status.CompletionTime.Time
			kept := newest[key{pj.Namespace, pj.Spec.Job}] == pj
			if !kept && now.Sub(started(pj)) > cfg.MaxProwJobAge {
				reason := reasonAged
				if pj.Spec.Type == v1alpha1.PeriodicJob {
					reason = reasonAgedPeriodic
				}
				p.delete = append(p.delete, deletion{pj.Namespace, pj.Name, reason})
				info.deleted = true
			}
		}
		p.runs[key{pj.Namespace, pj.Name}] = info
	}
	return p
}

// started is when a run started: status.startTime, or its creation.
func started(pj *v1alpha1.ProwJob) time.Time {
	if pj.Status.StartTime != nil {
		return pj.Status.StartTime.Time
	}
	return pj.CreationTimestamp.Time
}

// podReason says why a pod is deleted, "" to keep it. known is false when
// the pod's run does not exist (or is being deleted now).
func podReason(pod *corev1.Pod, run runInfo, known bool, cfg Config, now time.Time) string {
	if !known {
		return reasonOrphaned
	}
	if !run.complete {
		return ""
	}
	if st := pod.Status.StartTime; st != nil && now.Sub(st.Time) > cfg.MaxPodAge {
		return reasonAged
	}
	if now.Sub(run.completion) > cfg.TerminatedPodTTL {
		return reasonTTLed
	}
	return ""
}
