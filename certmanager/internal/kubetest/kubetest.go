// Package kubetest runs a real Kubernetes control plane for tests: etcd and
// kube-apiserver, built from the module proxy by `make k8s` (bin/k8s/), on
// free loopback ports, configured like a cluster that can host an aggregated
// API server such as a cert-manager DNS-01 webhook:
//
//   - TLS everywhere, with three generated authorities (serving, client, and
//     front-proxy for the aggregation layer's requestheader-* and
//     proxy-client-* flags), so kube-apiserver proxies to APIServices with a
//     client certificate that a webhook's delegated authentication accepts;
//   - RBAC authorization, with Kubernetes' bootstrap roles (system:auth-delegator,
//     extension-apiserver-authentication-reader, ...);
//   - service-account signing keys, so TokenRequest issues real tokens
//     (ServiceAccountToken, ServiceAccountKubeconfig);
//   - an admin client certificate (user "kubetest-admin", group
//     system:masters) in a kubeconfig file (Cluster.AdminKubeconfig).
//
// Start returns once /readyz answers ok, the "default" namespace exists and
// kube-apiserver has published the extension-apiserver-authentication
// ConfigMap that aggregated servers read; t.Cleanup stops both processes.
// About 4 s on 2 cores. There is no controller manager, scheduler or kubelet:
// objects are stored and validated, Pods never run, and no ServiceAccount is
// created by itself (not even "default").
//
// The binaries come from TEST_ASSET_ETCD, TEST_ASSET_KUBE_APISERVER and
// TEST_ASSET_KUBECTL (the variables cert-manager's own test suite reads) or
// else from bin/k8s/ in the repository root. A missing binary fails the test,
// never skips it: "kube-apiserver not found: run `make k8s` ...".
//
// The package uses the standard library only, so it can be used beside any
// version of client-go: build a rest.Config from Cluster.AdminKubeconfig (or
// a ServiceAccountKubeconfig) with clientcmd.BuildConfigFromFlags("", path).
package kubetest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Bounds of the polls in this package. They are limits for a broken control
// plane, not waits: a healthy one is ready well within them.
const (
	etcdReadyTimeout      = 30 * time.Second
	apiserverReadyTimeout = 90 * time.Second
	pollInterval          = 25 * time.Millisecond
	kubectlTimeout        = 60 * time.Second
)

// AdminUser is the user name of the admin client certificate; its group is
// system:masters, which RBAC lets do everything.
const AdminUser = "kubetest-admin"

// Cluster is a running etcd and kube-apiserver. Its fields are read-only.
type Cluster struct {
	// URL is kube-apiserver's address, https://127.0.0.1:<port>.
	URL string
	// CA is the PEM certificate of the authority that signed kube-apiserver's
	// serving certificate; CAFile holds the same bytes.
	CA     []byte
	CAFile string
	// AdminKubeconfig is a kubeconfig file for AdminUser (system:masters).
	AdminKubeconfig string
	// Dir holds the certificates, keys, kubeconfigs and the logs etcd.log and
	// kube-apiserver.log; it is removed after the test.
	Dir string
	// Binaries are the etcd, kube-apiserver and kubectl in use.
	Binaries Binaries
	// StartupTime is how long Start took, from generating the certificates
	// to a ready control plane.
	StartupTime time.Duration

	client   *authority   // signs client certificates (--client-ca-file)
	admin    *http.Client // authenticated as AdminUser
	cacheDir string       // kubectl's discovery cache

	etcdReady, apiserverReady time.Duration // for the startup log line
}

