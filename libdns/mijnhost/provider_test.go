package mijnhost

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
)

const testKey = "mh-test-key-5f1c9a7e2b"

func fixture(t *testing.T) []mijnhosttest.Record {
	t.Helper()
	b, err := os.ReadFile("testdata/example.com.json")
	if err != nil {
		t.Fatal(err)
	}
	var recs []mijnhosttest.Record
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	return recs
}

func setup(t *testing.T) (*Provider, *mijnhosttest.Server) {
	t.Helper()
	fake := mijnhosttest.NewServer()
	t.Cleanup(fake.Close)
	fake.AddKey(testKey)
	fake.AddDomain("example.com", fixture(t)...)
	fake.AddDomain("example.net")
	return &Provider{
		APIKey: testKey,
		APIURL: fake.URL,
		retry:  api.Retry{Attempts: 4, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond},
	}, fake
}

// added returns the fake's records minus the fixture, or fails if any
// fixture record changed or vanished.
func added(t *testing.T, fake *mijnhosttest.Server) []mijnhosttest.Record {
	t.Helper()
	now := fake.Records("example.com")
	base := fixture(t)
	for _, r := range base {
		if !slices.Contains(now, r) {
			t.Errorf("record %+v is gone or changed", r)
		}
	}
	return slices.DeleteFunc(now, func(r mijnhosttest.Record) bool { return slices.Contains(base, r) })
}

func TestGetRecordsTypedAndRelative(t *testing.T) {
	p, _ := setup(t)
	recs, err := p.GetRecords(context.Background(), "example.com.")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]libdns.Record{
		"quotes TXT":          libdns.TXT{Name: "quotes", TTL: 300 * time.Second, Text: `say "hello"; then \ leave`},
		"unicode TXT":         libdns.TXT{Name: "unicode", TTL: 300 * time.Second, Text: "grüße — 日本 ✓"},
		"@ MX":                libdns.MX{Name: "@", TTL: 900 * time.Second, Preference: 10, Target: "mail.example.com."},
		"www CNAME":           libdns.CNAME{Name: "www", TTL: time.Hour, Target: "example.com."},
		"@ CAA":               libdns.CAA{Name: "@", TTL: time.Hour, Tag: "issue", Value: "letsencrypt.org"},
		"_acme-challenge TXT": libdns.TXT{Name: "_acme-challenge", TTL: time.Minute, Text: "stale-token-left-by-someone-else"},
	}
	for _, r := range recs {
		key := r.RR().Name + " " + r.RR().Type
		if w, ok := want[key]; ok {
			if fmt.Sprintf("%#v", r) != fmt.Sprintf("%#v", w) {
				t.Errorf("%s:\n got %#v\nwant %#v", key, r, w)
			}
			delete(want, key)
		}
	}
	for k := range want {
		t.Errorf("record %s missing", k)
	}
	if len(recs) != len(fixture(t)) {
		t.Errorf("%d records, want %d", len(recs), len(fixture(t)))
	}
}

func TestChallengeRoundTrip(t *testing.T) {
	p, fake := setup(t)
	ctx := context.Background()
	apex := libdns.TXT{Name: "_acme-challenge", Text: "apex-digest-0123456789abcdefghijklmnopqrstu"}
	wild := libdns.TXT{Name: "_acme-challenge", Text: "wild-digest-0123456789abcdefghijklmnopqrstu"}
	for _, r := range []libdns.TXT{apex, wild, apex} { // the second apex is a repeat: no-op
		out, err := p.AppendRecords(ctx, "example.com.", []libdns.Record{r})
		if err != nil {
			t.Fatal(err)
		}
		// certmagic needs exactly one record back, relative and unquoted.
		if len(out) != 1 || out[0].RR().Name != "_acme-challenge" || out[0].RR().Data != r.Text {
			t.Fatalf("AppendRecords returned %#v", out)
		}
	}
	got := added(t, fake)
	want := []mijnhosttest.Record{
		{Type: "TXT", Name: "_acme-challenge.example.com.", Value: apex.Text, TTL: 120},
		{Type: "TXT", Name: "_acme-challenge.example.com.", Value: wild.Text, TTL: 120},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("added %+v, want %+v", got, want)
	}
	if n := fake.Count(mijnhosttest.EndpointPutRecords); n != 2 {
		t.Errorf("%d PUTs, want 2 (the repeat must not write)", n)
	}
	// Clean up one value: the other and the stale one stay.
	del, err := p.DeleteRecords(ctx, "example.com.", []libdns.Record{apex})
	if err != nil || len(del) != 1 {
		t.Fatalf("DeleteRecords = %v, %v", del, err)
	}
	if got := added(t, fake); !slices.Equal(got, want[1:]) {
		t.Fatalf("after cleanup: %+v", got)
	}
	del, err = p.DeleteRecords(ctx, "example.com.", []libdns.Record{wild, apex})
	if err != nil || len(del) != 1 {
		t.Fatalf("DeleteRecords = %v, %v", del, err)
	}
	if got := added(t, fake); len(got) != 0 {
		t.Fatalf("left behind: %+v", got)
	}
}

