package kubetest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rootModule is the module path of the repository's root go.mod; the
// directory holding it is where bin/k8s/ is looked for.
const rootModule = "github.com/acme-dns-hook/acme-dns-hook"

// The environment variables that name the binaries. The first three are those
// cert-manager's own test suite (test/apiserver, via controller-runtime's
// envtest) reads, so one setting serves both.
const (
	EnvEtcd          = "TEST_ASSET_ETCD"
	EnvKubeAPIServer = "TEST_ASSET_KUBE_APISERVER"
	EnvKubectl       = "TEST_ASSET_KUBECTL"
	EnvHelm          = "HELM"
)

// Binaries holds the absolute paths of the Kubernetes test binaries.
type Binaries struct {
	Etcd          string
	KubeAPIServer string
	Kubectl       string
}

// FindBinaries returns etcd, kube-apiserver and kubectl, each from its
// environment variable (EnvEtcd, EnvKubeAPIServer, EnvKubectl) when set, else
// from bin/k8s/ in the repository root. When one is missing it fails t (it
// never skips) with "<name> not found: run `make k8s`" and where it looked.
func FindBinaries(t testing.TB) Binaries {
	t.Helper()
	b, err := LookupBinaries()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// LookupBinaries is FindBinaries without a test: the error names the first
// missing binary and says how to build it.
func LookupBinaries() (Binaries, error) {
	var b Binaries
	var err error
	if b.Etcd, err = lookup("etcd", EnvEtcd); err != nil {
		return Binaries{}, err
	}
	if b.KubeAPIServer, err = lookup("kube-apiserver", EnvKubeAPIServer); err != nil {
		return Binaries{}, err
	}
	if b.Kubectl, err = lookup("kubectl", EnvKubectl); err != nil {
		return Binaries{}, err
	}
	return b, nil
}

// Setenv sets EnvEtcd, EnvKubeAPIServer and EnvKubectl to b for the rest of
// the test (t.Setenv), for code that reads them itself, such as
// cert-manager's test/acme fixture. Not for parallel tests.
func (b Binaries) Setenv(t testing.TB) {
	t.Helper()
	t.Setenv(EnvEtcd, b.Etcd)
	t.Setenv(EnvKubeAPIServer, b.KubeAPIServer)
	t.Setenv(EnvKubectl, b.Kubectl)
}

// FindHelm returns helm from the HELM environment variable when set, else
// bin/k8s/helm in the repository root; when it is missing it fails t with
// "helm not found: run `make k8s`".
func FindHelm(t testing.TB) string {
	t.Helper()
	p, err := lookup("helm", EnvHelm)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// lookup finds one binary: the environment variable env if set (it must then
// name an executable file), else bin/k8s/<name> under the repository root.
func lookup(name, env string) (string, error) {
	if p := os.Getenv(env); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("%s not found: run `make k8s`, or fix %s=%s (%v)", name, env, p, err)
		}
		return filepath.Abs(p)
	}
	root, err := RepoRoot()
	if err != nil {
		return "", fmt.Errorf("%s not found: run `make k8s` (or set %s): %w", name, env, err)
	}
	p := filepath.Join(root, "bin", "k8s", name)
	if err := executable(p); err != nil {
		return "", fmt.Errorf("%s not found: run `make k8s` in %s (or set %s); looked for %s", name, root, env, p)
	}
	return p, nil
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return errors.New("not an executable file")
	}
	return nil
}

// RepoRoot returns the repository root: the nearest directory, from the
// working directory up, whose go.mod declares the root module
// github.com/acme-dns-hook/acme-dns-hook. Tests run in their package's
// directory, so this finds the checkout they belong to.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	for {
		if modulePath(filepath.Join(dir, "go.mod")) == rootModule {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("finding the repository root: no go.mod of module %s above the working directory", rootModule)
		}
		dir = parent
	}
}

// modulePath returns the module path a go.mod file declares, or "".
func modulePath(gomod string) string {
	f, err := os.Open(gomod)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		if rest, ok := strings.CutPrefix(line, "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