// Start runs etcd and kube-apiserver for t and returns when they are ready
// (see the package documentation); both are stopped by t.Cleanup. It fails t
// when a binary is missing or the control plane does not come up, with the
// end of the failing process's log.
func Start(t testing.TB) *Cluster {
	t.Helper()
	began := time.Now()
	bins := FindBinaries(t)
	dir := t.TempDir()
	c := &Cluster{Dir: dir, Binaries: bins, cacheDir: filepath.Join(dir, "kubectl-cache")}
	files, err := c.writePKI()
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	// A port can be taken by another process between the probe for a free
	// one and the bind; such a start is retried with new ports.
	for attempt := 1; ; attempt++ {
		retry, err := c.start(t, files)
		if err == nil {
			break
		}
		if !retry || attempt == 3 {
			t.Fatalf("kubetest: %v", err)
		}
		t.Logf("kubetest: a port was taken, starting again: %v", err)
	}
	c.StartupTime = time.Since(began)
	t.Logf("kubetest: etcd and kube-apiserver ready at %s in %v (etcd %v, kube-apiserver %v)", c.URL,
		c.StartupTime.Round(time.Millisecond), c.etcdReady.Round(time.Millisecond), c.apiserverReady.Round(time.Millisecond))
	return c
}

// pkiFiles are the paths of the files writePKI made.
type pkiFiles struct {
	servingCert, servingKey         string
	clientCA                        string
	frontProxyCA                    string
	proxyClientCert, proxyClientKey string
	saKey, saPub                    string
}

// writePKI generates the authorities and certificates and writes them, the
// admin kubeconfig aside (it needs the port).
func (c *Cluster) writePKI() (pkiFiles, error) {
	f := pkiFiles{}
	serving, err := newAuthority("kubetest-serving-ca")
	if err != nil {
		return f, err
	}
	client, err := newAuthority("kubetest-client-ca")
	if err != nil {
		return f, err
	}
	frontProxy, err := newAuthority("kubetest-front-proxy-ca")
	if err != nil {
		return f, err
	}
	c.client = client
	c.CA = serving.certPEM
	servingCert, servingKey, err := serving.issue(leaf{cn: "kube-apiserver", hosts: []string{
		"127.0.0.1", "localhost", "10.0.0.1",
		"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
	}})
	if err != nil {
		return f, err
	}
	proxyCert, proxyKey, err := frontProxy.issue(leaf{cn: "front-proxy-client"})
	if err != nil {
		return f, err
	}
	saKey, saPub, err := signingKey()
	if err != nil {
		return f, err
	}
	files := []struct {
		path *string
		name string
		data []byte
	}{
		{&c.CAFile, "serving-ca.crt", serving.certPEM},
		{&f.servingCert, "serving.crt", servingCert},
		{&f.servingKey, "serving.key", servingKey},
		{&f.clientCA, "client-ca.crt", client.certPEM},
		{&f.frontProxyCA, "front-proxy-ca.crt", frontProxy.certPEM},
		{&f.proxyClientCert, "proxy-client.crt", proxyCert},
		{&f.proxyClientKey, "proxy-client.key", proxyKey},
		{&f.saKey, "service-account.key", saKey},
		{&f.saPub, "service-account.pub", saPub},
	}
	for _, file := range files {
		*file.path = filepath.Join(c.Dir, file.name)
		if err := os.WriteFile(*file.path, file.data, 0o600); err != nil {
			return f, fmt.Errorf("writing %s: %w", file.name, err)
		}
	}
	return f, nil
}

