//go:build k8s

package main_test

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	whapi "github.com/cert-manager/cert-manager/pkg/acme/webhook/apis/acme/v1alpha1"

	"github.com/acme-dns-hook/acme-dns-hook/certmanager/internal/webhooktest"
	"github.com/acme-dns-hook/acme-dns-hook/certmanager/webhook"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providertest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

func insecureHTTP() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
}

// applySecret creates (or replaces) Secret name in ns with data, as the admin.
func (c *chain) applySecret(t *testing.T, ns, name string, data map[string][]byte) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n", name, ns)
	for k, v := range data {
		fmt.Fprintf(&b, "  %s: %s\n", k, base64.StdEncoding.EncodeToString(v))
	}
	c.cluster.Apply(t, b.String())
}

const wrongKey = "WRONG-recognisable-5e1d7b22"

// TestChain is the whole path a certificate's challenge takes in a
// cluster: cert-manager's controller-side webhook client, with a token of
// cert-manager's ServiceAccount, calls kube-apiserver, whose aggregation
// layer proxies to the built webhook binary behind an APIService; the
// webhook authenticates and authorises the call through kube-apiserver,
// reads the Issuer's Secret with its own ServiceAccount under the chart's
// RBAC, and writes through each provider's fake. Apex and wildcard values
// are presented and cleaned up for every provider, the zone byte for byte
// as before; the errors users meet are reproduced and their messages
// asserted, and no secret reaches a response or the webhook's log.
func TestChain(t *testing.T) {
	c := startChain(t)
	r := c.startReplica(t, "webhook-0")
	c.expose(t, r)
	cm := webhooktest.Client(t, c.as(t, cmNamespace, cmAccount))

	var secrets []string
	var messages []string
	for _, name := range providertest.Names() {
		t.Run(name, func(t *testing.T) {
			d, stack := webhooktest.Stack(t, name)
			secrets = append(secrets, stack.Secrets()...)
			before := stack.Fake.Snapshot(providertest.Zone)
			secret := name + "-creds"
			cfg, data := webhooktest.Config(d, stack.Fake, secret)
			for _, ns := range []string{issuerNS, unlistedNS} {
				c.applySecret(t, ns, secret, data)
			}
			const zone = providertest.Zone + "."
			const fqdn = "_acme-challenge." + zone
			ch := func(dnsName, key string) webhooktest.Challenge {
				return webhooktest.Challenge{Solver: name, Namespace: issuerNS, DNSName: dnsName, Key: key, FQDN: fqdn, Zone: zone, Config: cfg, Group: group}
			}
			apex, wild := ch(providertest.Zone, "chain-apex-1"), ch("*."+providertest.Zone, "chain-wildcard-2")
			for _, x := range []webhooktest.Challenge{apex, wild, apex} {
				if err := cm.Present(x.Request()); err != nil {
					t.Fatalf("present %s: %v", x.DNSName, err)
				}
			}
			want := []string{"chain-apex-1", "chain-wildcard-2", "other-client-value"}
			if got := webhooktest.TXT(t, stack.DNS.Addr(), fqdn); !slices.Equal(got, want) {
				t.Fatalf("after presents DNS serves %q, want %q", got, want)
			}
			for _, x := range []webhooktest.Challenge{wild, apex, apex} {
				if err := cm.CleanUp(x.Request()); err != nil {
					t.Fatalf("cleanup %s: %v", x.DNSName, err)
				}
			}
			if after := stack.Fake.Snapshot(providertest.Zone); !slices.Equal(after, before) {
				t.Fatalf("zone after cleanup differs from before:\n%q\nwas\n%q", after, before)
			}

			field := webhookFieldOfFirstSecret(d)
			notCM := webhooktest.Client(t, c.as(t, cmNamespace, "not-cert-manager"))
			for _, tc := range []struct {
				name   string
				client interface {
					Present(*whRequest) error
				}
				change func(*webhooktest.Challenge)
				want   string
			}{
				{"secret in a namespace not listed", cm, func(x *webhooktest.Challenge) { x.Namespace = unlistedNS },
					fmt.Sprintf("the webhook may not read Secret %q in namespace %s (named by %s): add %s to the chart value secretNamespaces", secret, unlistedNS, field, unlistedNS)},
				{"missing secret", cm, func(x *webhooktest.Challenge) { x.Namespace = cmNamespace },
					fmt.Sprintf("Secret %q named by %s does not exist in namespace %s: create it there", secret, field, cmNamespace)},
				{"caller without the domain-solver role", notCM, func(*webhooktest.Challenge) {},
					fmt.Sprintf(`User "system:serviceaccount:%s:not-cert-manager" cannot create resource %q in API group %q`, cmNamespace, name, group)},
				{"wrong groupName", cm, func(x *webhooktest.Challenge) { x.Group = "acme.wrong.example" },
					fmt.Sprintf(`User "system:serviceaccount:%s:%s" cannot create resource %q in API group "acme.wrong.example"`, cmNamespace, cmAccount, name)},
				{"unknown field", cm, func(x *webhooktest.Challenge) {
					m := map[string]any{"apiToken": "x"}
					for k, v := range cfg {
						m[k] = v
					}
					x.Config = m
				}, fmt.Sprintf("unknown field %q in the webhook config of solver %s: use", "apiToken", name)},
			} {
				t.Run(tc.name, func(t *testing.T) {
					x := ch(providertest.Zone, "chain-error")
					tc.change(&x)
					err := tc.client.Present(x.Request())
					if err == nil {
						t.Fatal("present succeeded")
					}
					messages = append(messages, err.Error())
					t.Logf("message: %s", err)
					if !strings.Contains(err.Error(), tc.want) {
						t.Errorf("message %q lacks %q", err, tc.want)
					}
				})
			}
			if after := stack.Fake.Snapshot(providertest.Zone); !slices.Equal(after, before) {
				t.Errorf("a refused call changed the zone")
			}

			t.Run("rejected credential", func(t *testing.T) {
				wrong := map[string][]byte{}
				for k := range data {
					wrong[k] = []byte(wrongKey)
				}
				c.applySecret(t, issuerNS, secret+"-wrong", wrong)
				wcfg, _ := webhooktest.Config(d, stack.Fake, secret+"-wrong")
				x := ch(providertest.Zone, "chain-error")
				x.Config = wcfg
				err := cm.Present(x.Request())
				if err == nil {
					t.Fatal("present with a wrong credential succeeded")
				}
				messages = append(messages, err.Error())
				t.Logf("message: %s", err)
				if !strings.HasPrefix(err.Error(), "solver "+name+": ") {
					t.Errorf("message %q does not name the solver", err)
				}
			})
		})
	}
	out := r.log.String() + strings.Join(messages, "\n")
	for _, s := range append(secrets, wrongKey) {
		if strings.Contains(out, s) {
			t.Errorf("secret %q appears in a response or the webhook's log", s)
		}
	}
}

