package decorate

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// secureDefaults gives a pod the restrictive settings a job pod has unless
// the job says otherwise: seccomp's RuntimeDefault profile for the pod, no
// privilege escalation in any container, and for the pod utilities also no
// capabilities. Every setting the job's spec makes wins, and a container
// the job runs privileged or with CAP_SYS_ADMIN (Docker in Docker, for one)
// keeps privilege escalation, which Kubernetes requires of such containers.
//
// Test containers are not forced to run as non-root: bowline cannot know
// whether an image works without root, and runAsNonRoot would make the
// kubelet refuse every image that runs as root, which most CI images do.
//
// The utilities run as the pod's user when the job sets one (Prow's
// run_as_user, or the pod's securityContext), and otherwise as root, as
// Prow's utility images do, although bowline's image defaults to an
// unprivileged user: clonerefs must leave the checkout owned by the user
// the test container most likely runs as (git refuses to work in a
// repository another user owns), and the sidecar must read what the test
// container wrote, including files only their owner may read.
// jobContainers names the containers that came from the job's spec.
func secureDefaults(spec *corev1.PodSpec, jobContainers map[string]bool) {
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	if spec.SecurityContext.SeccompProfile == nil {
		spec.SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	}
	podUser := spec.SecurityContext.RunAsUser
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			c := &list[i]
			if c.SecurityContext == nil {
				c.SecurityContext = &corev1.SecurityContext{}
			}
			sc := c.SecurityContext
			if sc.AllowPrivilegeEscalation == nil && mayForbidEscalation(sc) {
				sc.AllowPrivilegeEscalation = ptr.To(false)
			}
			if jobContainers[c.Name] {
				continue
			}
			if sc.Capabilities == nil {
				sc.Capabilities = &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}
			}
			switch {
			case sc.RunAsUser != nil:
			case podUser == nil:
				sc.RunAsUser = ptr.To[int64](0)
			case *podUser != 0 && sc.RunAsNonRoot == nil:
				sc.RunAsNonRoot = ptr.To(true)
			}
		}
	}
}

// mayForbidEscalation reports whether allowPrivilegeEscalation may be false
// for a container: the API server refuses it together with privileged or
// an added CAP_SYS_ADMIN.
func mayForbidEscalation(sc *corev1.SecurityContext) bool {
	if sc.Privileged != nil && *sc.Privileged {
		return false
	}
	return sc.Capabilities == nil || !slices.ContainsFunc(sc.Capabilities.Add, func(c corev1.Capability) bool {
		return c == "SYS_ADMIN" || c == "CAP_SYS_ADMIN"
	})
}

// containerNames lists the names of the given containers.
func containerNames(lists ...[]corev1.Container) map[string]bool {
	names := map[string]bool{}
	for _, l := range lists {
		for _, c := range l {
			names[c.Name] = true
		}
	}
	return names
}