// start makes one attempt at running etcd and kube-apiserver. retry reports
// that it failed only because a port was taken.
func (c *Cluster) start(t testing.TB, f pkiFiles) (retry bool, err error) {
	ports, err := freePorts(3)
	if err != nil {
		return false, err
	}
	etcdClient := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	etcdPeer := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	etcdDir, err := os.MkdirTemp(c.Dir, "etcd-data-")
	if err != nil {
		return false, fmt.Errorf("creating etcd's data directory: %w", err)
	}
	etcd, err := startProcess("etcd", c.Binaries.Etcd, filepath.Join(c.Dir, "etcd.log"),
		"--name=kubetest",
		"--data-dir="+etcdDir,
		"--listen-client-urls="+etcdClient,
		"--advertise-client-urls="+etcdClient,
		"--listen-peer-urls="+etcdPeer,
		"--initial-advertise-peer-urls="+etcdPeer,
		"--initial-cluster=kubetest="+etcdPeer,
		"--unsafe-no-fsync", // test data: no need to survive a power cut
		"--log-level=warn",
	)
	if err != nil {
		return false, err
	}
	t.Cleanup(etcd.stop)
	etcdStarted := time.Now()
	err = pollUntil(etcd, etcdReadyTimeout, pollInterval, "healthy", func() (bool, string) {
		return httpOK(&http.Client{Timeout: 5 * time.Second}, etcdClient+"/health")
	})
	if err != nil {
		etcd.stop()
		return etcd.portInUse(), err
	}

	c.etcdReady = time.Since(etcdStarted)
	c.URL = "https://127.0.0.1:" + strconv.Itoa(ports[2])
	adminCert, adminKey, err := c.client.issue(leaf{cn: AdminUser, groups: []string{"system:masters"}})
	if err != nil {
		return false, err
	}
	if c.admin, err = httpClient(c.CA, adminCert, adminKey); err != nil {
		return false, err
	}
	c.AdminKubeconfig = filepath.Join(c.Dir, "admin.kubeconfig")
	if err := c.writeKubeconfig(c.AdminKubeconfig, AdminUser, map[string]string{
		"client-certificate-data": base64.StdEncoding.EncodeToString(adminCert),
		"client-key-data":         base64.StdEncoding.EncodeToString(adminKey),
	}); err != nil {
		return false, err
	}
	apiserver, err := startProcess("kube-apiserver", c.Binaries.KubeAPIServer, filepath.Join(c.Dir, "kube-apiserver.log"),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(ports[2]),
		"--etcd-servers="+etcdClient,
		"--tls-cert-file="+f.servingCert,
		"--tls-private-key-file="+f.servingKey,
		"--client-ca-file="+f.clientCA,
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+f.saPub,
		"--service-account-signing-key-file="+f.saKey,
		// The aggregation layer: kube-apiserver proxies to APIServices with
		// the proxy client certificate, and aggregated servers trust the
		// front-proxy CA and headers published in kube-system's
		// extension-apiserver-authentication ConfigMap.
		"--requestheader-client-ca-file="+f.frontProxyCA,
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file="+f.proxyClientCert,
		"--proxy-client-key-file="+f.proxyClientKey,
		"--cert-dir="+filepath.Join(c.Dir, "apiserver-certs"),
		// The "kubernetes" Service's endpoints would be 127.0.0.1, which
		// Endpoints refuse; nothing runs in this cluster to use them.
		"--endpoint-reconciler-type=none",
	)
	if err != nil {
		return false, err
	}
	t.Cleanup(apiserver.stop)
	apiserverStarted := time.Now()
	logTailsOnFailure(t, etcd, apiserver)
	ready := []struct {
		what string
		path string
	}{
		{"ready", "/readyz"},
		{"serving the default namespace", "/api/v1/namespaces/default"},
		{"publishing extension-apiserver-authentication", "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication"},
	}
	for _, r := range ready {
		err := pollUntil(apiserver, apiserverReadyTimeout, pollInterval, r.what, func() (bool, string) {
			return httpOK(c.admin, c.URL+r.path)
		})
		if err != nil {
			apiserver.stop()
			etcd.stop()
			return apiserver.portInUse() || etcd.portInUse(), err
		}
	}
	c.apiserverReady = time.Since(apiserverStarted)
	return false, nil
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// httpOK reports whether GET url answers 200, and otherwise what it answered.
func httpOK(client *http.Client, url string) (bool, string) {
	resp, err := client.Get(url)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode == http.StatusOK {
		return true, ""
	}
	return false, fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
}

// httpClient returns a client that trusts caPEM and presents the given
// client certificate.
func httpClient(caPEM, certPEM, keyPEM []byte) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("reading the serving CA: no certificate")
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("loading the admin certificate: %w", err)
	}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs:      pool,
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
		}},
	}, nil
}

