package providertest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

// The shared provider test kit: every scenario below runs against every
// registered provider and its fake. A provider gets all of them by
// registering its descriptor and its fake; what is peculiar to one
// provider is tested in its own package.

// kit is one provider's world for a scenario: its fake holding the seeded
// Zone (and example.net, empty), and the provider configured for it through
// its descriptor.
type kit struct {
	name string
	d    *settings.Descriptor
	fake Fake
	p    providers.Provider
	seed []string // the zone's snapshot before the scenario
}

func forEachProvider(t *testing.T, scenario func(t *testing.T, k *kit)) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d, err := providers.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := StartFake(name, Zone, Seed(), []string{"example.net"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(f.Close)
			p, err := Provider(d, f)
			if err != nil {
				t.Fatal(err)
			}
			scenario(t, &kit{name: name, d: d, fake: f, p: p, seed: f.Snapshot(Zone)})
		})
	}
}

// kept fails the test unless every record of the seed is still stored
// byte for byte, and returns the zone's lines that are not in the seed.
func (k *kit) kept(t *testing.T) []string {
	t.Helper()
	now := k.fake.Snapshot(Zone)
	for _, line := range k.seed {
		if !slices.Contains(now, line) {
			t.Errorf("seed record lost or changed: %s", line)
		}
	}
	return slices.DeleteFunc(now, func(l string) bool { return slices.Contains(k.seed, l) })
}

// txts returns the TXT values at name (relative to Zone), as GetRecords
// returns them.
func (k *kit) txts(t *testing.T, name string) []string {
	t.Helper()
	recs, err := k.p.GetRecords(context.Background(), Zone+".")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range recs {
		if rr := r.RR(); rr.Type == "TXT" && rr.Name == name {
			out = append(out, r.(libdns.TXT).Text)
		}
	}
	slices.Sort(out)
	return out
}

func txt(name, value string) libdns.Record { return libdns.TXT{Name: name, Text: value} }

// TestKitChallengeRoundTrip presents the two values of an apex + wildcard
// order at one name, then cleans them up one at a time: each cleanup
// removes exactly its value, and the zone ends as it began.
func TestKitChallengeRoundTrip(t *testing.T) {
	forEachProvider(t, func(t *testing.T, k *kit) {
		ctx := context.Background()
		for _, v := range []string{"apex-token-AAAA", "wildcard-token-BBBB"} {
			if _, err := k.p.AppendRecords(ctx, Zone+".", []libdns.Record{txt("_acme-challenge", v)}); err != nil {
				t.Fatal(err)
			}
		}
		if got := k.txts(t, "_acme-challenge"); fmt.Sprint(got) != "[apex-token-AAAA wildcard-token-BBBB]" {
			t.Fatalf("after present: %q", got)
		}
		if _, err := k.p.DeleteRecords(ctx, Zone+".", []libdns.Record{txt("_acme-challenge", "apex-token-AAAA")}); err != nil {
			t.Fatal(err)
		}
		if got := k.txts(t, "_acme-challenge"); fmt.Sprint(got) != "[wildcard-token-BBBB]" {
			t.Fatalf("after the first cleanup: %q", got)
		}
		if _, err := k.p.DeleteRecords(ctx, Zone+".", []libdns.Record{txt("_acme-challenge", "wildcard-token-BBBB")}); err != nil {
			t.Fatal(err)
		}
		if extra := k.kept(t); len(extra) != 0 {
			t.Errorf("left behind: %q", extra)
		}
	})
}

// TestKitConcurrentAppends has 20 goroutines present a value each at one
// name of one zone at once: every value arrives and no record is lost.
func TestKitConcurrentAppends(t *testing.T) {
	forEachProvider(t, func(t *testing.T, k *kit) {
		const n = 20
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				_, errs[i] = k.p.AppendRecords(context.Background(), Zone+".", []libdns.Record{txt("_acme-challenge.host", fmt.Sprintf("value-%02d", i))})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("append %d: %v", i, err)
			}
		}
		if got := k.txts(t, "_acme-challenge.host"); len(got) != n {
			t.Errorf("%d values at the name, want %d: %q", len(got), n, got)
		}
		if extra := k.kept(t); len(extra) != n {
			t.Errorf("%d records added, want %d", len(extra), n)
		}
	})
}

// TestKitTransientServerErrors injects two HTTP 500 answers before an
// append: the provider retries and the append succeeds once.
func TestKitTransientServerErrors(t *testing.T) {
	forEachProvider(t, func(t *testing.T, k *kit) {
		k.fake.FailServerErrors(2)
		if _, err := k.p.AppendRecords(context.Background(), Zone+".", []libdns.Record{txt("_acme-challenge", "after-errors")}); err != nil {
			t.Fatal(err)
		}
		if got := k.txts(t, "_acme-challenge"); fmt.Sprint(got) != "[after-errors]" {
			t.Errorf("values %q", got)
		}
		k.kept(t)
	})
}

// TestKitPersistentServerErrors makes every try fail: the append reports
// the failure as one line and the zone is unchanged.
func TestKitPersistentServerErrors(t *testing.T) {
	forEachProvider(t, func(t *testing.T, k *kit) {
		k.fake.FailServerErrors(100)
		_, err := k.p.AppendRecords(context.Background(), Zone+".", []libdns.Record{txt("_acme-challenge", "never")})
		if err == nil || !strings.Contains(err.Error(), "500") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("error %v, want one line naming HTTP 500", err)
		}
		k.fake.FailServerErrors(0)
		if extra := k.kept(t); len(extra) != 0 {
			t.Errorf("zone changed: %q", extra)
		}
	})
}

