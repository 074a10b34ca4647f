package webhook

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	cmacme "github.com/cert-manager/cert-manager/pkg/apis/acme/v1"
	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"

	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
)

// TestExamples reads testdata/examples/<provider>.yaml, the Secret +
// Issuer and Secret + ClusterIssuer examples README shows for each
// provider: every object decodes strictly into its cert-manager or
// Kubernetes type, and every issuer's webhook config reads and passes the
// provider's rules with the Secrets of the file, in the namespace
// cert-manager would hand the webhook.
func TestExamples(t *testing.T) {
	for _, name := range providers.Names() {
		t.Run(name, func(t *testing.T) {
			d, err := providers.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join("testdata", "examples", name+".yaml"))
			if err != nil {
				t.Fatalf("no example for %s: %v", name, err)
			}
			client := fake.NewClientset()
			type issuer struct {
				ns      string
				webhook *cmacme.ACMEIssuerDNS01ProviderWebhook
			}
			var issuers []issuer
			kinds := map[string]int{}
			for _, doc := range strings.Split(string(b), "\n---\n") {
				var meta metav1.TypeMeta
				if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
					t.Fatal(err)
				}
				kinds[meta.Kind]++
				var spec *cmapi.IssuerSpec
				ns := ""
				switch meta.Kind {
				case "Secret":
					var s corev1.Secret
					if err := yaml.UnmarshalStrict([]byte(doc), &s); err != nil {
						t.Fatalf("Secret: %v", err)
					}
					if _, err := client.CoreV1().Secrets(s.Namespace).Create(context.Background(), &s, metav1.CreateOptions{}); err != nil {
						t.Fatal(err)
					}
					continue
				case "Issuer":
					var is cmapi.Issuer
					if err := yaml.UnmarshalStrict([]byte(doc), &is); err != nil {
						t.Fatalf("Issuer: %v", err)
					}
					spec, ns = &is.Spec, is.Namespace
				case "ClusterIssuer":
					var is cmapi.ClusterIssuer
					if err := yaml.UnmarshalStrict([]byte(doc), &is); err != nil {
						t.Fatalf("ClusterIssuer: %v", err)
					}
					spec, ns = &is.Spec, "cert-manager" // cert-manager's cluster resource namespace by default
				default:
					t.Fatalf("unexpected kind %q", meta.Kind)
				}
				if spec.ACME == nil || len(spec.ACME.Solvers) != 1 || spec.ACME.Solvers[0].DNS01 == nil || spec.ACME.Solvers[0].DNS01.Webhook == nil {
					t.Fatalf("%s has no single dns01 webhook solver", meta.Kind)
				}
				issuers = append(issuers, issuer{ns, spec.ACME.Solvers[0].DNS01.Webhook})
			}
			if kinds["Issuer"] == 0 || kinds["ClusterIssuer"] == 0 {
				t.Errorf("example has kinds %v, want an Issuer and a ClusterIssuer", kinds)
			}
			for _, is := range issuers {
				if is.webhook.SolverName != name || is.webhook.GroupName != "acme.example.com" {
					t.Errorf("solver %q of group %q", is.webhook.SolverName, is.webhook.GroupName)
				}
				if _, err := readConfig(context.Background(), d, is.webhook.Config.Raw, is.ns, client, false, nil); err != nil {
					t.Errorf("config of the issuer in %s: %v", is.ns, err)
				}
			}
		})
	}
}
