// Package webhooktest is what the webhook's tests share: a provider's fake
// settings as an Issuer's webhook config and a Secret, the challenge
// requests cert-manager's controller sends, the webhook server run in the
// test process, and DNS lookups of the records it wrote.
package webhooktest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/rest"

	cmwebhook "github.com/cert-manager/cert-manager/pkg/acme/webhook"
	whapi "github.com/cert-manager/cert-manager/pkg/acme/webhook/apis/acme/v1alpha1"
	"github.com/cert-manager/cert-manager/pkg/acme/webhook/cmd/server"
	cmclient "github.com/cert-manager/cert-manager/pkg/issuer/acme/dns/webhook"

	"github.com/acme-dns-hook/acme-dns-hook/certmanager/webhook"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providertest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

// Stack starts provider name's fake API and DNS server for a test, stopped
// by t.Cleanup: its zone holds the shared seed and another client's stale
// challenge value at the apex's challenge name (which must survive), and a
// fake whose records take effect after a delay (HostUp's "pending") serves
// them at once, so DNS answers right after a call.
func Stack(t testing.TB, name string) (*settings.Descriptor, *providertest.Stack) {
	t.Helper()
	d, err := providers.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	seed := append(providertest.Seed(), libdns.RR{Name: "_acme-challenge", Type: "TXT", TTL: 120 * time.Second, Data: "other-client-value"})
	stack, err := providertest.Start(name, providertest.Zone, seed, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	if p, ok := stack.Fake.(interface{ SetPendingFor(time.Duration) }); ok {
		p.SetPendingFor(0)
	}
	return d, stack
}

// Group is the API group the tests serve the solvers under.
const Group = "acme.test.acme-dns-hook.io"

// Config returns the fake's settings as an Issuer's webhook config naming
// Secret secret for every secret setting (key = the setting's camelCase
// name), and that Secret's data.
func Config(d *settings.Descriptor, f providertest.Fake, secret string) (map[string]any, map[string][]byte) {
	cfg := map[string]any{}
	data := map[string][]byte{}
	for k, v := range f.Settings() {
		s := d.Setting(k)
		if s == nil {
			panic(fmt.Sprintf("webhooktest: fake of %s sets %q, which is not a setting", d.Name, k))
		}
		if s.Secret {
			key := strings.TrimSuffix(webhook.ConfigName(s), "SecretRef")
			cfg[webhook.ConfigName(s)] = map[string]string{"name": secret, "key": key}
			data[key] = []byte(v)
			continue
		}
		cfg[webhook.ConfigName(s)] = v
	}
	return cfg, data
}

// FirstSecret returns the first secret setting of d.
func FirstSecret(d *settings.Descriptor) *settings.Setting {
	for i := range d.Settings {
		if d.Settings[i].Secret {
			return &d.Settings[i]
		}
	}
	panic("webhooktest: " + d.Name + " has no secret setting")
}

// Challenge is one challenge as cert-manager's controller knows it.
type Challenge struct {
	Solver, Namespace string
	DNSName, Key      string
	FQDN, Zone        string // resolvedFQDN and resolvedZone
	Ambient           bool
	Config            any // the solver config (the Issuer's webhook.config)
	Group             string
}

// Request is the ChallengeRequest cert-manager's controller hands its
// webhook client: its Config is the whole webhook solver object.
func (c Challenge) Request() *whapi.ChallengeRequest {
	group := c.Group
	if group == "" {
		group = Group
	}
	cfg, _ := json.Marshal(c.Config)
	whole, err := json.Marshal(map[string]any{"groupName": group, "solverName": c.Solver, "config": json.RawMessage(cfg)})
	if err != nil {
		panic(err)
	}
	return &whapi.ChallengeRequest{
		Type:                    "dns-01",
		DNSName:                 c.DNSName,
		Key:                     c.Key,
		ResourceNamespace:       c.Namespace,
		ResolvedFQDN:            c.FQDN,
		ResolvedZone:            c.Zone,
		AllowAmbientCredentials: c.Ambient,
		Config:                  &apiextensionsv1.JSON{Raw: whole},
	}
}

// Client returns cert-manager's controller-side webhook client for the API
// server at cfg.
func Client(t testing.TB, cfg *rest.Config) *cmclient.Webhook {
	t.Helper()
	c := &cmclient.Webhook{}
	if err := c.Initialize(cfg, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

// Serve runs the webhook server of cert-manager's library in this process
// on 127.0.0.1 with authentication and authorization off (every caller is
// allowed), serving solvers under Group, until the test ends. It returns
// the client configuration to reach it once every solver is initialised;
// initialised must receive one value per solver's Initialize.
func Serve(t testing.TB, initialised <-chan struct{}, solvers ...cmwebhook.Solver) *rest.Config {
	t.Helper()
	o := server.NewWebhookServerOptions(Group, solvers...)
	o.RecommendedOptions.Authentication = nil
	o.RecommendedOptions.Authorization = nil
	o.RecommendedOptions.CoreAPI = nil
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o.RecommendedOptions.SecureServing.Listener = ln
	o.RecommendedOptions.SecureServing.BindAddress = net.ParseIP("127.0.0.1")
	o.RecommendedOptions.SecureServing.ServerCert.CertDirectory = t.TempDir()
	srv, err := webhook.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- srv.GenericAPIServer.PrepareRun().RunWithContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Errorf("webhook server: %v", err)
		}
	})
	for range solvers {
		select {
		case <-initialised:
		case err := <-stopped:
			t.Fatalf("webhook server stopped before initialising the solvers: %v", err)
		}
	}
	return &rest.Config{Host: "https://" + ln.Addr().String(), TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
}

// TXT returns the TXT values the DNS server at addr serves at fqdn, sorted.
func TXT(t testing.TB, addr, fqdn string) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(fqdn), dns.TypeTXT)
	c := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("asking %s for TXT %s: %v", addr, fqdn, err)
	}
	var out []string
	for _, rr := range r.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(txt.Txt, ""))
		}
	}
	slices.Sort(out)
	return out
}
