package lego

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certificate"
	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/legoprovider"
)

// TestSeveralAccounts obtains one certificate for names at two providers
// through legoprovider built from the environment (credentials of both,
// ACME_HOOK_PROVIDER=a,b), lego following CNAMEs itself: example.test is
// in the first account; www.example.org in the second; example.org's
// challenge is a CNAME from the second account's zone into the first's,
// so lego hands over a name the first account holds. Each record must go
// to the account holding the longest zone containing the name lego hands
// over, and every zone must end as it began.
//
// Not parallel: lego reads LEGO_DISABLE_CNAME_SUPPORT and keeps its
// resolvers process-wide, and the provider is read from the process
// environment.
func TestSeveralAccounts(t *testing.T) {
	ps := localstack.Providers()
	for i := range 2 {
		first, second := ps[(2*i)%len(ps)], ps[(2*i+1)%len(ps)]
		t.Run(first+"_and_"+second, func(t *testing.T) { obtainAtTwo(t, first, second) })
	}
}

func obtainAtTwo(t *testing.T, first, second string) {
	rec := func(name, typ, data string) libdns.RR {
		return libdns.RR{Name: name, Type: typ, TTL: time.Hour, Data: data}
	}
	stack, err := localstack.Start(localstack.Options{Provider: first, CA: true, Others: []localstack.Other{{
		Provider: second, Zone: "example.org",
		Seed: []libdns.RR{rec("www", "A", "192.0.2.80"), rec("_acme-challenge", "CNAME", "example-org.acme.example.test.")},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	before := stack.Snapshots()

	// The environment of a program on lego with both accounts configured.
	for _, d := range providers.All() {
		for _, kv := range os.Environ() {
			if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, d.Env) || strings.HasPrefix(k, "ACME_HOOK_") {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
		}
	}
	for _, kv := range stack.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("LEGO_DISABLE_CNAME_SUPPORT", "false")
	p, err := legoprovider.NewDNSProvider()
	if err != nil {
		t.Fatal(err)
	}

	client := legoClient(t, stack, p)
	names := []string{"example.test", "*.example.test", "www.example.org", "example.org"}
	res, err := client.Certificate.Obtain(certificate.ObtainRequest{Domains: names, Bundle: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := stack.CA.VerifyChain(res.Certificate, names); err != nil {
		t.Fatal(err)
	}
	after := stack.Snapshots()
	for z, b := range before {
		if !slices.Equal(after[z], b) {
			t.Errorf("zone %s changed:\nbefore %q\nafter  %q", z, b, after[z])
		}
	}
	for _, a := range stack.Accounts {
		t.Logf("%s: API requests %v", a.Provider, a.Fake.Requests())
	}
}
