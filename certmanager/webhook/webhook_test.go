package webhook_test

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/acme-dns-hook/acme-dns-hook/certmanager/internal/webhooktest"
	"github.com/acme-dns-hook/acme-dns-hook/certmanager/lease"
	"github.com/acme-dns-hook/acme-dns-hook/certmanager/webhook"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providertest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

// wrongKey is what the Secret "wrong" holds for every secret setting: a
// value no response or log line may ever show.
const wrongKey = "WRONG-recognisable-7f3a9c0d"

// lockedNamespace is a namespace whose Secrets the webhook may not read.
const lockedNamespace = "locked"

// diff lists the snapshot lines only in a (-) and only in b (+).
func diff(a, b []string) string {
	var out []string
	for _, l := range a {
		if !slices.Contains(b, l) {
			out = append(out, "-"+l)
		}
	}
	for _, l := range b {
		if !slices.Contains(a, l) {
			out = append(out, "+"+l)
		}
	}
	if len(out) == 0 {
		return "same lines, other order"
	}
	return strings.Join(out, "\n")
}

// TestInProcess serves every provider's solver from cert-manager's webhook
// server in this process and drives it with cert-manager's own
// controller-side client, each provider against its fake API and a DNS
// server answering from the fake: apex and wildcard values at one name,
// presented twice and cleaned up twice, the zone byte for byte as it was;
// cert-manager's resolvedZone corrected from the account's zones; and each
// user error worded as cert-manager shows it, never with a secret.
func TestInProcess(t *testing.T) {
	var logs apitest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	clients := fake.NewClientset()
	clients.PrependReactor("get", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() == lockedNamespace {
			g := a.(k8stesting.GetAction)
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, g.GetName(), fmt.Errorf("RBAC: access denied"))
		}
		return false, nil, nil
	})
	// ambient is the webhook's own environment: the current stack's
	// settings as the environment names them.
	var ambientMu sync.Mutex
	var ambient settings.Env
	initialised := make(chan struct{}, 16)
	solvers := webhook.Solvers(webhook.Options{
		Client: func(*rest.Config) (kubernetes.Interface, error) {
			initialised <- struct{}{}
			return clients, nil
		},
		Lock: func(c kubernetes.Interface) (webhook.Lock, error) {
			l := &lease.Locker{Client: c, Namespace: "webhook", Identity: "in-process-test"}
			return l.Lock, nil
		},
		Env: func(name string) (string, bool) {
			ambientMu.Lock()
			defer ambientMu.Unlock()
			if ambient == nil {
				return "", false
			}
			return ambient(name)
		},
		Log: log,
	})
	if len(solvers) != len(providers.Names()) {
		t.Fatalf("%d solvers for %d providers", len(solvers), len(providers.Names()))
	}
	served := webhooktest.Serve(t, initialised, solvers...)
	cm := webhooktest.Client(t, served)

	// On the wire, a solver's error is HTTP 201 with success false and the
	// sentence in status.message, which cert-manager puts on the Challenge.
	t.Run("wire", func(t *testing.T) {
		body := `{"apiVersion":"webhook.acme.cert-manager.io/v1alpha1","kind":"ChallengePayload","request":{"uid":"","action":"Present","type":"dns-01","dnsName":"example.test","key":"k","resourceNamespace":"ns","resolvedFQDN":"_acme-challenge.example.test.","resolvedZone":"example.test.","allowAmbientCredentials":false,"config":{"apiToken":"x"}}}`
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		resp, err := client.Post(served.Host+"/apis/"+webhooktest.Group+"/v1alpha1/mijnhost", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Response struct {
				Success bool
				Status  struct{ Status, Message string }
			}
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		want := `unknown field "apiToken" in the webhook config of solver mijnhost: use apiKeySecretRef, apiUrl, ttl`
		if resp.StatusCode != http.StatusCreated || out.Response.Success || out.Response.Status.Status != "Failure" && out.Response.Status.Status != "Failed" || out.Response.Status.Message != want {
			t.Errorf("HTTP %d, %+v; want 201, success false, message %q", resp.StatusCode, out.Response, want)
		}
	})

	var secrets []string // every secret value a stack was configured with
	var messages []string
	for _, name := range providertest.Names() {
		t.Run(name, func(t *testing.T) {
			d, stack := webhooktest.Stack(t, name)
			secrets = append(secrets, stack.Secrets()...)
			ambientMu.Lock()
			ambient = providertest.Env(d, stack.Fake)
			ambientMu.Unlock()
			ns := "ns-" + name
			cfg, data := webhooktest.Config(d, stack.Fake, "creds")
			wrong := map[string][]byte{}
			for k := range data {
				wrong[k] = []byte(wrongKey)
			}
			for sname, data := range map[string]map[string][]byte{"creds": data, "wrong": wrong} {
				for _, n := range []string{ns, lockedNamespace} {
					if _, err := clients.CoreV1().Secrets(n).Create(t.Context(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: sname, Namespace: n}, Data: data}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
						t.Fatal(err)
					}
				}
			}
			const zone = providertest.Zone + "."
			const fqdn = "_acme-challenge." + zone
			ch := func(dnsName, key string) webhooktest.Challenge {
				return webhooktest.Challenge{Solver: name, Namespace: ns, DNSName: dnsName, Key: key, FQDN: fqdn, Zone: zone, Config: cfg}
			}
			before := stack.Fake.Snapshot(providertest.Zone)
			apex, wild := ch(providertest.Zone, "apex-value-1"), ch("*."+providertest.Zone, "wildcard-value-2")

			t.Run("apex and wildcard", func(t *testing.T) {
				for _, c := range []webhooktest.Challenge{apex, wild} {
					if err := cm.Present(c.Request()); err != nil {
						t.Fatalf("present %s: %v", c.DNSName, err)
					}
				}
				want := []string{"apex-value-1", "other-client-value", "wildcard-value-2"}
				if got := webhooktest.TXT(t, stack.DNS.Addr(), fqdn); !slices.Equal(got, want) {
					t.Fatalf("after presents DNS serves %q, want %q", got, want)
				}
				presented := stack.Fake.Snapshot(providertest.Zone)
				if err := cm.Present(apex.Request()); err != nil {
					t.Fatalf("present again: %v", err)
				}
				if again := stack.Fake.Snapshot(providertest.Zone); !slices.Equal(again, presented) {
					t.Errorf("presenting a value again changed the zone: %s", diff(presented, again))
				}
				for range 2 { // CleanUp is idempotent
					if err := cm.CleanUp(wild.Request()); err != nil {
						t.Fatalf("cleanup wildcard: %v", err)
					}
				}
				want = []string{"apex-value-1", "other-client-value"}
				if got := webhooktest.TXT(t, stack.DNS.Addr(), fqdn); !slices.Equal(got, want) {
					t.Fatalf("after the wildcard's cleanup DNS serves %q, want %q", got, want)
				}
				if err := cm.CleanUp(apex.Request()); err != nil {
					t.Fatalf("cleanup apex: %v", err)
				}
				if after := stack.Fake.Snapshot(providertest.Zone); !slices.Equal(after, before) {
					t.Errorf("zone after cleanup differs from before: %s", diff(before, after))
				}
			})

			t.Run("split horizon", func(t *testing.T) {
				// cert-manager's resolver saw a zone sub.example.test (an
				// internal view); the account holds example.test.
				c := ch("sub."+providertest.Zone, "split-value")
				c.FQDN, c.Zone = "_acme-challenge.sub."+zone, "sub."+zone
				if err := cm.Present(c.Request()); err != nil {
					t.Fatalf("present: %v", err)
				}
				if got := webhooktest.TXT(t, stack.DNS.Addr(), c.FQDN); !slices.Equal(got, []string{"split-value"}) {
					t.Errorf("DNS serves %q at %s", got, c.FQDN)
				}
				line := fmt.Sprintf("cert-manager resolved the zone of %s as %s, but the %s account's deepest zone holding it is %s: using %s (split-horizon DNS?)", c.FQDN, c.Zone, name, zone, zone)
				if !strings.Contains(logs.String(), line) {
					t.Errorf("log lacks %q:\n%s", line, logs.String())
				}
				if err := cm.CleanUp(c.Request()); err != nil {
					t.Fatalf("cleanup: %v", err)
				}
				if after := stack.Fake.Snapshot(providertest.Zone); !slices.Equal(after, before) {
					t.Errorf("zone after cleanup differs from before: %s", diff(before, after))
				}
			})

			t.Run("ambient credentials", func(t *testing.T) {
				// No settings in the config: with ambient credentials
				// allowed, the webhook's environment holds them.
				c := ch(providertest.Zone, "ambient-value")
				c.Config, c.Ambient = map[string]any{}, true
				if err := cm.Present(c.Request()); err != nil {
					t.Fatalf("present: %v", err)
				}
				if got := webhooktest.TXT(t, stack.DNS.Addr(), fqdn); !slices.Contains(got, "ambient-value") {
					t.Errorf("DNS serves %q", got)
				}
				if err := cm.CleanUp(c.Request()); err != nil {
					t.Fatalf("cleanup: %v", err)
				}
				if after := stack.Fake.Snapshot(providertest.Zone); !slices.Equal(after, before) {
					t.Errorf("zone after cleanup differs from before: %s", diff(before, after))
				}
			})

			first := webhooktest.FirstSecret(d)
			field := webhook.ConfigName(first)
			key := strings.TrimSuffix(field, "SecretRef")
			with := func(change func(map[string]any)) map[string]any {
				out := map[string]any{}
				for k, v := range cfg {
					out[k] = v
				}
				change(out)
				return out
			}
			for _, tc := range []struct {
				name   string
				config map[string]any
				ns     string
				fqdn   string
				want   string
			}{
				{"missing secret", with(func(c map[string]any) { c[field] = map[string]string{"name": "absent", "key": key} }), ns, "",
					fmt.Sprintf("Secret %q named by %s does not exist in namespace %s: create it there", "absent", field, ns)},
				{"missing key", with(func(c map[string]any) { c[field] = map[string]string{"name": "creds", "key": "nokey"} }), ns, "",
					fmt.Sprintf("Secret %q in namespace %s has no key %q (named by %s.key; it has keys", "creds", ns, "nokey", field)},
				{"forbidden secret", cfg, lockedNamespace, "",
					fmt.Sprintf("the webhook may not read Secret %q in namespace %s (named by %s): add %s to the chart value secretNamespaces", "creds", lockedNamespace, field, lockedNamespace)},
				{"unknown field", with(func(c map[string]any) { c["apiToken"] = "x" }), ns, "",
					fmt.Sprintf("unknown field %q in the webhook config of solver %s: use %s", "apiToken", name, strings.Join(webhook.ConfigNames(d), ", "))},
				{"inline secret", with(func(c map[string]any) { c[key] = wrongKey }), ns, "",
					fmt.Sprintf("%s of solver %s is a secret and is not taken inline: put it in a Secret and set %s", key, name, field)},
				{"rejected credential", with(func(c map[string]any) {
					for k, v := range c {
						if ref, ok := v.(map[string]string); ok {
							c[k] = map[string]string{"name": "wrong", "key": ref["key"]}
						}
					}
				}), ns, "", "solver " + name + ": "},
				{"name of no account zone", cfg, ns, "_acme-challenge.example.invalid.",
					fmt.Sprintf("no zone of the %s account holds _acme-challenge.example.invalid. (its zones: example.test.): add the domain to that account", name)},
				{"ambient credentials not allowed", map[string]any{}, ns, "",
					fmt.Sprintf("solver %s: %s is not set: set it to {name, key} of a Secret in namespace %s holding", name, field, ns)},
				{"bad ttl", with(func(c map[string]any) { c["ttl"] = 100000 }), ns, "", "solver " + name + ": ttl 100000 is out of range: use whole seconds from"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					before := stack.Fake.Snapshot(providertest.Zone)
					c := ch(providertest.Zone, "error-value")
					c.Config, c.Namespace = tc.config, tc.ns
					if tc.fqdn != "" {
						c.FQDN = tc.fqdn
					}
					for verb, call := range map[string]func() error{
						"present": func() error { return cm.Present(c.Request()) },
						"cleanup": func() error { return cm.CleanUp(c.Request()) },
					} {
						err := call()
						if err == nil {
							t.Fatalf("%s succeeded", verb)
						}
						msg := err.Error()
						messages = append(messages, msg)
						t.Logf("%s: %s", verb, msg)
						if !strings.Contains(msg, tc.want) {
							t.Errorf("%s: message %q lacks %q", verb, msg, tc.want)
						}
						if strings.Contains(msg, "\n") {
							t.Errorf("%s: message is not one line: %q", verb, msg)
						}
					}
					if after := stack.Fake.Snapshot(providertest.Zone); !slices.Equal(after, before) {
						t.Errorf("a refused call changed the zone: %s", diff(before, after))
					}
				})
			}
		})
	}
	out := logs.String() + strings.Join(messages, "\n")
	for _, s := range append(secrets, wrongKey) {
		if strings.Contains(out, s) {
			t.Errorf("secret %q appears in a response or the log", s)
		}
	}
}
