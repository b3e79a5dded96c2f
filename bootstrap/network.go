package bootstrap

import (
	"net"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bowline-ci/bowline/schema/v1alpha1"
)

// privateRanges are the address ranges that hold a cluster's pods,
// Services, nodes and API server (and a cloud's metadata service) on every
// common platform: job pods reach none of them unless they opt in.
var privateRanges = []string{
	"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", // RFC 1918
	"100.64.0.0/10",  // carrier-grade NAT, used for pods by some platforms
	"169.254.0.0/16", // link-local: cloud metadata services
	"127.0.0.0/8",
}

var privateRanges6 = []string{"fc00::/7", "fe80::/10", "::1/128"}

// networkPolicies keep job pods away from the cluster unless a job opts
// in with NetworkAccessLabel: they may reach DNS and the internet, but no
// private address (the API server, the operator, other pods, Services, a
// cloud's metadata service) and no address of the API server's, and
// nothing may connect to them. A second policy lets the operator's
// metrics and probe ports be reached from outside the pod namespace only;
// its webhook and API ports stay open, as GitHub and users reach them.
//
// NetworkPolicies take effect only where the cluster's network plugin
// enforces them.
func networkPolicies(s Settings) []client.Object {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	dns := intstr.FromInt32(53)
	v4 := &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: privateRanges}
	v6 := &networkingv1.IPBlock{CIDR: "::/0", Except: privateRanges6}
	for _, c := range s.APIServerCIDRs {
		ip, _, err := net.ParseCIDR(c)
		switch {
		case err != nil || covered(ip, privateRanges) || covered(ip, privateRanges6):
		case ip.To4() != nil:
			v4.Except = append(v4.Except, c)
		default:
			v6.Except = append(v6.Except, c)
		}
	}
	jobs := &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: meta("bowline-job-pods", s.PodNamespace),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{
				MatchLabels:      map[string]string{v1alpha1.CreatedByLabel: "true"},
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: NetworkAccessLabel, Operator: metav1.LabelSelectorOpDoesNotExist}},
			},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{
				{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}}},
				{To: []networkingv1.NetworkPolicyPeer{{IPBlock: v4}, {IPBlock: v6}}},
			},
		},
	}
	metrics, probes := intstr.FromString("metrics"), intstr.FromString("probes")
	hook, web := intstr.FromString("hook"), intstr.FromString("web")
	operator := &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: meta(Name, s.Namespace),
		Spec: networkingv1.NetworkPolicySpec{
			// Every bowline pod: the operator's, and those of the roles
			// the config repository's deployment file runs apart.
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "bowline"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{
				{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &hook}, {Protocol: &tcp, Port: &web}}},
				{
					Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &metrics}, {Protocol: &tcp, Port: &probes}},
					From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
						{Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpNotIn, Values: []string{s.PodNamespace}},
					}}}},
				},
			},
		},
	}
	if s.PodNamespace == s.Namespace {
		// Sharing the namespace, the operator cannot tell job pods apart
		// by namespace: its metrics are open to the namespace, and the
		// job pods' own policy keeps them off private addresses.
		operator.Spec.Ingress[1].From = nil
	}
	return []client.Object{jobs, operator}
}

// covered reports whether ip lies in one of cidrs.
func covered(ip net.IP, cidrs []string) bool {
	for _, c := range cidrs {
		if _, n, err := net.ParseCIDR(c); err == nil && n.Contains(ip) {
			return true
		}
	}
	return false
}