// whRequest is the request type of cert-manager's webhook client.
type whRequest = whapi.ChallengeRequest

func webhookFieldOfFirstSecret(d *settings.Descriptor) string {
	return webhook.ConfigName(webhooktest.FirstSecret(d))
}

// TestTwoReplicas runs two webhook processes, each its own Lease holder,
// against one kube-apiserver, and has cert-manager's client present 40
// challenges of one zone at once, 20 through each replica, then clean them
// up: every value must be served after the presents (the count of those
// that are not is the lost-record count, which must be 0), and the zone
// must be byte for byte as before after the cleanups. mijn.host, Realtime
// Register and Xynta replace the whole zone on each write, so only the
// Lease per zone keeps one replica's write from overwriting the other's.
func TestTwoReplicas(t *testing.T) {
	c := startChain(t)
	replicas := []*replica{c.startReplica(t, "webhook-a"), c.startReplica(t, "webhook-b")}
	cmCfg := c.as(t, cmNamespace, cmAccount)
	var clients []interface {
		Present(*whRequest) error
		CleanUp(*whRequest) error
	}
	for _, r := range replicas {
		clients = append(clients, webhooktest.Client(t, direct(cmCfg, r)))
	}
	total := 0
	for _, name := range providertest.Names() {
		t.Run(name, func(t *testing.T) {
			d, stack := webhooktest.Stack(t, name)
			// Each API call takes a while, as a real API's does, so that
			// the two replicas' read-modify-write cycles overlap.
			stack.Fake.SetLatency(20 * time.Millisecond)
			before := stack.Fake.Snapshot(providertest.Zone)
			secret := name + "-replicas"
			cfg, data := webhooktest.Config(d, stack.Fake, secret)
			c.applySecret(t, issuerNS, secret, data)
			chs := make([]webhooktest.Challenge, 40)
			for i := range chs {
				dn := fmt.Sprintf("host%02d.%s", i, providertest.Zone)
				chs[i] = webhooktest.Challenge{Solver: name, Namespace: issuerNS, DNSName: dn, Key: fmt.Sprintf("replica-value-%02d", i),
					FQDN: "_acme-challenge." + dn + ".", Zone: providertest.Zone + ".", Config: cfg, Group: group}
			}
			all := func(verb string, call func(int) error) {
				var wg sync.WaitGroup
				errs := make([]error, len(chs))
				start := make(chan struct{})
				for i := range chs {
					wg.Go(func() {
						<-start
						errs[i] = call(i)
					})
				}
				close(start)
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Errorf("%s %s through replica %d: %v", verb, chs[i].DNSName, i%2, err)
					}
				}
			}
			all("present", func(i int) error { return clients[i%2].Present(chs[i].Request()) })
			lost := 0
			for _, x := range chs {
				if got := webhooktest.TXT(t, stack.DNS.Addr(), x.FQDN); !slices.Equal(got, []string{x.Key}) {
					lost++
					t.Logf("%s serves %q, want %q", x.FQDN, got, x.Key)
				}
			}
			total += lost
			t.Logf("%s: %d of %d presented values lost", name, lost, len(chs))
			if lost > 0 {
				t.Errorf("%d records lost", lost)
			}
			all("cleanup", func(i int) error { return clients[(i+1)%2].CleanUp(chs[i].Request()) })
			if after := stack.Fake.Snapshot(providertest.Zone); !slices.Equal(after, before) {
				t.Errorf("zone after cleanups differs from before:\n%q\nwas\n%q", after, before)
			}
		})
	}
	t.Logf("lost records across providers: %d", total)
	// Each replica releases a zone's Lease right after the write whose
	// results it has handed back, so the last release may trail the last
	// answer: list the Leases, then watch them from that list until none is
	// held, within a bound.
	waitLeasesReleased(t, c, cmNamespace, 15*time.Second)
}

