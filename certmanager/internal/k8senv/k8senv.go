// Package k8senv makes the Kubernetes test binaries known to cert-manager's
// test packages before they look for them. cert-manager's test/apiserver
// (imported by its conformance suite, test/acme) panics while the test
// binary initialises when TEST_ASSET_ETCD, TEST_ASSET_KUBE_APISERVER or
// TEST_ASSET_KUBECTL is unset and the binary is not on PATH. A test that
// imports this package for its side effect gets, instead, each unset
// variable pointed at bin/k8s/ of the repository (see kubetest), or a
// failure that says which binary is missing and how to build it.
//
// Its init runs before cert-manager's: package initialisation follows
// import paths in order once dependencies are done, and this package's
// path sorts before github.com/cert-manager/… while it imports only the
// standard library and kubetest.
package k8senv

import (
	"fmt"
	"os"

	"github.com/acme-dns-hook/acme-dns-hook/certmanager/internal/kubetest"
)

func init() {
	b, err := kubetest.LookupBinaries()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: the Kubernetes test binaries are missing: %v\n(set %s, %s and %s to them, as `make test` does)\n", err, kubetest.EnvEtcd, kubetest.EnvKubeAPIServer, kubetest.EnvKubectl)
		os.Exit(1)
	}
	for env, path := range map[string]string{kubetest.EnvEtcd: b.Etcd, kubetest.EnvKubeAPIServer: b.KubeAPIServer, kubetest.EnvKubectl: b.Kubectl} {
		if os.Getenv(env) == "" {
			os.Setenv(env, path)
		}
	}
}