// TestKitCredentialErrors configures the provider with each secret setting
// changed: every call fails with one line that shows no secret, and
// nothing is written.
func TestKitCredentialErrors(t *testing.T) {
	forEachProvider(t, func(t *testing.T, k *kit) {
		d, _ := providers.Lookup(k.name)
		for key, v := range k.fake.Settings() {
			if s := d.Setting(key); s == nil || !s.Secret {
				continue
			}
			wrong := "wrong-" + key + "-0123456789"
			settings := k.fake.Settings()
			settings[key] = wrong
			p, err := Provider(d, fakeSettings{k.fake, settings})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.AppendRecords(context.Background(), Zone+".", []libdns.Record{txt("_acme-challenge", "x")})
			switch {
			case err == nil:
				t.Errorf("%s changed: no error", key)
			case strings.Contains(err.Error(), "\n"), strings.Contains(err.Error(), wrong), strings.Contains(err.Error(), v):
				t.Errorf("%s changed: error not one line or shows a secret: %q", key, err)
			}
		}
		if extra := k.kept(t); len(extra) != 0 {
			t.Errorf("zone changed: %q", extra)
		}
	})
}

// fakeSettings is a fake whose settings are replaced.
type fakeSettings struct {
	Fake
	s map[string]string
}

func (f fakeSettings) Settings() map[string]string { return f.s }

// TestKitZones lists the account's zones, and refuses a name no zone holds.
func TestKitZones(t *testing.T) {
	forEachProvider(t, func(t *testing.T, k *kit) {
		zs, err := k.p.ListZones(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, z := range zs {
			names = append(names, z.Name)
		}
		slices.Sort(names)
		if fmt.Sprint(names) != "[example.net. example.test.]" {
			t.Errorf("zones %q", names)
		}
		if _, err := k.p.GetRecords(context.Background(), "example.org."); err == nil || !strings.Contains(err.Error(), "no zone of this account holds example.org.") {
			t.Errorf("foreign zone: %v", err)
		}
	})
}

// TestKitInstancesShareBatches has eight provider instances of one account
// (as Caddy makes one per certificate) each append a value at once: within
// the group-commit window they must cost no more requests than one call
// with all eight records, plus one zone listing. An instance of the same
// endpoint with a wrong credential appending at the same moment must fail,
// and its value must not ride in on the others' write (the engine keeps
// accounts apart by a fingerprint of the settings; internal/zone's
// TestGroupWindow covers an account whose listing succeeds). The window is long
// (3s) so that the eight goroutines surely start within it; its length is
// not what is tested.
func TestKitInstancesShareBatches(t *testing.T) {
	forEachProvider(t, func(t *testing.T, k *kit) {
		const n, window = 8, 3 * time.Second
		ctx := context.Background()
		instance := func(settings map[string]string, window time.Duration) providers.Provider {
			p, err := providers.New(k.d, Env(k.d, fakeSettings{k.fake, settings}), providers.Options{GroupWindow: window})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		values := func(prefix string) []libdns.Record {
			var out []libdns.Record
			for i := range n {
				out = append(out, txt("_acme-challenge."+prefix, fmt.Sprintf("%s-%d", prefix, i)))
			}
			return out
		}

		k.fake.ResetCounts()
		var wg sync.WaitGroup
		for _, r := range values("shared") {
			p := instance(k.fake.Settings(), window)
			wg.Go(func() {
				if _, err := p.AppendRecords(ctx, Zone+".", []libdns.Record{r}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		shared := total(k.fake.Requests())

		k.fake.ResetCounts()
		if _, err := instance(k.fake.Settings(), -1).AppendRecords(ctx, Zone+".", values("single")); err != nil {
			t.Fatal(err)
		}
		single := total(k.fake.Requests())
		if shared > single+1 {
			t.Errorf("%d instances appending at once made %d requests; one call with all %d records made %d (+1 listing allowed)", n, shared, n, single)
		}
		if got := k.txts(t, "_acme-challenge.shared"); len(got) != n {
			t.Errorf("%d values at the shared name, want %d: %q", len(got), n, got)
		}

		for key := range k.fake.Settings() {
			if s := k.d.Setting(key); s == nil || !s.Secret {
				continue
			}
			wrong := k.fake.Settings()
			wrong[key] = "wrong-" + key + "-0123456789"
			good, bad := instance(k.fake.Settings(), window), instance(wrong, window)
			var goodErr, badErr error
			wg.Go(func() {
				_, goodErr = good.AppendRecords(ctx, Zone+".", []libdns.Record{txt("_acme-challenge.mixed", "good-"+key)})
			})
			wg.Go(func() {
				_, badErr = bad.AppendRecords(ctx, Zone+".", []libdns.Record{txt("_acme-challenge.mixed", "intruder-"+key)})
			})
			wg.Wait()
			if goodErr != nil {
				t.Errorf("%s: the good instance failed: %v", key, goodErr)
			}
			if badErr == nil {
				t.Errorf("%s changed: the instance with a wrong credential succeeded", key)
			}
		}
		for _, v := range k.txts(t, "_acme-challenge.mixed") {
			if strings.HasPrefix(v, "intruder-") {
				t.Errorf("value %q of the instance with a wrong credential was written", v)
			}
		}
	})
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}
