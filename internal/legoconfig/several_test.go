package legoconfig

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
)

func TestSeveralProvidersFromEnv(t *testing.T) {
	env := envOf(map[string]string{
		"MIJNHOST_API_KEY": "k1", "MIJNHOST_TTL": "300", "MIJNHOST_PROPAGATION_TIMEOUT": "90", "MIJNHOST_POLLING_INTERVAL": "5",
		"HOSTUP_API_KEY": "k2", "HOSTUP_PROPAGATION_TIMEOUT": "120", "HOSTUP_POLLING_INTERVAL": "3", "HOSTUP_HTTP_TIMEOUT": "9",
	})
	cfg, err := FromEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	set, ok := cfg.Records.(*providers.Set)
	if !ok {
		t.Fatalf("Records is a %T, want a *providers.Set over both accounts", cfg.Records)
	}
	var names []string
	for _, a := range set.Accounts() {
		names = append(names, a.Descriptor.Name)
	}
	if strings.Join(names, ",") != "hostup,mijnhost" {
		t.Errorf("accounts %v, want hostup and mijnhost", names)
	}
	// Each provider keeps its own TTL (MIJNHOST_TTL is its provider's
	// setting); lego waits as long as the slowest asks, polling as often
	// as the fastest.
	cfg.Records = nil
	if want := (Config{TTL: 0, PropagationTimeout: 120 * time.Second, PollingInterval: 3 * time.Second, APITimeout: DefaultAPITimeout}); cfg != want {
		t.Errorf("config %+v, want %+v", cfg, want)
	}
	if _, err := FromEnv(envOf(map[string]string{"ACME_HOOK_PROVIDER": "mijnhost,hostup", "MIJNHOST_API_KEY": "k1"})); err == nil || err.Error() != "hostup: HOSTUP_API_KEY is not set: set it (or HOSTUP_API_KEY_FILE) to an API key from the HostUp control panel with the scopes read:dns, write:dns and read:domains" {
		t.Errorf("a listed provider without credentials: %v", err)
	}
}

// zoned is a recorder holding zones of its own.
type zoned struct {
	recorder
	zones []string
}

func (z *zoned) ListZones(context.Context) ([]libdns.Zone, error) {
	var out []libdns.Zone
	for _, n := range z.zones {
		out = append(out, libdns.Zone{Name: n})
	}
	return out, nil
}

func (z *zoned) GetRecords(context.Context, string) ([]libdns.Record, error) { return nil, nil }
func (z *zoned) SetRecords(_ context.Context, _ string, recs []libdns.Record) ([]libdns.Record, error) {
	return recs, nil
}

// TestSeveralAccounts presents the effective names lego hands over (after
// it followed any CNAME) through a Set of two accounts: each goes to the
// account holding the longest zone that contains it.
func TestSeveralAccounts(t *testing.T) {
	a := &zoned{zones: []string{"example.test."}}
	b := &zoned{zones: []string{"example.org.", "acme.example.test."}}
	mijnhost, _ := providers.Lookup("mijnhost")
	hostup, _ := providers.Lookup("hostup")
	p, err := New("legoX", &Config{Records: providers.NewSet(providers.Account{Descriptor: mijnhost, Provider: a}, providers.Account{Descriptor: hostup, Provider: b})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, fqdn := range []string{"_acme-challenge.example.test.", "_acme-challenge.www.example.org.", "example-org.acme.example.test."} {
		if err := p.Present(ctx, fqdn, "v"); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"append example.test. _acme-challenge v 0s  deadline"}; !reflect.DeepEqual(a.calls, want) {
		t.Errorf("first account: %q, want %q", a.calls, want)
	}
	if want := []string{"append example.org. _acme-challenge.www v 0s  deadline", "append acme.example.test. example-org v 0s  deadline"}; !reflect.DeepEqual(b.calls, want) {
		t.Errorf("second account: %q, want %q", b.calls, want)
	}
	err = p.Present(ctx, "_acme-challenge.example.net.", "v")
	if want := "legoX: no account holds _acme-challenge.example.net. (mijn.host zones: example.test.; HostUp zones: acme.example.test. example.org.)"; err == nil || err.Error() != want {
		t.Errorf("name of no account: %v, want %q", err, want)
	}
}
