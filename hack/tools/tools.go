//go:build tools

// Package tools pins the versions of the programs bowline's Makefile builds
// from source: the control plane used by tests and `bowline up`, the code
// generator and the linter.
package tools

import (
	_ "honnef.co/go/tools/cmd/staticcheck"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
