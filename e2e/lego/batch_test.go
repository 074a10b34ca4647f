package lego

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certificate"
	"github.com/go-acme/lego/v4/challenge/dns01"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/legoprovider"
)

// tenNames are ten names of the stack's zone.
func tenNames() []string {
	names := []string{"example.test"}
	for i := 1; i < 10; i++ {
		names = append(names, fmt.Sprintf("host%d.example.test", i))
	}
	return names
}

// fromEnv builds legoprovider as a program does (NewDNSProvider) from the
// stack's environment plus extra, with nothing else of the process's
// provider environment. Not parallel: it sets the process environment.
func fromEnv(t *testing.T, stack *localstack.Stack, extra ...string) *legoprovider.DNSProvider {
	t.Helper()
	for _, d := range providers.All() {
		for _, kv := range os.Environ() {
			if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, d.Env) || strings.HasPrefix(k, "ACME_HOOK_") {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
		}
	}
	for _, kv := range append(stack.Env(), extra...) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	p, err := legoprovider.NewDNSProvider()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRequestCounts obtains a ten-name certificate of one zone with lego's
// library through legoprovider built from the environment, at mijn.host's
// fake, and counts its requests exactly. By default each present costs
// one zone read and one write, and the ten cleanups one read and one
// write in all (lego cleans up back to back; the zone's last cleanup
// deletes all ten); with MIJNHOST_BATCH_PRESENTS=true the presents cost
// one read and one write too. One zone listing in both.
func TestRequestCounts(t *testing.T) {
	const (
		list = mijnhosttest.EndpointListDomains
		get  = mijnhosttest.EndpointGetRecords
		put  = mijnhosttest.EndpointPutRecords
	)
	tests := []struct {
		name  string
		extra []string
		want  map[string]int
	}{
		{"default", nil, map[string]int{list: 1, get: 10 + 1, put: 10 + 1}},
		{"batched presents", []string{"MIJNHOST_BATCH_PRESENTS=true"}, map[string]int{list: 1, get: 1 + 1, put: 1 + 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack, err := localstack.Start(localstack.Options{Provider: "mijnhost", CA: true})
			if err != nil {
				t.Fatal(err)
			}
			defer stack.Close()
			p := fromEnv(t, stack, tt.extra...)
			client := legoClient(t, stack, p)
			names := tenNames()
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
			if got := stack.Fake.Requests(); !maps.Equal(got, tt.want) {
				t.Errorf("API requests %v, want %v", got, tt.want)
			}
		})
	}
}

// failingTimeout makes every request of the batched write fail: lego's
// first Timeout call is what writes the batch.
type failingTimeout struct {
	*legoprovider.DNSProvider
	stack *localstack.Stack
	once  bool
}

func (f *failingTimeout) Timeout() (timeout, interval time.Duration) {
	if !f.once {
		f.once = true
		f.stack.Fake.FailServerErrors(4) // every try of the zone read
	}
	return f.DNSProvider.Timeout()
}

// TestFailedBatchReachesLego: with batched presents and PreCheck
// installed, a batch write that fails makes lego's Obtain fail with the
// write's cause, not with a propagation timeout, and the zone ends as it
// began.
func TestFailedBatchReachesLego(t *testing.T) {
	stack, err := localstack.Start(localstack.Options{Provider: "mijnhost", CA: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	p := fromEnv(t, stack, "MIJNHOST_BATCH_PRESENTS=true")
	client, err := stack.LegoClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	served := func(_, fqdn, value string, _ dns01.PreCheckFunc) (bool, error) {
		return served(stack.DNS.Addr(), fqdn, value)
	}
	err = client.Challenge.SetDNS01Provider(&failingTimeout{DNSProvider: p, stack: stack},
		dns01.AddRecursiveNameservers([]string{stack.DNS.Addr()}),
		dns01.DisableAuthoritativeNssPropagationRequirement(),
		dns01.WrapPreCheck(p.PreCheck(served)))
	if err != nil {
		t.Fatal(err)
	}
	before := stack.Fake.Snapshot(localstack.Zone)
	names := []string{"example.test", "host1.example.test"}
	_, err = client.Certificate.Obtain(certificate.ObtainRequest{Domains: names, Bundle: true})
	if err == nil {
		t.Fatal("Obtain succeeded although the batch write failed")
	}
	for _, n := range names {
		want := fmt.Sprintf("[%s] legoprovider: writing the batched challenge records: adding TXT ", n)
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "reading zone example.test.") {
			t.Errorf("Obtain's error does not name the write's cause for %s:\n%v", n, err)
		}
	}
	if strings.Contains(err.Error(), "time limit exceeded") {
		t.Errorf("Obtain's error is a propagation timeout:\n%v", err)
	}
	if after := stack.Fake.Snapshot(localstack.Zone); !slices.Equal(before, after) {
		t.Errorf("zone changed:\nbefore %q\nafter  %q", before, after)
	}
}