// AdminHTTPClient returns an HTTP client that trusts kube-apiserver and is
// authenticated as AdminUser, for requests the kubectl helpers do not cover:
// c.AdminHTTPClient().Get(c.URL + "/apis/...").
func (c *Cluster) AdminHTTPClient() *http.Client { return c.admin }

// writeKubeconfig writes a kubeconfig for user with the given credentials
// (client-certificate-data/client-key-data, or token) to path, mode 0600.
func (c *Cluster) writeKubeconfig(path, user string, creds map[string]string) error {
	// JSON is YAML, and encoding/json quotes every value correctly.
	cfg := map[string]any{
		"apiVersion": "v1",
		"kind":       "Config",
		"clusters": []any{map[string]any{"name": "kubetest", "cluster": map[string]any{
			"server":                     c.URL,
			"certificate-authority-data": base64.StdEncoding.EncodeToString(c.CA),
		}}},
		"users": []any{map[string]any{"name": user, "user": creds}},
		"contexts": []any{map[string]any{"name": "kubetest", "context": map[string]any{
			"cluster": "kubetest", "user": user,
		}}},
		"current-context": "kubetest",
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the kubeconfig of %s: %w", user, err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("writing the kubeconfig of %s: %w", user, err)
	}
	return nil
}

// TokenKubeconfig writes a kubeconfig that authenticates with the bearer
// token and returns its path (in c.Dir, named after user, which only labels
// the entry: the token decides who the caller is).
func (c *Cluster) TokenKubeconfig(t testing.TB, user, token string) string {
	t.Helper()
	path := filepath.Join(c.Dir, safeName(user)+".kubeconfig")
	if err := c.writeKubeconfig(path, user, map[string]string{"token": token}); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return path
}

// UserKubeconfig writes a kubeconfig with a client certificate for user in
// groups, signed by the cluster's client CA, and returns its path: a caller
// with no ServiceAccount, whose rights RBAC bindings to the user or a group
// decide.
func (c *Cluster) UserKubeconfig(t testing.TB, user string, groups ...string) string {
	t.Helper()
	cert, key, err := c.client.issue(leaf{cn: user, groups: groups})
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	path := filepath.Join(c.Dir, "user-"+safeName(user)+".kubeconfig")
	if err := c.writeKubeconfig(path, user, map[string]string{
		"client-certificate-data": base64.StdEncoding.EncodeToString(cert),
		"client-key-data":         base64.StdEncoding.EncodeToString(key),
	}); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return path
}

// safeName makes s usable as a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ':' || r == os.PathSeparator {
			return '_'
		}
		return r
	}, s)
}

// Kubectl runs kubectl with the kubeconfig file (AdminKubeconfig, or one
// from ServiceAccountKubeconfig, TokenKubeconfig, UserKubeconfig) and args,
// stdin as its input, and returns its standard output. The error carries
// kubectl's standard error, which is how a refused request (RBAC, validation)
// reads. kubectl sees neither KUBECONFIG nor the user's ~/.kube.
func (c *Cluster) Kubectl(kubeconfig, stdin string, args ...string) (string, error) {
	full := append([]string{"--kubeconfig=" + kubeconfig, "--cache-dir=" + c.cacheDir, "--request-timeout=30s"}, args...)
	cmd := exec.Command(c.Binaries.Kubectl, full...)
	env := []string{"HOME=" + c.Dir}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "KUBECONFIG=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("kubectl %s: %w", strings.Join(args, " "), err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(kubectlTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			return stdout.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return stdout.String(), nil
	case <-timer.C:
		_ = cmd.Process.Kill()
		<-done
		return stdout.String(), fmt.Errorf("kubectl %s: no answer within %v: %s", strings.Join(args, " "), kubectlTimeout, strings.TrimSpace(stderr.String()))
	}
}

// MustKubectl runs kubectl as the admin (see Kubectl) and fails t if it
// fails; it returns the standard output.
func (c *Cluster) MustKubectl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := c.Kubectl(c.AdminKubeconfig, "", args...)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return out
}

