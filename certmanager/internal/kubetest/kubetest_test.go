package kubetest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMissingBinaryFails: a binary that is not there is a failure that says
// how to build it, for each variable the harness reads.
func TestMissingBinaryFails(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent")
	tests := []struct {
		env, want string
	}{
		{EnvEtcd, "etcd not found: run `make k8s`"},
		{EnvKubeAPIServer, "kube-apiserver not found: run `make k8s`"},
		{EnvKubectl, "kubectl not found: run `make k8s`"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			// The others point at an executable file, so only tt.env is missing.
			self, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range []string{EnvEtcd, EnvKubeAPIServer, EnvKubectl} {
				t.Setenv(e, self)
			}
			t.Setenv(tt.env, missing)
			_, err = LookupBinaries()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LookupBinaries() error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	t.Run("helm", func(t *testing.T) {
		t.Setenv(EnvHelm, missing)
		_, err := lookup("helm", EnvHelm)
		if err == nil || !strings.Contains(err.Error(), "helm not found: run `make k8s`") {
			t.Fatalf("lookup(helm) error = %v", err)
		}
	})
}

// TestRepoRoot finds the checkout's root from this package's directory.
func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "certmanager", "internal", "kubetest", "kubetest.go")); err != nil {
		t.Fatalf("RepoRoot() = %s, which does not hold this package: %v", root, err)
	}
}

// TestControlPlane starts a control plane and checks what the webhook tests
// rely on: admin rights, RBAC refusing a ServiceAccount that has none and
// allowing it once bound, the aggregation layer's published configuration,
// and an APIService proxied to a server on loopback with the front-proxy
// client certificate and the caller's identity in headers.
func TestControlPlane(t *testing.T) {
	c := Start(t)

	t.Run("admin", func(t *testing.T) {
		out := c.MustKubectl(t, "auth", "can-i", "*", "*")
		if strings.TrimSpace(out) != "yes" {
			t.Fatalf("admin can-i * * = %q", out)
		}
	})

	t.Run("service account and RBAC", func(t *testing.T) {
		kc := c.ServiceAccountKubeconfig(t, "team", "reader")
		_, err := c.Kubectl(kc, "", "get", "secrets", "--namespace", "team")
		if err == nil || !strings.Contains(err.Error(), `User "system:serviceaccount:team:reader" cannot list resource "secrets"`) {
			t.Fatalf("unbound ServiceAccount listing secrets: err = %v, want RBAC's refusal", err)
		}
		c.Apply(t, `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: team}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects:
- {kind: ServiceAccount, name: reader, namespace: team}
`)
		if _, err := c.Kubectl(kc, "", "get", "secrets", "--namespace", "team"); err != nil {
			t.Fatalf("bound ServiceAccount listing secrets: %v", err)
		}
	})

	t.Run("user certificate", func(t *testing.T) {
		kc := c.UserKubeconfig(t, "alice", "developers")
		out, err := c.Kubectl(kc, "", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "alice") || !strings.Contains(out, "developers") {
			t.Fatalf("whoami = %q, want alice in developers", out)
		}
	})

	t.Run("aggregation", func(t *testing.T) {
		cm := c.MustKubectl(t, "get", "configmap", "extension-apiserver-authentication", "--namespace", "kube-system", "-o", "json")
		for _, key := range []string{"client-ca-file", "requestheader-client-ca-file", "requestheader-allowed-names"} {
			if !strings.Contains(cm, `"`+key+`"`) {
				t.Errorf("extension-apiserver-authentication has no %s", key)
			}
		}

		// An aggregated server on loopback that records who called it.
		calls := make(chan *http.Request, 16)
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// kube-aggregator's own discovery and availability checks
			// come too; keep the requests made for the admin.
			if r.Header.Get("X-Remote-User") == AdminUser {
				select {
				case calls <- r:
				default:
				}
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"kubetest.example.com/v1alpha1","resources":[]}`)
		}))
		srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
		// kube-apiserver keeps probing until the control plane stops,
		// after this server; its refused handshakes are no news.
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.StartTLS()
		t.Cleanup(srv.Close)
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

		c.Apply(t, `apiVersion: v1
kind: Service
metadata: {name: fake-webhook, namespace: default}
spec:
  type: ExternalName
  externalName: localhost
  ports: [{port: `+port+`}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1alpha1.kubetest.example.com}
spec:
  group: kubetest.example.com
  version: v1alpha1
  groupPriorityMinimum: 1000
  versionPriority: 15
  insecureSkipTLSVerify: true
  service: {name: fake-webhook, namespace: default, port: `+port+`}
`)
		c.WaitAPIServiceAvailable(t, "v1alpha1.kubetest.example.com", 30*time.Second)

		resp, err := c.AdminHTTPClient().Get(c.URL + "/apis/kubetest.example.com/v1alpha1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET through the aggregator: %s", resp.Status)
		}
		var r *http.Request
		select {
		case r = <-calls:
		case <-time.After(10 * time.Second):
			t.Fatal("the aggregated server saw no request for the admin")
		}
		if got := r.Header.Values("X-Remote-Group"); !slices.Contains(got, "system:masters") {
			t.Errorf("X-Remote-Group = %q, want system:masters among them", got)
		}
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			t.Fatal("the aggregator presented no client certificate")
		}
		if cn := r.TLS.PeerCertificates[0].Subject.CommonName; cn != "front-proxy-client" {
			t.Errorf("aggregator's client certificate CN = %q, want front-proxy-client", cn)
		}
		verifyFrontProxy(t, cm, r.TLS.PeerCertificates[0])
	})

	t.Run("kubeconfig is private", func(t *testing.T) {
		fi, err := os.Stat(c.AdminKubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("admin kubeconfig mode %v, want 0600", fi.Mode().Perm())
		}
	})
}

// verifyFrontProxy checks that the CA kube-apiserver publishes for
// aggregated servers verifies the client certificate its proxy presents,
// which is what a webhook's delegated authentication does.
func verifyFrontProxy(t *testing.T, configMapJSON string, cert *x509.Certificate) {
	t.Helper()
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := json.Unmarshal([]byte(configMapJSON), &cm); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(cm.Data["requestheader-client-ca-file"])) {
		t.Fatal("requestheader-client-ca-file holds no certificate")
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("the published requestheader CA does not verify the proxy's certificate: %v", err)
	}
	var names []string
	if err := json.Unmarshal([]byte(cm.Data["requestheader-allowed-names"]), &names); err != nil || !slices.Contains(names, "front-proxy-client") {
		t.Fatalf("requestheader-allowed-names = %s, want front-proxy-client", cm.Data["requestheader-allowed-names"])
	}
}
