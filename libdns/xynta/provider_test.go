package xynta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/xynta"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/xynta/xyntatest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/zone"
)

const (
	testUID  = "uid-52718"
	testHash = "hash-9c4e1f0b7a3d5e2f"
)

// fixture returns the records of testdata/example.nl.json, each as written
// there: unknown keys, an id beyond float64 precision and all.
func fixture(t *testing.T) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("testdata/example.nl.json")
	if err != nil {
		t.Fatal(err)
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		var c bytes.Buffer
		json.Compact(&c, r)
		recs[i] = c.Bytes()
	}
	return recs
}

func setup(t *testing.T) (*Provider, *xyntatest.Server) {
	t.Helper()
	fake := xyntatest.NewServer()
	t.Cleanup(fake.Close)
	fake.AddCredentials(testUID, testHash)
	fake.AddDomain("example.nl", fixture(t)...)
	fake.AddDomain("example.co.uk", xyntatest.Record{Name: "@", Type: "A", Value: "192.0.2.44", TTL: 600}.JSON())
	return &Provider{
		UID:    testUID,
		Hash:   testHash,
		APIURL: fake.URL,
		retry:  api.Retry{Attempts: 4, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond},
	}, fake
}

// added returns the records of example.nl minus the fixture, or fails if
// any fixture record is gone or no longer byte for byte what it was.
func added(t *testing.T, fake *xyntatest.Server) []xyntatest.Record {
	t.Helper()
	now := fake.Records("example.nl")
	base := fixture(t)
	for _, r := range base {
		if !slices.ContainsFunc(now, func(n json.RawMessage) bool { return bytes.Equal(n, r) }) {
			t.Errorf("record %s is gone or changed", r)
		}
	}
	var out []xyntatest.Record
	for _, n := range now {
		if !slices.ContainsFunc(base, func(r json.RawMessage) bool { return bytes.Equal(n, r) }) {
			out = append(out, xyntatest.Parse(n))
		}
	}
	return out
}

func txt(name, text string) libdns.Record { return libdns.TXT{Name: name, Text: text} }

func TestGetRecordsTypedAndRelative(t *testing.T) {
	p, _ := setup(t)
	recs, err := p.GetRecords(context.Background(), "example.nl.")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]libdns.Record{
		"quotes TXT":  libdns.TXT{Name: "quotes", TTL: 300 * time.Second, Text: `say "hello"; then \ leave <now> & go`},
		"unicode TXT": libdns.TXT{Name: "unicode", TTL: 300 * time.Second, Text: "grüße — 日本 ✓"},
		"@ MX":        libdns.MX{Name: "@", TTL: time.Hour, Preference: 10, Target: "mail.example.nl."},
		"www CNAME":   libdns.CNAME{Name: "www", TTL: time.Hour, Target: "example.nl."},
		"@ CAA":       libdns.CAA{Name: "@", TTL: time.Hour, Tag: "issue", Value: "letsencrypt.org"},
		"_sip._tcp SRV": libdns.SRV{Service: "sip", Transport: "tcp", Name: "@", TTL: time.Hour,
			Priority: 10, Weight: 60, Port: 5060, Target: "sip.example.nl."},
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
	apex := txt("_acme-challenge", "apex-digest-0123456789abcdefghijklmnopqrstu")
	wild := txt("_acme-challenge", "wild-digest-0123456789abcdefghijklmnopqrstu")
	for _, r := range []libdns.Record{apex, wild, apex} { // the second apex is a repeat: no-op
		out, err := p.AppendRecords(ctx, "example.nl.", []libdns.Record{r})
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 1 || out[0].RR().Name != "_acme-challenge" || out[0].RR().Data != r.RR().Data {
			t.Fatalf("AppendRecords returned %#v", out)
		}
	}
	want := []xyntatest.Record{
		{Name: "_acme-challenge", Type: "TXT", Value: apex.RR().Data, TTL: 120},
		{Name: "_acme-challenge", Type: "TXT", Value: wild.RR().Data, TTL: 120},
	}
	if got := added(t, fake); !slices.Equal(got, want) {
		t.Fatalf("added %+v, want %+v", got, want)
	}
	if n := fake.Count(xyntatest.EndpointEditZone); n != 2 {
		t.Errorf("%d zone writes, want 2 (the repeat must not write)", n)
	}
	del, err := p.DeleteRecords(ctx, "example.nl.", []libdns.Record{apex})
	if err != nil || len(del) != 1 {
		t.Fatalf("DeleteRecords = %v, %v", del, err)
	}
	if got := added(t, fake); !slices.Equal(got, want[1:]) {
		t.Fatalf("after cleanup: %+v", got)
	}
	del, err = p.DeleteRecords(ctx, "example.nl.", []libdns.Record{wild, apex})
	if err != nil || len(del) != 1 {
		t.Fatalf("DeleteRecords = %v, %v", del, err)
	}
	if got := added(t, fake); len(got) != 0 {
		t.Fatalf("left behind: %+v", got)
	}
	// Every write was read back.
	if shows, edits := fake.Count(xyntatest.EndpointShowZone), fake.Count(xyntatest.EndpointEditZone); shows < 2*edits {
		t.Errorf("%d reads for %d writes: writes were not verified", shows, edits)
	}
}