// waitLeasesReleased lists the zone Leases of ns, then follows their
// changes with a watch from the list's resourceVersion until no Lease has
// a holder; it fails the test when none was ever taken, or when one is
// still held after timeout.
func waitLeasesReleased(t *testing.T, c *chain, ns string, timeout time.Duration) {
	t.Helper()
	type lease struct {
		Metadata struct {
			Name            string `json:"name"`
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Spec struct {
			HolderIdentity string `json:"holderIdentity"`
		} `json:"spec"`
	}
	base := c.cluster.URL + "/apis/coordination.k8s.io/v1/namespaces/" + ns + "/leases"
	client := c.cluster.AdminHTTPClient()
	resp, err := client.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items []lease `json:"items"`
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("listing Leases: %v", err)
	}
	holders := map[string]string{} // zone Lease name -> holder ("" when free)
	for _, l := range list.Items {
		if strings.HasPrefix(l.Metadata.Name, "acme-dns-hook-") {
			holders[l.Metadata.Name] = l.Spec.HolderIdentity
		}
	}
	if len(holders) == 0 {
		t.Fatalf("no zone Lease was taken in %s", ns)
	}
	held := func() []string {
		var out []string
		for name, h := range holders {
			if h != "" {
				out = append(out, name+"="+h)
			}
		}
		return out
	}
	if len(held()) == 0 {
		t.Logf("leases, all released: %v", holders)
		return
	}
	resp, err = client.Get(fmt.Sprintf("%s?watch=true&resourceVersion=%s&timeoutSeconds=%d", base, list.Metadata.ResourceVersion, int(timeout/time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var ev struct {
			Type   string `json:"type"`
			Object lease  `json:"object"`
		}
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("Leases still held %v after every call returned: %s (watch: %v)", timeout, held(), err)
		}
		if name := ev.Object.Metadata.Name; strings.HasPrefix(name, "acme-dns-hook-") {
			holders[name] = ev.Object.Spec.HolderIdentity
			if ev.Type == "DELETED" {
				delete(holders, name)
			}
		}
		if len(held()) == 0 {
			t.Logf("leases, all released: %v", holders)
			return
		}
	}
}
