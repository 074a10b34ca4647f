//go:build k8s

package main_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/acme-dns-hook/acme-dns-hook/certmanager/internal/kubetest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
)

// The names the chain tests install the chart with.
const (
	group          = "acme.chain.acme-dns-hook.io"
	release        = "acme-dns-hook-webhook"
	cmNamespace    = "cert-manager" // cert-manager's and the webhook's namespace
	cmAccount      = "cert-manager" // cert-manager's controller ServiceAccount
	issuerNS       = "issuers"      // listed in secretNamespaces
	unlistedNS     = "elsewhere"    // not listed: the webhook may not read its Secrets
	chartDirectory = "certmanager/deploy/chart/acme-dns-hook-webhook"
)

// chain is a real control plane with the chart's RBAC applied and the
// built webhook binary, ready to start replicas.
type chain struct {
	cluster    *kubetest.Cluster
	binary     string
	account    string // the webhook's ServiceAccount, from the chart
	kubeconfig string // the webhook's identity (a TokenRequest token)
}

// startChain starts kube-apiserver, renders the chart with helm template
// and applies its RBAC objects (the Deployment, Service, APIService and
// cert-manager's PKI objects are stood in for by the test), and builds the
// webhook binary.
func startChain(t *testing.T) *chain {
	t.Helper()
	built := make(chan error, 1)
	bin := filepath.Join(t.TempDir(), "acme-dns-hook-webhook")
	go func() { built <- build(bin) }()
	c := &chain{cluster: kubetest.Start(t), binary: bin}
	for _, ns := range []string{cmNamespace, issuerNS, unlistedNS} {
		c.cluster.MustKubectl(t, "create", "namespace", ns)
	}
	root, err := kubetest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	helm := kubetest.FindHelm(t)
	out, err := exec.Command(helm, "template", release, filepath.Join(root, chartDirectory),
		"--namespace", cmNamespace, "--set", "groupName="+group,
		"--set", "certManager.namespace="+cmNamespace, "--set", "certManager.serviceAccountName="+cmAccount,
		"--set", "secretNamespaces={"+issuerNS+","+cmNamespace+"}").Output()
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	var rbac []string
	for _, doc := range strings.Split(string(out), "\n---") {
		var o struct {
			Kind     string
			Metadata struct{ Name string }
		}
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("reading the rendered chart: %v", err)
		}
		switch o.Kind {
		case "ServiceAccount":
			c.account = o.Metadata.Name
			fallthrough
		case "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
			rbac = append(rbac, doc)
		}
	}
	if c.account == "" {
		t.Fatal("the rendered chart has no ServiceAccount")
	}
	c.cluster.Apply(t, strings.Join(rbac, "\n---\n"))
	c.kubeconfig = c.cluster.ServiceAccountKubeconfig(t, cmNamespace, c.account)
	if err := <-built; err != nil {
		t.Fatal(err)
	}
	return c
}

// build compiles the webhook binary (this package) to path.
func build(path string) error {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	cmd := exec.Command(goBin, "build", "-o", path, ".")
	cmd.Env = append(os.Environ(), "GOWORK=off", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build of the webhook: %v\n%s", err, out)
	}
	return nil
}

// replica is one running webhook process.
type replica struct {
	port int
	log  *apitest.Buffer
}

// startReplica runs the built webhook as pod name with the chart's
// environment, delegated authentication and authorization through
// kube-apiserver, and a serving certificate for 127.0.0.1; it returns once
// /healthz answers. The process is stopped (SIGTERM, then waited for) when
// the test ends.
func (c *chain) startReplica(t *testing.T, name string, env ...string) *replica {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile := servingCert(t, dir)
	port := freePort(t)
	cmd := exec.Command(c.binary,
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(port),
		"--tls-cert-file="+certFile, "--tls-private-key-file="+keyFile,
		"--kubeconfig="+c.kubeconfig, "--authentication-kubeconfig="+c.kubeconfig, "--authorization-kubeconfig="+c.kubeconfig,
		"--v=1")
	cmd.Env = append([]string{"GROUP_NAME=" + group, "POD_NAME=" + name, "POD_NAMESPACE=" + cmNamespace, "HOME=" + dir, "PATH=" + os.Getenv("PATH")}, env...)
	r := &replica{port: port, log: &apitest.Buffer{}}
	cmd.Stdout, cmd.Stderr = r.log, r.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("webhook %s output:\n%s", name, tail(r.log.String(), 40))
		}
	})
	// Ready when /healthz answers: poll it (a process has no event to wait
	// for), bounded by the process exiting or a limit for a broken start.
	client := insecureHTTP()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/healthz", port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return r
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("webhook %s exited: %v\n%s", name, err, tail(r.log.String(), 40))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook %s not healthy after 60s: %v\n%s", name, err, tail(r.log.String(), 40))
		}
	}
}

// expose creates a Service of type ExternalName pointing at localhost and
// the APIService v1alpha1.<group> in front of it, as the chart does in a
// cluster (with insecureSkipTLSVerify instead of the CA cainjector would
// put in), and waits until kube-apiserver reports it Available.
func (c *chain) expose(t *testing.T, r *replica) {
	t.Helper()
	c.cluster.Apply(t, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  namespace: %[2]s
spec:
  type: ExternalName
  externalName: localhost
  ports:
    - name: https
      port: %[3]d
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1alpha1.%[4]s
spec:
  group: %[4]s
  version: v1alpha1
  groupPriorityMinimum: 1000
  versionPriority: 15
  insecureSkipTLSVerify: true
  service:
    name: %[1]s
    namespace: %[2]s
    port: %[3]d
`, release, cmNamespace, r.port, group))
	c.cluster.WaitAPIServiceAvailable(t, "v1alpha1."+group, 60*time.Second)
}

// as returns a client configuration for kube-apiserver with a token of
// ServiceAccount ns/name, as cert-manager's controller calls the webhook.
func (c *chain) as(t *testing.T, ns, name string) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", c.cluster.ServiceAccountKubeconfig(t, ns, name))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// direct returns a client configuration that reaches replica r itself
// with cfg's credentials (its delegated authentication checks them).
func direct(cfg *rest.Config, r *replica) *rest.Config {
	d := rest.CopyConfig(cfg)
	d.Host = fmt.Sprintf("https://127.0.0.1:%d", r.port)
	d.TLSClientConfig = rest.TLSClientConfig{Insecure: true}
	return d
}

// servingCert writes a self-signed certificate for 127.0.0.1 and localhost.
func servingCert(t *testing.T, dir string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: release},
		DNSNames:     []string{"localhost", release + "." + cmNamespace + ".svc"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
