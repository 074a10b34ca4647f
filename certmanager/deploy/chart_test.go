// Package deploy_test checks the Helm chart in chart/acme-dns-hook-webhook:
// helm lint, helm template with default and other values, and a server-side
// dry-run apply of what it renders against a real kube-apiserver that has
// cert-manager's CRDs, so wrong types and unknown fields fail here rather
// than in a user's cluster. helm, etcd, kube-apiserver and kubectl come from
// `make k8s` (bin/k8s/) or HELM and TEST_ASSET_*; a missing one fails.
package deploy_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/certmanager/internal/kubetest"
)

const chartDir = "chart/acme-dns-hook-webhook"

// A values case: what a user sets and what they would check in the result.
type chartCase struct {
	name        string
	valuesFile  string // under testdata/, "" for the chart's defaults
	release     string
	namespace   string
	group       string
	cmNamespace string // cert-manager's namespace
	cmAccount   string // cert-manager's ServiceAccount
	secretNS    []string
	secretNames []string
	replicas    float64
	image       string
	flowcontrol bool
	fullname    string
}

var chartCases = []chartCase{
	{
		name: "defaults", release: "acme-dns-hook-webhook", namespace: "cert-manager",
		group: "acme.example.com", cmNamespace: "cert-manager", cmAccount: "cert-manager",
		secretNS: []string{"cert-manager"}, replicas: 2, image: "acme-dns-hook-webhook:0.1.0",
		fullname: "acme-dns-hook-webhook",
	},
	{
		name: "custom", valuesFile: "values-custom.yaml", release: "dns", namespace: "dns-webhook",
		group: "acme.dns.example.org", cmNamespace: "security", cmAccount: "cm-controller",
		secretNS: []string{"security", "team-a", "team-b"}, secretNames: []string{"dns-credentials"},
		replicas: 3, image: "registry.example.org/acme-dns-hook-webhook:v1.2.3",
		flowcontrol: true, fullname: "dns-acme-dns-hook-webhook",
	},
}

// TestChartLint: helm lint --strict passes with the defaults and with other
// values.
func TestChartLint(t *testing.T) {
	helm := kubetest.FindHelm(t)
	for _, tc := range chartCases {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"lint", "--strict", "--namespace", tc.namespace, chartDir}
			if tc.valuesFile != "" {
				args = append(args, "--values", filepath.Join("testdata", tc.valuesFile))
			}
			if out, err := run(helm, "", args...); err != nil {
				t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		})
	}
}

// TestChartRejectsBadValues: a groupName that cannot work is refused by
// helm template with one line naming the value and the fix.
func TestChartRejectsBadValues(t *testing.T) {
	helm := kubetest.FindHelm(t)
	tests := []struct {
		values string
		want   string
	}{
		{"values-bad-group.yaml", `groupName "Acme_Webhook" is not a lowercase DNS name with at least one dot (e.g. acme.example.com): fix the value groupName`},
		{"values-no-group.yaml", "groupName is required: set it to the API group of the webhook"},
	}
	for _, tt := range tests {
		t.Run(tt.values, func(t *testing.T) {
			_, err := render(helm, "x", "default", tt.values)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("helm template with %s: err = %v, want it to say %q", tt.values, err, tt.want)
			}
		})
	}
}

