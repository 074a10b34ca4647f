//go:build tools

// Package tools pins the Kubernetes control-plane binaries the cert-manager
// webhook's tests run (kube-apiserver and kubectl) at the version in go.mod.
// Nothing here is compiled into the project; `make k8s` builds the commands
// into bin/k8s/.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