func TestSetRecordsReplacesOneSet(t *testing.T) {
	p, fake := setup(t)
	_, err := p.SetRecords(context.Background(), "example.com.", []libdns.Record{
		libdns.TXT{Name: "@", TTL: 900 * time.Second, Text: "v=spf1 -all"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var apexTXT []string
	for _, r := range fake.Records("example.com") {
		if r.Name == "example.com." && r.Type == "TXT" {
			apexTXT = append(apexTXT, r.Value)
		}
	}
	if !slices.Equal(apexTXT, []string{"v=spf1 -all"}) {
		t.Errorf("apex TXT = %q", apexTXT)
	}
	if n := len(fake.Records("example.com")); n != len(fixture(t)) {
		t.Errorf("zone has %d records, want %d", n, len(fixture(t)))
	}
}

func TestConcurrentAppendsOneZone(t *testing.T) {
	p, fake := setup(t)
	fake.SetLatency(10 * time.Millisecond)
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{
				libdns.TXT{Name: "_acme-challenge", Text: fmt.Sprintf("token-%02d", i)},
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(added(t, fake)); got != n {
		t.Fatalf("%d of %d records present", got, n)
	}
	puts := fake.Count(mijnhosttest.EndpointPutRecords)
	t.Logf("%d concurrent appends: %d PUTs, %d GETs", n, puts, fake.Count(mijnhosttest.EndpointGetRecords))
	if puts > 5 {
		t.Errorf("%d PUTs for %d appends: writes were not coalesced", puts, n)
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	for _, f := range []mijnhosttest.Fault{
		mijnhosttest.FaultRateLimit, mijnhosttest.FaultRateLimitRetryAfter, mijnhosttest.FaultServerError,
		mijnhosttest.FaultBadGateway, mijnhosttest.FaultBadGatewayHTML, mijnhosttest.FaultSpuriousBadRequest,
		mijnhosttest.FaultDropConnection,
	} {
		t.Run(f.String(), func(t *testing.T) {
			p, fake := setup(t)
			p.retry.MaxDelay = 2 * time.Second // Retry-After: 1 must be honoured
			fake.FailNext(2, f)
			_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := added(t, fake); len(got) != 1 {
				t.Fatalf("added %+v", got)
			}
		})
	}
}

func TestPersistentFailureIsReported(t *testing.T) {
	p, fake := setup(t)
	fake.FailNext(100, mijnhosttest.FaultServerError)
	_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}})
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") || !strings.Contains(err.Error(), "after 4 tries") {
		t.Fatalf("err = %v", err)
	}
	if got := added(t, fake); len(got) != 0 {
		t.Fatalf("added %+v", got)
	}
}

func TestCredentialErrors(t *testing.T) {
	tests := []struct {
		name, key, want string
	}{
		{"missing", "", "api_key is not set"},
		{"rejected", "wrong-key-1234567890", "API key was rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake := setup(t)
			p.APIKey = tt.key
			_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "x", Text: "v"}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") || (tt.key != "" && strings.Contains(err.Error(), tt.key)) {
				t.Errorf("error is not one line or shows the key: %q", err)
			}
			if len(added(t, fake)) != 0 {
				t.Errorf("zone changed")
			}
		})
	}
}

func TestZones(t *testing.T) {
	p, fake := setup(t)
	ctx := context.Background()
	zs, err := p.ListZones(ctx)
	if err != nil || !slices.Equal(zs, []libdns.Zone{{Name: "example.com."}, {Name: "example.net."}}) {
		t.Fatalf("ListZones = %v, %v", zs, err)
	}
	// A zone argument below an account domain works on that part of it.
	if _, err := p.AppendRecords(ctx, "sub.example.com", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	if got := added(t, fake); len(got) != 1 || got[0].Name != "_acme-challenge.sub.example.com." {
		t.Fatalf("added %+v", got)
	}
	_, err = p.GetRecords(ctx, "example.org.")
	if err == nil || !strings.Contains(err.Error(), "no zone of this account holds example.org.") {
		t.Fatalf("err = %v", err)
	}
	if n := fake.Count(mijnhosttest.EndpointListDomains); n > 2 {
		t.Errorf("domain list fetched %d times: not cached", n)
	}
}