// TestChartServerDryRun renders the chart with each values case and applies
// the result with `kubectl apply --dry-run=server` to a kube-apiserver that
// has cert-manager's CRDs: every object must be accepted as it is (known
// fields, right types), and what the server returns must say what a user
// would check: the APIService and the domain-solver ClusterRole name the
// group, cert-manager's ServiceAccount from values is bound, and Secrets are
// readable only in the listed namespaces.
func TestChartServerDryRun(t *testing.T) {
	helm := kubetest.FindHelm(t)
	crds := certManagerCRDs(t)
	c := kubetest.Start(t)

	began := time.Now()
	c.MustKubectl(t, "apply", "--server-side", "-f", crds)
	c.MustKubectl(t, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
	t.Logf("cert-manager's CRDs from %s established in %v", crds, time.Since(began).Round(time.Millisecond))

	for _, tc := range chartCases {
		t.Run(tc.name, func(t *testing.T) {
			manifests, err := render(helm, tc.release, tc.namespace, tc.valuesFile)
			if err != nil {
				t.Fatal(err)
			}
			// Namespaces are not the chart's: a user creates them (helm
			// --create-namespace for the release's).
			for _, ns := range append([]string{tc.namespace, tc.cmNamespace}, tc.secretNS...) {
				c.Apply(t, fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", ns))
			}
			out, err := c.Kubectl(c.AdminKubeconfig, manifests, "apply", "--dry-run=server", "-o", "json", "-f", "-")
			if err != nil {
				t.Fatalf("server-side dry run of the rendered chart: %v", err)
			}
			objs, err := decodeObjects(out)
			if err != nil {
				t.Fatal(err)
			}
			// Every rendered document came back from the server.
			if rendered := strings.Count(manifests, "\n# Source: "); len(objs) != rendered {
				t.Errorf("the dry run returned %d objects, the chart rendered %d", len(objs), rendered)
			}
			checkChart(t, tc, objs)
		})
	}
}

// checkChart asserts what the objects the server accepted grant and wire.
func checkChart(t *testing.T, tc chartCase, objs []obj) {
	byKind := map[string][]obj{}
	for _, o := range objs {
		byKind[o.str("kind")] = append(byKind[o.str("kind")], o)
	}
	one := func(kind, name string) obj {
		t.Helper()
		for _, o := range byKind[kind] {
			if o.str("metadata", "name") == name {
				return o
			}
		}
		t.Fatalf("no %s %q among the rendered objects", kind, name)
		return nil
	}
	full := tc.fullname
	servingCert := full + "-webhook-tls"

	// APIService: v1alpha1.<group>, CA injected from the serving Certificate,
	// pointing at the chart's Service.
	api := one("APIService", "v1alpha1."+tc.group)
	eq(t, "APIService spec.group", api.str("spec", "group"), tc.group)
	eq(t, "APIService spec.version", api.str("spec", "version"), "v1alpha1")
	eq(t, "APIService inject-ca-from", api.str("metadata", "annotations", "cert-manager.io/inject-ca-from"), tc.namespace+"/"+servingCert)
	eq(t, "APIService service", api.str("spec", "service", "namespace")+"/"+api.str("spec", "service", "name"), tc.namespace+"/"+full)
	svc := one("Service", full)
	eq(t, "Service namespace", svc.str("metadata", "namespace"), tc.namespace)
	eq(t, "Service port", fmt.Sprint(svc.get("spec", "ports", 0, "port")), fmt.Sprint(api.get("spec", "service", "port")))

	// domain-solver: create on the group, bound to cert-manager's account.
	solver := one("ClusterRole", full+":domain-solver")
	eq(t, "domain-solver apiGroups", fmt.Sprint(solver.get("rules", 0, "apiGroups")), fmt.Sprint([]any{tc.group}))
	eq(t, "domain-solver verbs", fmt.Sprint(solver.get("rules", 0, "verbs")), "[create]")
	binding := one("ClusterRoleBinding", full+":domain-solver")
	eq(t, "domain-solver roleRef", binding.str("roleRef", "name"), full+":domain-solver")
	eq(t, "domain-solver subject", subjects(binding), "ServiceAccount "+tc.cmNamespace+"/"+tc.cmAccount)

	// The webhook's own identity and the grants of an aggregated server.
	webhookSA := "ServiceAccount " + tc.namespace + "/" + full
	one("ServiceAccount", full)
	reader := one("RoleBinding", full+":webhook-authentication-reader")
	eq(t, "authentication reader namespace", reader.str("metadata", "namespace"), "kube-system")
	eq(t, "authentication reader role", reader.str("roleRef", "name"), "extension-apiserver-authentication-reader")
	eq(t, "authentication reader subject", subjects(reader), webhookSA)
	delegator := one("ClusterRoleBinding", full+":auth-delegator")
	eq(t, "auth-delegator role", delegator.str("roleRef", "name"), "system:auth-delegator")
	eq(t, "auth-delegator subject", subjects(delegator), webhookSA)

	// Secrets: get only, only in the listed namespaces, only the listed
	// names; nothing cluster-wide.
	var secretNS []string
	for _, r := range byKind["Role"] {
		for _, rule := range r.list("rules") {
			if !slices.Contains(rule.strs("resources"), "secrets") {
				continue
			}
			secretNS = append(secretNS, r.str("metadata", "namespace"))
			eq(t, "secret verbs in "+r.str("metadata", "namespace"), fmt.Sprint(rule.strs("verbs")), "[get]")
			eq(t, "secret names in "+r.str("metadata", "namespace"), fmt.Sprint(rule.strs("resourceNames")), fmt.Sprint(tc.secretNames))
		}
	}
	for _, cr := range byKind["ClusterRole"] {
		for _, rule := range cr.list("rules") {
			if slices.Contains(rule.strs("resources"), "secrets") || slices.Contains(rule.strs("resources"), "*") && slices.Contains(rule.strs("apiGroups"), "") {
				t.Errorf("ClusterRole %s grants Secrets cluster-wide", cr.str("metadata", "name"))
			}
		}
	}
	slices.Sort(secretNS)
	eq(t, "namespaces with Secret access", fmt.Sprint(secretNS), fmt.Sprint(tc.secretNS))
	for _, ns := range tc.secretNS {
		var rb obj
		for _, b := range byKind["RoleBinding"] {
			if b.str("metadata", "namespace") == ns && b.str("metadata", "name") == full+":secret-reader" {
				rb = b
			}
		}
		if rb == nil {
			t.Errorf("no secret-reader RoleBinding in %s", ns)
			continue
		}
		eq(t, "secret-reader subject in "+ns, subjects(rb), webhookSA)
	}

	// Leases in the release namespace.
	leases := one("Role", full+":leases")
	eq(t, "leases namespace", leases.str("metadata", "namespace"), tc.namespace)
	eq(t, "leases rule", fmt.Sprint(leases.get("rules", 0, "apiGroups"), leases.get("rules", 0, "resources"), leases.get("rules", 0, "verbs")),
		"[coordination.k8s.io] [leases] [get create update delete]")
	eq(t, "leases subject", subjects(one("RoleBinding", full+":leases")), webhookSA)
	hasFlowcontrol := false
	for _, cr := range byKind["ClusterRole"] {
		hasFlowcontrol = hasFlowcontrol || cr.str("metadata", "name") == full+":flowcontrol"
	}
	eq(t, "flowcontrol ClusterRole present", fmt.Sprint(hasFlowcontrol), fmt.Sprint(tc.flowcontrol))

	// The Deployment: replicas, non-root, read-only root, port 8443, HTTPS
	// probes, GROUP_NAME and the pod's namespace, the serving Secret.
	dep := one("Deployment", full)
	eq(t, "replicas", fmt.Sprint(dep.get("spec", "replicas")), fmt.Sprint(tc.replicas))
	pod := dep.obj("spec", "template", "spec")
	eq(t, "serviceAccountName", pod.str("serviceAccountName"), full)
	eq(t, "runAsNonRoot", fmt.Sprint(pod.get("securityContext", "runAsNonRoot")), "true")
	ctr := pod.obj("containers", 0)
	eq(t, "image", ctr.str("image"), tc.image)
	eq(t, "readOnlyRootFilesystem", fmt.Sprint(ctr.get("securityContext", "readOnlyRootFilesystem")), "true")
	eq(t, "allowPrivilegeEscalation", fmt.Sprint(ctr.get("securityContext", "allowPrivilegeEscalation")), "false")
	eq(t, "containerPort", fmt.Sprint(ctr.get("ports", 0, "containerPort")), "8443")
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		eq(t, probe, ctr.str(probe, "httpGet", "scheme")+" "+ctr.str(probe, "httpGet", "path"), "HTTPS /healthz")
	}
	args := ctr.strs("args")
	for _, want := range []string{"--secure-port=8443", "--tls-cert-file=/tls/tls.crt", "--tls-private-key-file=/tls/tls.key"} {
		if !slices.Contains(args, want) {
			t.Errorf("webhook args %q lack %s", args, want)
		}
	}
	env := map[string]obj{}
	for _, e := range ctr.list("env") {
		env[e.str("name")] = e
	}
	eq(t, "GROUP_NAME", env["GROUP_NAME"].str("value"), tc.group)
	eq(t, "POD_NAMESPACE", env["POD_NAMESPACE"].str("valueFrom", "fieldRef", "fieldPath"), "metadata.namespace")
	eq(t, "POD_NAME", env["POD_NAME"].str("valueFrom", "fieldRef", "fieldPath"), "metadata.name")
	var tlsVolume string
	for _, v := range pod.list("volumes") {
		if v.str("name") == "certs" {
			tlsVolume = v.str("secret", "secretName")
		}
	}
	eq(t, "serving Secret volume", tlsVolume, servingCert)

	// PKI: the serving Certificate fills that Secret, for the Service's
	// names, from the CA Issuer, whose CA comes from the self-signed Issuer.
	cert := one("Certificate", servingCert)
	eq(t, "serving Certificate secretName", cert.str("spec", "secretName"), servingCert)
	eq(t, "serving Certificate issuer", cert.str("spec", "issuerRef", "name"), full+"-ca")
	if dns := cert.strs("spec", "dnsNames"); !slices.Contains(dns, full+"."+tc.namespace+".svc") {
		t.Errorf("serving Certificate dnsNames %q lack %s.%s.svc", dns, full, tc.namespace)
	}
	ca := one("Certificate", full+"-ca")
	eq(t, "CA Certificate isCA", fmt.Sprint(ca.get("spec", "isCA")), "true")
	eq(t, "CA Certificate issuer", ca.str("spec", "issuerRef", "name"), full+"-selfsign")
	eq(t, "CA Issuer secret", one("Issuer", full+"-ca").str("spec", "ca", "secretName"), full+"-ca")
	if one("Issuer", full+"-selfsign").get("spec", "selfSigned") == nil {
		t.Errorf("Issuer %s-selfsign is not selfSigned", full)
	}
}

// render runs helm template for the chart with the values file (under
// testdata/, none when empty) and returns the manifests.
func render(helm, release, namespace, valuesFile string) (string, error) {
	args := []string{"template", release, chartDir, "--namespace", namespace}
	if valuesFile != "" {
		args = append(args, "--values", filepath.Join("testdata", valuesFile))
	}
	out, err := run(helm, "", args...)
	if err != nil {
		return "", fmt.Errorf("helm %s: %w", strings.Join(args, " "), err)
	}
	return out, nil
}

// run runs a command and returns its standard output; the error carries
// its standard error.
func run(bin, dir string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	// go list and go mod download answer for this module alone, as make
	// test runs it, whatever go.work says.
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// certManagerCRDs returns the deploy/crds directory of the cert-manager
// module this module requires, downloading the module when it is not in the
// module cache yet.
func certManagerCRDs(t *testing.T) string {
	t.Helper()
	const mod = "github.com/cert-manager/cert-manager"
	gocmd := "go"
	if goroot := os.Getenv("GOROOT"); goroot != "" {
		gocmd = filepath.Join(goroot, "bin", "go")
	}
	dir, err := run(gocmd, "", "list", "-m", "-f", "{{.Dir}}", mod)
	if err != nil {
		t.Fatalf("finding %s: %v", mod, err)
	}
	if strings.TrimSpace(dir) == "" {
		out, err := run(gocmd, "", "mod", "download", "-json", mod)
		if err != nil {
			t.Fatalf("downloading %s for its CRDs: %v", mod, err)
		}
		var info struct{ Dir string }
		if err := json.Unmarshal([]byte(out), &info); err != nil {
			t.Fatalf("reading go mod download's answer: %v", err)
		}
		dir = info.Dir
	}
	crds := filepath.Join(strings.TrimSpace(dir), "deploy", "crds")
	if _, err := os.Stat(filepath.Join(crds, "cert-manager.io_certificates.yaml")); err != nil {
		t.Fatalf("cert-manager's CRDs not found in %s: %v", crds, err)
	}
	return crds
}

// obj is a decoded Kubernetes object, read with paths of keys and indexes.
type obj map[string]any

func decodeObjects(s string) ([]obj, error) {
	var objs []obj
	dec := json.NewDecoder(strings.NewReader(s))
	for {
		var o obj
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decoding kubectl's output: %w", err)
		}
		if o.str("kind") == "List" {
			for _, item := range o.list("items") {
				objs = append(objs, item)
			}
			continue
		}
		objs = append(objs, o)
	}
	if len(objs) == 0 {
		return nil, errors.New("kubectl's dry run returned no objects")
	}
	return objs, nil
}

func (o obj) get(path ...any) any {
	var cur any = map[string]any(o)
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = m[k]
		case int:
			l, ok := cur.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			cur = l[k]
		}
	}
	return cur
}

func (o obj) str(path ...any) string {
	s, _ := o.get(path...).(string)
	return s
}

func (o obj) obj(path ...any) obj {
	m, _ := o.get(path...).(map[string]any)
	return m
}

func (o obj) list(path ...any) []obj {
	l, _ := o.get(path...).([]any)
	var out []obj
	for _, v := range l {
		if m, ok := v.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func (o obj) strs(path ...any) []string {
	l, _ := o.get(path...).([]any)
	var out []string
	for _, v := range l {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// subjects renders a binding's subjects as "Kind namespace/name", joined.
func subjects(binding obj) string {
	var s []string
	for _, sub := range binding.list("subjects") {
		s = append(s, sub.str("kind")+" "+sub.str("namespace")+"/"+sub.str("name"))
	}
	return strings.Join(s, ", ")
}

func eq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}
