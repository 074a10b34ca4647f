//go:build k8s

package webhook_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	acmetest "github.com/cert-manager/cert-manager/test/acme"

	// Before cert-manager's test packages initialise: the Kubernetes
	// binaries, or a failure saying how to build them.
	_ "github.com/acme-dns-hook/acme-dns-hook/certmanager/internal/k8senv"

	"github.com/acme-dns-hook/acme-dns-hook/certmanager/internal/webhooktest"
	"github.com/acme-dns-hook/acme-dns-hook/certmanager/lease"
	"github.com/acme-dns-hook/acme-dns-hook/certmanager/webhook"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providertest"
)

// TestConformance runs cert-manager's own DNS-01 webhook conformance suite,
// strict, for every provider's solver against the provider's fake API,
// checking records through the project's DNS server on loopback (not
// authoritative lookups, not 8.8.8.8). The suite reads the credentials
// from a Secret it applies in each test namespace with kubectl, through a
// real kube-apiserver it starts (RunBasic and RunExtended start one each);
// zone writes take real Leases there. The zone is byte for byte as before.
func TestConformance(t *testing.T) {
	for _, name := range providertest.Names() {
		t.Run(name, func(t *testing.T) {
			d, stack := webhooktest.Stack(t, name)
			before := stack.Fake.Snapshot(providertest.Zone)
			cfg, data := webhooktest.Config(d, stack.Fake, "conformance-creds")
			dir := t.TempDir()
			var secret strings.Builder
			secret.WriteString("apiVersion: v1\nkind: Secret\nmetadata:\n  name: conformance-creds\ndata:\n")
			for _, k := range slices.Sorted(func(yield func(string) bool) {
				for k := range data {
					if !yield(k) {
						return
					}
				}
			}) {
				fmt.Fprintf(&secret, "  %s: %s\n", k, base64.StdEncoding.EncodeToString(data[k]))
			}
			if err := os.WriteFile(filepath.Join(dir, "secret.yaml"), []byte(secret.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			var solver *webhook.Solver
			for _, s := range webhook.Solvers(webhook.Options{
				Lock: func(c kubernetes.Interface) (webhook.Lock, error) {
					l := &lease.Locker{Client: c, Namespace: "default", Identity: lease.Identity()}
					return l.Lock, nil
				},
			}) {
				if s.Name() == name {
					solver = s.(*webhook.Solver)
				}
			}
			fixture := acmetest.NewFixture(solver,
				acmetest.SetResolvedZone(providertest.Zone+"."),
				acmetest.SetResolvedFQDN("cert-manager-dns01-tests."+providertest.Zone+"."),
				acmetest.SetAllowAmbientCredentials(false),
				acmetest.SetConfig(cfg),
				acmetest.SetManifestPath(dir),
				acmetest.SetStrict(true),
				acmetest.SetDNSServer(stack.DNS.Addr()),
				acmetest.SetUseAuthoritative(false),
				acmetest.SetPollInterval(100*time.Millisecond),
				acmetest.SetPropagationLimit(30*time.Second),
			)
			fixture.RunBasic(t)
			fixture.RunExtended(t)
			if after := stack.Fake.Snapshot(providertest.Zone); !slices.Equal(after, before) {
				t.Errorf("zone after the suite differs from before: %s", diff(before, after))
			}
		})
	}
}