func TestMultiLabelTldAndSubZones(t *testing.T) {
	tests := []struct {
		zone, name string
		domain     string
		wantName   string
	}{
		{"example.co.uk.", "_acme-challenge", "example.co.uk", "_acme-challenge"},
		{"www.example.co.uk", "_acme-challenge", "example.co.uk", "_acme-challenge.www"},
		{"example.co.uk.", "@", "example.co.uk", "@"},
		{"sub.example.nl.", "_acme-challenge.deep", "example.nl", "_acme-challenge.deep.sub"},
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.name, func(t *testing.T) {
			p, fake := setup(t)
			if _, err := p.AppendRecords(context.Background(), tt.zone, []libdns.Record{txt(tt.name, "v")}); err != nil {
				t.Fatal(err)
			}
			recs := fake.Records(tt.domain)
			last := xyntatest.Parse(recs[len(recs)-1])
			if last != (xyntatest.Record{Name: tt.wantName, Type: "TXT", Value: "v", TTL: 120}) {
				t.Fatalf("stored %+v", last)
			}
			got, err := p.GetRecords(context.Background(), tt.zone)
			if err != nil || !slices.ContainsFunc(got, func(r libdns.Record) bool { return r.RR().Name == tt.name && r.RR().Data == "v" }) {
				t.Fatalf("GetRecords(%s) = %v, %v", tt.zone, got, err)
			}
		})
	}
}

