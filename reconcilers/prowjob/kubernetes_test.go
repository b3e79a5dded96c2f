package prowjob

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/configset"
	"github.com/bowline-ci/bowline/schema/jobspec"
	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// kubernetesRuns loads Kubernetes' own Prow configuration (test/testdata,
// see its PROVENANCE.md) and makes one run of every job, as the trigger and
// periodic roles would.
func kubernetesRuns(t *testing.T, ns string) (*configset.Set, []*v1alpha1.ProwJob) {
	t.Helper()
	set, err := configset.LoadDir(context.Background(), "../../test/testdata", configset.Options{
		ConfigPath: "kubernetes-prow/config.yaml", JobConfigPath: "kubernetes-prow/jobs",
	})
	if err != nil {
		t.Fatal(err)
	}
	var runs []*v1alpha1.ProwJob
	add := func(spec v1alpha1.ProwJobSpec, labels, annotations map[string]string) {
		pj := jobspec.NewRun(ns, fmt.Sprintf("run-%d", len(runs)), spec, labels, annotations, metav1.Now().Time)
		pj.UID = "00000000-0000-0000-0000-000000000000"
		runs = append(runs, pj)
	}
	for repo, list := range set.Jobs.Presubmits {
		org, name, _ := stringsCut(repo)
		for i := range list {
			ps := &list[i]
			add(jobspec.Presubmit(ps, v1alpha1.Refs{Org: org, Repo: name, BaseRef: "master", BaseSHA: "0123456789abcdef0123456789abcdef01234567",
				Pulls: []v1alpha1.Pull{{Number: 12345, Author: "contributor", SHA: "89abcdef0123456789abcdef0123456789abcdef"}}}), ps.Labels, ps.Annotations)
		}
	}
	for repo, list := range set.Jobs.Postsubmits {
		org, name, _ := stringsCut(repo)
		for i := range list {
			ps := &list[i]
			add(jobspec.Postsubmit(ps, v1alpha1.Refs{Org: org, Repo: name, BaseRef: "release-1.37", BaseSHA: "0123456789abcdef0123456789abcdef01234567"}), ps.Labels, ps.Annotations)
		}
	}
	for i := range set.Jobs.Periodics {
		p := &set.Jobs.Periodics[i]
		add(jobspec.Periodic(p), p.Labels, p.Annotations)
	}
	return set, runs
}

func stringsCut(repo string) (org, name string, ok bool) {
	for i := range len(repo) {
		if repo[i] == '/' {
			return repo[:i], repo[i+1:], true
		}
	}
	return repo, "", false
}

// TestKubernetesJobPodsAreAccepted builds the pod of every one of
// Kubernetes' 3,849 jobs, as the jobs controller does (decoration with
// plank's default_decoration_configs, Prow's labels, the single container
// named test as Prow names it), and creates each with a server-side dry run
// against the real API server: every pod must be accepted.
func TestKubernetesJobPodsAreAccepted(t *testing.T) {
	ns := env.Namespace(t)
	set, runs := kubernetesRuns(t, ns)
	if len(runs) != 3849 {
		t.Fatalf("made %d runs of Kubernetes' jobs, want 3849", len(runs))
	}
	r := &Reconciler{BuildPod: DecoratedPods(PodOptionsFrom(func() *configset.Set { return set }, "registry.example/bowline:test"))}
	pods := make([]*corev1.Pod, len(runs))
	var accounts []string
	for i, pj := range runs {
		pj.Spec.Namespace = ns // Kubernetes' jobs run in test-pods
		pod, err := r.runPod(context.Background(), pj, pj.Name, "1730000000000000001")
		if err != nil {
			t.Fatalf("job %s: %v", pj.Spec.Job, err)
		}
		// A real API server's ServiceAccount admission plugin gives a pod
		// without a service account the namespace's default one; envtest
		// runs without that plugin, so the test does what it would.
		if pod.Spec.ServiceAccountName == "" {
			pod.Spec.ServiceAccountName = "default"
		}
		pods[i] = pod
		if sa := pod.Spec.ServiceAccountName; !slices.Contains(accounts, sa) {
			accounts = append(accounts, sa)
		}
	}
	// The service accounts the jobs name exist in a real build cluster.
	for _, sa := range accounts {
		if err := env.Client.Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa}}); err != nil {
			t.Fatal(err)
		}
	}

	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = -1, 0 // no client-side throttling
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	work := make(chan int)
	var mu sync.Mutex
	var rejected []string
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				err := c.Create(context.Background(), pods[i], client.DryRunAll)
				if err != nil {
					mu.Lock()
					if apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err) {
						rejected = append(rejected, fmt.Sprintf("%s: %v", runs[i].Spec.Job, err))
					} else {
						t.Errorf("%s: %v", runs[i].Spec.Job, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range pods {
		work <- i
	}
	close(work)
	wg.Wait()
	slices.Sort(rejected)
	for i, msg := range rejected {
		if i == 20 {
			t.Errorf("… and %d more", len(rejected)-20)
			break
		}
		t.Error(msg)
	}
	if len(rejected) > 0 {
		t.Errorf("the API server refused %d of %d pods", len(rejected), len(pods))
	}
}
