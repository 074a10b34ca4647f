//go:build tools

// Package tools pins helm, which the cert-manager webhook's chart tests run
// (helm lint, helm template), at the version in go.mod. Nothing here is
// compiled into the project; `make k8s` builds the command into bin/k8s/helm.
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
