//go:build tools

// Package tools pins the etcd server the cert-manager webhook's tests run
// under kube-apiserver, at the version in go.mod. Nothing here is compiled
// into the project; `make k8s` builds the command into bin/k8s/etcd.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
)
