package lego

import (
	"fmt"
	"github.com/acme-dns-hook/acme-dns-hook/legoprovider"
	"github.com/miekg/dns"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certificate"
	"github.com/go-acme/lego/v4/challenge"
	"github.com/go-acme/lego/v4/challenge/dns01"
	"github.com/go-acme/lego/v4/lego"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providertest"
)

func TestMain(m *testing.M) {
	// lego would ask the system resolver for CNAMEs otherwise; set for the
	// whole process so the tests can run in parallel.
	os.Setenv("LEGO_DISABLE_CNAME_SUPPORT", "true")
	os.Exit(m.Run())
}

// TestObtainCertificates obtains an apex + wildcard and a ten-name
// certificate through legoprovider with lego's library, for every
// registered provider, the provider configured through its descriptor.
// The rows run one after another: lego v4 keeps its recursive nameservers
// in a process-wide variable, and each row's stack has a DNS server of its
// own (the race detector saw parallel rows overwrite it).
func TestObtainCertificates(t *testing.T) {
	for _, name := range localstack.Providers() {
		t.Run(name, func(t *testing.T) {
			obtainCertificates(t, name)
		})
	}
}

func obtainCertificates(t *testing.T, provider string) {
	stack, err := localstack.Start(localstack.Options{Provider: provider, CA: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()

	records, err := providertest.Provider(stack.Descriptor, stack.Fake)
	if err != nil {
		t.Fatal(err)
	}
	p, err := legoprovider.NewDNSProviderConfig(&legoprovider.Config{Records: records, TTL: 60, PollingInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := any(p).(interface{ Sequential() }); ok {
		t.Fatal("the provider must not be sequential")
	}
	client := legoClient(t, stack, p)

	ten := []string{"example.test"}
	for i := 1; i < 10; i++ {
		ten = append(ten, fmt.Sprintf("host%d.example.test", i))
	}
	for _, names := range [][]string{{"*.example.test", "example.test"}, ten} {
		t.Run(fmt.Sprint(len(names), " names"), func(t *testing.T) {
			before := stack.Fake.Snapshot(localstack.Zone)
			stack.Fake.ResetCounts()
			res, err := client.Certificate.Obtain(certificate.ObtainRequest{Domains: names, Bundle: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := stack.CA.VerifyChain(res.Certificate, names); err != nil {
				t.Fatal(err)
			}
			if after := stack.Fake.Snapshot(localstack.Zone); !slices.Equal(before, after) {
				t.Errorf("zone changed:\nbefore %q\nafter  %q", before, after)
			}
			if len(stack.Fake.Requests()) == 0 {
				t.Error("no request reached the fake: the certificate did not come through legoprovider")
			}
			t.Logf("%s: API requests %v", strings.Join(names, ","), stack.Fake.Requests())
		})
	}
}

// served reports whether the DNS server at addr answers fqdn's TXT query
// with value among the answers.
func served(addr, fqdn, value string) (bool, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(fqdn), dns.TypeTXT)
	r, err := dns.Exchange(m, addr)
	if err != nil {
		return false, err
	}
	for _, rr := range r.Answer {
		if txt, ok := rr.(*dns.TXT); ok && strings.Join(txt.Txt, "") == value {
			return true, nil
		}
	}
	return false, nil
}

// legoClient registers an account at the stack's Pebble and returns a lego
// client that solves DNS-01 with p.
//
// lego's own check asks the zone's authoritative servers on port 53, which
// the stack cannot be; without it lego would not check the value at all.
// So the check asks the stack's server for the value, as lego asks the
// authoritative servers in production: a provider whose records take a
// while to be served (HostUp's "pending") is waited for. lego follows
// CNAMEs through the same server (its resolvers are process-wide in v4).
func legoClient(t *testing.T, stack *localstack.Stack, p challenge.Provider) *lego.Client {
	t.Helper()
	client, err := stack.LegoClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	err = client.Challenge.SetDNS01Provider(p,
		dns01.AddRecursiveNameservers([]string{stack.DNS.Addr()}),
		dns01.DisableAuthoritativeNssPropagationRequirement(),
		dns01.WrapPreCheck(func(_, fqdn, value string, _ dns01.PreCheckFunc) (bool, error) {
			return served(stack.DNS.Addr(), fqdn, value)
		}))
	if err != nil {
		t.Fatal(err)
	}
	return client
}
