package assetenv

import (
	"os"
	"testing"

	"github.com/acme-dns-hook/acme-dns-hook/certmanager/internal/kubetest"
)

// TestInitSetsAssets: after init, each variable names an existing binary.
func TestInitSetsAssets(t *testing.T) {
	for _, env := range []string{kubetest.EnvEtcd, kubetest.EnvKubeAPIServer, kubetest.EnvKubectl} {
		p := os.Getenv(env)
		if p == "" {
			t.Errorf("%s is not set after init", env)
			continue
		}
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s=%s: %v", env, p, err)
		}
	}
}