func TestSetRecordsReplacesOneSet(t *testing.T) {
	p, fake := setup(t)
	_, err := p.SetRecords(context.Background(), "example.nl.", []libdns.Record{
		libdns.TXT{Name: "@", TTL: 900 * time.Second, Text: "v=spf1 -all"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var apexTXT []string
	for _, raw := range fake.Records("example.nl") {
		if r := xyntatest.Parse(raw); r.Name == "@" && r.Type == "TXT" {
			apexTXT = append(apexTXT, r.Value)
		}
	}
	if !slices.Equal(apexTXT, []string{"v=spf1 -all"}) {
		t.Errorf("apex TXT = %q", apexTXT)
	}
	if n := len(fake.Records("example.nl")); n != len(fixture(t)) {
		t.Errorf("zone has %d records, want %d", n, len(fixture(t)))
	}
}

func TestConcurrentAppendsOneZone(t *testing.T) {
	p, fake := setup(t)
	other := Provider{UID: p.UID, Hash: p.Hash, APIURL: p.APIURL, retry: p.retry} // a second instance on the same account
	fake.SetLatency(5 * time.Millisecond)
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			pp := p
			if i%2 == 1 {
				pp = &other
			}
			_, err := pp.AppendRecords(context.Background(), "example.nl.", []libdns.Record{txt("_acme-challenge", fmt.Sprintf("token-%02d", i))})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(added(t, fake)); got != n {
		t.Fatalf("%d of %d records present", got, n)
	}
	edits := fake.Count(xyntatest.EndpointEditZone)
	t.Logf("%d concurrent appends: %d writes, %d reads", n, edits, fake.Count(xyntatest.EndpointShowZone))
	if edits > 5 { // README: a handful of writes, the tests fail above 5
		t.Errorf("%d writes for %d appends: writes were not coalesced", edits, n)
	}
}

// TestSilentDataLossIsCaught has the fake lose the last record of a write
// while answering success: reading back must turn that into an error.
func TestSilentDataLossIsCaught(t *testing.T) {
	p, fake := setup(t)
	fake.DropOnWrite(1)
	_, err := p.AppendRecords(context.Background(), "example.nl.", []libdns.Record{txt("_acme-challenge", "lost-token")})
	if err == nil || !strings.Contains(err.Error(), "the zone read back differs from what was written: missing _acme-challenge.example.nl. 120 TXT \"lost-token\"") {
		t.Fatalf("err = %v", err)
	}
	// A retry succeeds and leaves exactly one copy.
	if _, err := p.AppendRecords(context.Background(), "example.nl.", []libdns.Record{txt("_acme-challenge", "lost-token")}); err != nil {
		t.Fatal(err)
	}
	if got := added(t, fake); len(got) != 1 {
		t.Fatalf("added %+v", got)
	}
}

func TestNeverAnEmptyZone(t *testing.T) {
	p, fake := setup(t)
	ctx := context.Background()
	// example.co.uk holds one record: deleting it would empty the zone.
	_, err := p.DeleteRecords(ctx, "example.co.uk.", []libdns.Record{libdns.RR{Name: "@", Type: "A"}})
	if err == nil || !strings.Contains(err.Error(), "refusing to write zone example.co.uk. without any record") {
		t.Fatalf("err = %v", err)
	}
	_, err = p.SetRecords(ctx, "example.co.uk.", []libdns.Record{libdns.RR{Name: "@", Type: "A", Data: "192.0.2.45"}})
	if err != nil { // replacing it is fine: the zone is never empty
		t.Fatal(err)
	}
	if n := fake.Count(xyntatest.EndpointEditZone); n != 1 {
		t.Errorf("%d writes, want 1 (the empty zone must not be sent)", n)
	}
	if got := fake.Records("example.co.uk"); len(got) != 1 || xyntatest.Parse(got[0]).Value != "192.0.2.45" {
		t.Errorf("zone %s", got)
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	for _, f := range []xyntatest.Fault{
		xyntatest.FaultRateLimit, xyntatest.FaultRateLimitRetryAfter, xyntatest.FaultServerError,
		xyntatest.FaultBadGatewayHTML, xyntatest.FaultDropConnection,
	} {
		t.Run(f.String(), func(t *testing.T) {
			p, fake := setup(t)
			p.retry.MaxDelay = 2 * time.Second // Retry-After: 1 must be honoured
			fake.FailNext(2, f)
			if _, err := p.AppendRecords(context.Background(), "example.nl.", []libdns.Record{txt("_acme-challenge", "v")}); err != nil {
				t.Fatal(err)
			}
			if got := added(t, fake); len(got) != 1 {
				t.Fatalf("added %+v", got)
			}
		})
	}
}

func TestPersistentFailureChangesNothing(t *testing.T) {
	p, fake := setup(t)
	fake.FailNext(100, xyntatest.FaultServerError)
	_, err := p.AppendRecords(context.Background(), "example.nl.", []libdns.Record{txt("_acme-challenge", "v")})
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") || !strings.Contains(err.Error(), "after 4 tries") {
		t.Fatalf("err = %v", err)
	}
	if got := added(t, fake); len(got) != 0 {
		t.Fatalf("added %+v", got)
	}
}

func TestCredentialErrors(t *testing.T) {
	tests := []struct {
		name, uid, hash string
		wantIs          error
		want            []string
	}{
		{"no uid", "", testHash, settings.ErrUnset, []string{"xynta: uid is not set: set it to the UserID from Mijn Xynta"}},
		{"no hash", testUID, " ", settings.ErrUnset, []string{"xynta: hash is not set: set it to the IPHash"}},
		{"wrong hash", testUID, "hash-of-another-address-77", xynta.ErrNotAuthorized,
			[]string{`status "not-authorized"`, "hash is bound to one whitelisted IP address", "IPv4"}},
		{"unknown uid", "uid-00000", testHash, xynta.ErrNotAuthorized, []string{"not-authorized"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake := setup(t)
			p.UID, p.Hash = tt.uid, tt.hash
			_, err := p.AppendRecords(context.Background(), "example.nl.", []libdns.Record{txt("x", "v")})
			if !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v, want %v", err, tt.wantIs)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			for _, s := range []string{tt.uid, tt.hash} {
				if strings.TrimSpace(s) != "" && strings.Contains(err.Error(), s) {
					t.Errorf("error shows %q: %v", s, err)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if len(added(t, fake)) != 0 || fake.Count(xyntatest.EndpointEditZone) != 0 {
				t.Errorf("zone written")
			}
		})
	}
}

func TestZones(t *testing.T) {
	p, fake := setup(t)
	ctx := context.Background()
	zs, err := p.ListZones(ctx)
	if err != nil || !slices.Equal(zs, []libdns.Zone{{Name: "example.co.uk."}, {Name: "example.nl."}}) {
		t.Fatalf("ListZones = %v, %v", zs, err)
	}
	_, err = p.GetRecords(ctx, "example.org.")
	if err == nil || !strings.Contains(err.Error(), "no zone of this account holds example.org.") {
		t.Fatalf("err = %v", err)
	}
	// A domain added after the list was read is found by listing again.
	fake.AddDomain("example.be", xyntatest.Record{Name: "@", Type: "A", Value: "192.0.2.1", TTL: 60}.JSON())
	if _, err := p.AppendRecords(ctx, "example.be.", []libdns.Record{txt("_acme-challenge", "v")}); err != nil {
		t.Fatal(err)
	}
	if n := fake.Count(xyntatest.EndpointList); n > 3 {
		t.Errorf("domain list fetched %d times: not cached", n)
	}
}

func TestJSONConfig(t *testing.T) {
	var p Provider
	if err := json.Unmarshal([]byte(`{"uid":"u-1","hash":"h-1","api_url":"https://api.example.test/","ttl":300}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.UID != "u-1" || p.Hash != "h-1" || p.APIURL != "https://api.example.test/" || p.TTL != 300 {
		t.Fatalf("decoded %q %q %q %d", p.UID, p.Hash, p.APIURL, p.TTL)
	}
	if _, err := (&Provider{UID: "u", Hash: "h", TTL: 86401}).ListZones(context.Background()); err == nil || !strings.Contains(err.Error(), "ttl 86401 is out of range") {
		t.Fatalf("err = %v", err)
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		name, zone, abs, rel string
	}{
		{"@", "example.nl.", "example.nl.", "@"},
		{"", "example.nl.", "example.nl.", "@"},
		{"www", "example.nl.", "www.example.nl.", "www"},
		{"_acme-challenge.Sub", "example.co.uk.", "_acme-challenge.sub.example.co.uk.", "_acme-challenge.sub"},
		{"*.www", "example.nl.", "*.www.example.nl.", "*.www"},
		{"www.example.nl.", "example.nl.", "www.example.nl.", "www"},
		{"www.example.nl", "example.nl.", "www.example.nl.", "www"},
	}
	for _, tt := range tests {
		abs := zone.ReadName(tt.name, tt.zone)
		if abs != tt.abs {
			t.Errorf("zone.ReadName(%q, %q) = %q, want %q", tt.name, tt.zone, abs, tt.abs)
		}
		if rel := relative(abs, tt.zone); rel != tt.rel {
			t.Errorf("relative(%q, %q) = %q, want %q", abs, tt.zone, rel, tt.rel)
		}
	}
}

func TestTXTData(t *testing.T) {
	tests := []struct{ typ, in, want string }{
		{"TXT", "plain token", "plain token"},
		{"TXT", `"quoted token"`, "quoted token"},
		{"TXT", `"part one" "part two"`, "part onepart two"},
		{"TXT", `"say \"hi\" \\ ok"`, `say "hi" \ ok`},
		{"TXT", `v=DMARC1; rua=mailto:"d"@example.nl`, `v=DMARC1; rua=mailto:"d"@example.nl`},
		{"TXT", `"a" b "c"`, `"a" b "c"`},
		{"TXT", `"unterminated`, `"unterminated`},
		{"TXT", `"`, `"`},
		{"CAA", `0 issue "letsencrypt.org"`, `0 issue "letsencrypt.org"`},
		{"SPF", `"v=spf1 -all"`, `"v=spf1 -all"`},
	}
	for _, tt := range tests {
		if got := data(tt.typ, tt.in); got != tt.want {
			t.Errorf("data(%s, %q) = %q, want %q", tt.typ, tt.in, got, tt.want)
		}
	}
}
