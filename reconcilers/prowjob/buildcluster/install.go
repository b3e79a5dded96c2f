package buildcluster

import (
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// In the cluster install, each build cluster is a Secret in the operator's
// namespace holding a kubeconfig with one context named after the
// cluster's alias; the operator's Deployment mounts them all in MountDir
// and reads them with --kubeconfig-dir, Prow's way.
const (
	// SecretPrefix starts the name of a build cluster's Secret.
	SecretPrefix = "bowline-build-cluster-"
	// SecretKey is the Secret's key that holds the kubeconfig.
	SecretKey = "kubeconfig"
	// MountDir is the operator's --kubeconfig-dir in the cluster install.
	MountDir = "/etc/bowline/build-clusters"
	// volumeName is the operator's volume of the Secrets.
	volumeName = "build-clusters"
)

// ClusterKubeconfig reads context (the current one when empty) of the
// kubeconfig file path and returns a kubeconfig with that context alone,
// renamed alias, its certificates and keys embedded: what a build cluster's
// Secret holds.
func ClusterKubeconfig(alias, path, context string) ([]byte, error) {
	if msgs := validation.IsDNS1123Label(alias); len(msgs) > 0 {
		return nil, fmt.Errorf("build cluster alias %q: %v (it names a Secret)", alias, msgs)
	}
	cfg, err := (&clientcmd.ClientConfigLoadingRules{ExplicitPath: path}).Load()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig %s: %w", path, err)
	}
	if context == "" {
		context = cfg.CurrentContext
	}
	ctx, ok := cfg.Contexts[context]
	if !ok {
		return nil, fmt.Errorf("kubeconfig %s has no context %q", path, context)
	}
	cluster, ok1 := cfg.Clusters[ctx.Cluster]
	user, ok2 := cfg.AuthInfos[ctx.AuthInfo]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("kubeconfig %s: context %q names a cluster or user it does not define", path, context)
	}
	out := clientcmdapi.NewConfig()
	out.Clusters[alias] = cluster.DeepCopy()
	out.AuthInfos[alias] = user.DeepCopy()
	c := ctx.DeepCopy()
	c.Cluster, c.AuthInfo = alias, alias
	out.Contexts[alias] = c
	out.CurrentContext = alias
	if err := clientcmdapi.FlattenConfig(out); err != nil {
		return nil, fmt.Errorf("kubeconfig %s: embed its files: %w", path, err)
	}
	return clientcmd.Write(*out)
}

// Secrets are the build cluster Secrets of the cluster install, in
// namespace, by alias.
func Secrets(namespace string, kubeconfigs map[string][]byte, labels map[string]string) []*corev1.Secret {
	var out []*corev1.Secret
	for _, alias := range slices.Sorted(maps.Keys(kubeconfigs)) {
		out = append(out, &corev1.Secret{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
			ObjectMeta: metav1.ObjectMeta{Name: SecretPrefix + alias, Namespace: namespace, Labels: labels},
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{SecretKey: kubeconfigs[alias]},
		})
	}
	return out
}

// Mount adds the build cluster Secrets of aliases to the operator's pod:
// one projected volume with a file per cluster (<alias>.kubeconfig) in
// MountDir, mounted in container, and --kubeconfig-dir pointing there.
// With no alias it changes nothing.
func Mount(spec *corev1.PodSpec, container int, aliases []string) {
	if len(aliases) == 0 {
		return
	}
	var sources []corev1.VolumeProjection
	for _, alias := range slices.Sorted(slices.Values(aliases)) {
		sources = append(sources, corev1.VolumeProjection{Secret: &corev1.SecretProjection{
			LocalObjectReference: corev1.LocalObjectReference{Name: SecretPrefix + alias},
			Items:                []corev1.KeyToPath{{Key: SecretKey, Path: alias + ".kubeconfig"}},
		}})
	}
	mode := int32(0o400)
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: volumeName, VolumeSource: corev1.VolumeSource{
		Projected: &corev1.ProjectedVolumeSource{Sources: sources, DefaultMode: &mode},
	}})
	c := &spec.Containers[container]
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: volumeName, MountPath: MountDir, ReadOnly: true})
	c.Args = append(c.Args, "--kubeconfig-dir="+MountDir)
}