// Apply creates or updates the objects in manifests (YAML or JSON, several
// documents allowed) as the admin with `kubectl apply -f -`, failing t on
// any error. Namespaced objects without a namespace go to "default".
func (c *Cluster) Apply(t testing.TB, manifests string) {
	t.Helper()
	if _, err := c.Kubectl(c.AdminKubeconfig, manifests, "apply", "-f", "-"); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
}

// CreateServiceAccount creates the namespace (when missing) and the
// ServiceAccount in it, as the admin; applying twice is harmless.
func (c *Cluster) CreateServiceAccount(t testing.TB, namespace, name string) {
	t.Helper()
	c.Apply(t, fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %q
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: %q
  namespace: %q
`, namespace, name, namespace))
}

// ServiceAccountToken returns a token for the existing ServiceAccount
// namespace/name from the TokenRequest API (`kubectl create token`), valid
// for an hour, with the API server's default audience. Requests with it are
// made as system:serviceaccount:<namespace>:<name>, in the groups
// system:serviceaccounts and system:serviceaccounts:<namespace>.
func (c *Cluster) ServiceAccountToken(t testing.TB, namespace, name string) string {
	t.Helper()
	out, err := c.Kubectl(c.AdminKubeconfig, "", "create", "token", name, "--namespace", namespace, "--duration=1h")
	if err != nil {
		t.Fatalf("kubetest: requesting a token for ServiceAccount %s/%s: %v", namespace, name, err)
	}
	token := strings.TrimSpace(out)
	if token == "" {
		t.Fatalf("kubetest: requesting a token for ServiceAccount %s/%s: empty answer", namespace, name)
	}
	return token
}

// ServiceAccountKubeconfig creates the ServiceAccount namespace/name (and
// its namespace) when missing, requests a token for it, and returns the path
// of a kubeconfig that authenticates with that token: what a webhook pod's
// --kubeconfig, --authentication-kubeconfig and --authorization-kubeconfig
// would be, or cert-manager's identity when it calls a webhook.
func (c *Cluster) ServiceAccountKubeconfig(t testing.TB, namespace, name string) string {
	t.Helper()
	c.CreateServiceAccount(t, namespace, name)
	token := c.ServiceAccountToken(t, namespace, name)
	return c.TokenKubeconfig(t, "sa-"+namespace+"-"+name, token)
}

// WaitAPIServiceAvailable polls the APIService name (v1alpha1.<groupName>
// for a cert-manager webhook) until its Available condition is True, and
// fails t with the condition's last reason and message when that does not
// happen within timeout. kube-apiserver sets the condition once it reaches
// the service behind the APIService; polling is the only way to see it.
func (c *Cluster) WaitAPIServiceAvailable(t testing.TB, name string, timeout time.Duration) {
	t.Helper()
	url := c.URL + "/apis/apiregistration.k8s.io/v1/apiservices/" + name
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval * 2)
	defer tick.Stop()
	last := "not read yet"
	for {
		ok, state := c.apiServiceAvailable(url)
		if ok {
			return
		}
		last = state
		select {
		case <-deadline.C:
			t.Fatalf("kubetest: APIService %s not Available after %v: %s", name, timeout, last)
		case <-tick.C:
		}
	}
}

// apiServiceAvailable reads one APIService and reports whether it is
// Available, or else its condition (or the HTTP error) in words.
func (c *Cluster) apiServiceAvailable(url string) (bool, string) {
	resp, err := c.admin.Get(url)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return false, err.Error()
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var svc struct {
		Status struct {
			Conditions []struct {
				Type, Status, Reason, Message string
			}
		}
	}
	if err := json.Unmarshal(body, &svc); err != nil {
		return false, fmt.Sprintf("decoding the APIService: %v", err)
	}
	for _, cond := range svc.Status.Conditions {
		if cond.Type == "Available" {
			return cond.Status == "True", fmt.Sprintf("Available=%s %s: %s", cond.Status, cond.Reason, cond.Message)
		}
	}
	return false, "no Available condition yet"
}
