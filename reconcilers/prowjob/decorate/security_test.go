package decorate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

func TestSingleContainerIsNamedTest(t *testing.T) {
	tests := []struct {
		name  string
		names []string
		want  []string
	}{
		{"an unnamed container is named test, as Prow names it", []string{""}, []string{"test"}},
		{"a single container is named test whatever its name, as in Prow", []string{"build"}, []string{"test"}},
		{"several containers keep their names, as in Prow", []string{"build", "db"}, []string{"build", "db"}},
	}
	for _, decorated := range []bool{true, false} {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				pj := prowJob(func(pj *v1alpha1.ProwJob) {
					if !decorated {
						pj.Spec.DecorationConfig = nil
					}
					var cs []corev1.Container
					for _, n := range tt.names {
						cs = append(cs, corev1.Container{Name: n, Image: "golang:1.26", Command: []string{"make"}})
					}
					pj.Spec.PodSpec.Containers = cs
				})
				pod, err := Pod(pj, defaults())
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, c := range pod.Spec.Containers {
					if c.Name != sidecarName {
						got = append(got, c.Name)
					}
				}
				if d := cmp.Diff(tt.want, got); d != "" {
					t.Errorf("decorated=%t: container names (-want +got):\n%s", decorated, d)
				}
			})
		}
	}
}

func TestServiceAccountToken(t *testing.T) {
	tests := []struct {
		name string
		spec func(*corev1.PodSpec)
		dc   *v1alpha1.DecorationConfig
		want *bool
	}{
		{name: "no service account: no token, as in Prow", want: ptr.To(false)},
		{name: "the job names a service account: Kubernetes' default (a token), as in Prow",
			spec: func(s *corev1.PodSpec) { s.ServiceAccountName = "builder" }},
		{name: "the job asks for the token", spec: func(s *corev1.PodSpec) { s.AutomountServiceAccountToken = ptr.To(true) }, want: ptr.To(true)},
		{name: "a default service account from the decoration config gets no token, as in Prow",
			dc: &v1alpha1.DecorationConfig{DefaultServiceAccountName: "prowjob-default-sa"}, want: ptr.To(false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pj := prowJob(func(pj *v1alpha1.ProwJob) {
				if tt.spec != nil {
					tt.spec(pj.Spec.PodSpec)
				}
				if tt.dc != nil {
					pj.Spec.DecorationConfig = tt.dc
				}
			})
			pod, err := Pod(pj, defaults())
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, pod.Spec.AutomountServiceAccountToken); d != "" {
				t.Errorf("automountServiceAccountToken (-want +got):\n%s", d)
			}
		})
	}
}

func TestSecureDefaults(t *testing.T) {
	runtimeDefault := &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	// Prow's utility images run as root: so do bowline's utilities unless
	// the pod names a user, so that the checkout belongs to a root test
	// container and the sidecar reads everything the test wrote.
	utility := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		RunAsUser:                ptr.To[int64](0),
	}
	utilityAsPodUser := &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		RunAsNonRoot:             ptr.To(true),
	}
	tests := []struct {
		name        string
		spec        func(*corev1.PodSpec)
		dc          func(*v1alpha1.DecorationConfig)
		wantPod     *corev1.PodSecurityContext
		wantTest    *corev1.SecurityContext
		wantUtility *corev1.SecurityContext
	}{{
		name:        "defaults: RuntimeDefault seccomp, no escalation; utilities also without capabilities, as root like Prow's",
		wantPod:     &corev1.PodSecurityContext{SeccompProfile: runtimeDefault},
		wantTest:    &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)},
		wantUtility: utility,
	}, {
		name: "a privileged container (Docker in Docker) keeps escalation, which Kubernetes requires",
		spec: func(s *corev1.PodSpec) {
			s.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
		},
		wantPod:     &corev1.PodSecurityContext{SeccompProfile: runtimeDefault},
		wantTest:    &corev1.SecurityContext{Privileged: ptr.To(true)},
		wantUtility: utility,
	}, {
		name: "CAP_SYS_ADMIN keeps escalation, which Kubernetes requires",
		spec: func(s *corev1.PodSpec) {
			s.Containers[0].SecurityContext = &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}}
		},
		wantPod:     &corev1.PodSecurityContext{SeccompProfile: runtimeDefault},
		wantTest:    &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}},
		wantUtility: utility,
	}, {
		name: "the job's own settings win",
		spec: func(s *corev1.PodSpec) {
			s.SecurityContext = &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}}
			s.Containers[0].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(true)}
		},
		wantPod:     &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}},
		wantTest:    &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(true)},
		wantUtility: utility,
	}, {
		name:     "run_as_user: 0 from the decoration config: the utilities are not forced to non-root",
		dc:       func(d *v1alpha1.DecorationConfig) { d.RunAsUser = ptr.To[int64](0) },
		wantPod:  &corev1.PodSecurityContext{SeccompProfile: runtimeDefault, RunAsUser: ptr.To[int64](0)},
		wantTest: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)},
		wantUtility: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}, {
		name:        "run_as_user from the decoration config, as in Prow",
		dc:          func(d *v1alpha1.DecorationConfig) { d.RunAsUser, d.FSGroup = ptr.To[int64](1000), ptr.To[int64](2000) },
		wantPod:     &corev1.PodSecurityContext{SeccompProfile: runtimeDefault, RunAsUser: ptr.To[int64](1000), FSGroup: ptr.To[int64](2000)},
		wantTest:    &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)},
		wantUtility: utilityAsPodUser,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pj := prowJob(func(pj *v1alpha1.ProwJob) {
				if tt.spec != nil {
					tt.spec(pj.Spec.PodSpec)
				}
				if tt.dc != nil {
					tt.dc(pj.Spec.DecorationConfig)
				}
			})
			pod, err := Pod(pj, defaults())
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.wantPod, pod.Spec.SecurityContext); d != "" {
				t.Errorf("pod securityContext (-want +got):\n%s", d)
			}
			for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
				want := tt.wantUtility
				if c.Name == TestContainerName {
					want = tt.wantTest
				}
				if d := cmp.Diff(want, c.SecurityContext); d != "" {
					t.Errorf("container %s securityContext (-want +got):\n%s", c.Name, d)
				}
			}
		})
	}
}
