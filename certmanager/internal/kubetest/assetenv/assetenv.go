// Package assetenv, imported for its side effect, points TEST_ASSET_ETCD,
// TEST_ASSET_KUBE_APISERVER and TEST_ASSET_KUBECTL at the binaries of
// `make k8s` (bin/k8s/) when they are unset, before any package that reads
// them at init. cert-manager's test/apiserver (under test/acme) reads them
// in its init and panics when it cannot find them; import this package in
// the same test file:
//
//	import (
//		_ "github.com/acme-dns-hook/acme-dns-hook/certmanager/internal/kubetest/assetenv"
//		acmetest "github.com/cert-manager/cert-manager/test/acme"
//	)
//
// Go initialises packages in import-path order among those whose imports
// are initialised (the language specification, since Go 1.21); this
// package's path sorts before github.com/cert-manager/... and it imports
// only the standard library and kubetest, so its init runs first.
//
// When a binary is missing the test binary exits with status 1 and the
// message "kube-apiserver not found: run `make k8s` ..." (there is no test
// yet to fail, and a panic inside cert-manager would say less).
package assetenv

import (
	"fmt"
	"os"

	"github.com/acme-dns-hook/acme-dns-hook/certmanager/internal/kubetest"
)

func init() {
	b, err := kubetest.LookupBinaries()
	if err != nil {
		fmt.Fprintln(os.Stderr, "assetenv:", err)
		os.Exit(1)
	}
	for env, path := range map[string]string{
		kubetest.EnvEtcd:          b.Etcd,
		kubetest.EnvKubeAPIServer: b.KubeAPIServer,
		kubetest.EnvKubectl:       b.Kubectl,
	} {
		if os.Getenv(env) == "" {
			os.Setenv(env, path)
		}
	}
}
