package hostup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/hostup"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/hostup/hostuptest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/zone"
)

const testKey = "hu-test-key-5f1c9a7e2b"

func fixture(t *testing.T) []hostuptest.Record {
	t.Helper()
	b, err := os.ReadFile("testdata/example.com.json")
	if err != nil {
		t.Fatal(err)
	}
	var recs []hostuptest.Record
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	return recs
}

func setup(t *testing.T) (*Provider, *hostuptest.Server) {
	t.Helper()
	fake := hostuptest.NewServer()
	t.Cleanup(fake.Close)
	fake.AddKey(testKey)
	fake.AddZone("example.com", fixture(t)...)
	fake.AddZone("example.net")
	return &Provider{
		APIKey: testKey,
		APIURL: fake.URL,
		retry:  api.Retry{Attempts: 4, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Second},
	}, fake
}

// added returns the fake's records that are not in the seed, or fails if
// any seeded record changed (any field, its id included) or vanished.
func added(t *testing.T, fake *hostuptest.Server, seed []hostuptest.Record) []hostuptest.Record {
	t.Helper()
	now := fake.Records("example.com")
	for _, r := range seed {
		if !slices.ContainsFunc(now, func(n hostuptest.Record) bool { return reflect.DeepEqual(n, r) }) {
			t.Errorf("record %+v is gone or changed", r)
		}
	}
	return slices.DeleteFunc(now, func(n hostuptest.Record) bool {
		return slices.ContainsFunc(seed, func(r hostuptest.Record) bool { return reflect.DeepEqual(n, r) })
	})
}

func values(recs []hostuptest.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%s %s %s %d", r.Name, r.Type, r.Value, r.TTL))
	}
	return out
}

func TestGetRecordsTypedAndRelative(t *testing.T) {
	p, fake := setup(t)
	fake.SetQuoteTXT(true) // the legacy form must not leak through
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
		"_sip._tcp SRV":       libdns.SRV{Service: "sip", Transport: "tcp", Name: "@", TTL: time.Hour, Priority: 10, Weight: 60, Port: 5060, Target: "sip.example.com."},
		"lab NS":              libdns.NS{Name: "lab", TTL: time.Hour, Target: "ns1.example.net."},
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
	seed := fake.Records("example.com")
	ctx := context.Background()
	apex := libdns.TXT{Name: "_acme-challenge", Text: "apex-digest-0123456789abcdefghijklmnopqrstu"}
	wild := libdns.TXT{Name: "_acme-challenge", Text: "wild-digest-0123456789abcdefghijklmnopqrstu"}
	for _, r := range []libdns.TXT{apex, wild, apex} { // the second apex is a repeat: no-op
		out, err := p.AppendRecords(ctx, "example.com.", []libdns.Record{r})
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 1 || out[0].RR().Name != "_acme-challenge" || out[0].RR().Data != r.Text {
			t.Fatalf("AppendRecords returned %#v", out)
		}
	}
	want := []string{
		"_acme-challenge.example.com TXT " + apex.Text + " 120",
		"_acme-challenge.example.com TXT " + wild.Text + " 120",
	}
	if got := values(added(t, fake, seed)); !slices.Equal(got, want) {
		t.Fatalf("added %q, want %q", got, want)
	}
	if n := fake.Count(hostuptest.EndpointCreateRecord); n != 2 {
		t.Errorf("%d POSTs, want 2 (the repeat must not be sent: the API refuses exact duplicates)", n)
	}
	// Clean up one value: the other and the stale one stay.
	del, err := p.DeleteRecords(ctx, "example.com.", []libdns.Record{apex})
	if err != nil || len(del) != 1 {
		t.Fatalf("DeleteRecords = %v, %v", del, err)
	}
	if got := values(added(t, fake, seed)); !slices.Equal(got, want[1:]) {
		t.Fatalf("after cleanup: %q", got)
	}
	del, err = p.DeleteRecords(ctx, "example.com.", []libdns.Record{wild, apex})
	if err != nil || len(del) != 1 {
		t.Fatalf("DeleteRecords = %v, %v", del, err)
	}
	if got := added(t, fake, seed); len(got) != 0 {
		t.Fatalf("left behind: %+v", got)
	}
	if n := fake.Count(hostuptest.EndpointDeleteRecord); n != 2 {
		t.Errorf("%d DELETEs, want 2", n)
	}
}

func TestSetRecords(t *testing.T) {
	tests := []struct {
		name    string
		recs    []libdns.Record
		want    []string // the set afterwards
		creates int
		deletes int
	}{
		{"replace the apex TXT set", []libdns.Record{libdns.TXT{Name: "@", TTL: 900 * time.Second, Text: "v=spf1 -all"}},
			[]string{"example.com TXT v=spf1 -all 900"}, 1, 1},
		{"same content writes nothing", []libdns.Record{libdns.TXT{Name: "@", TTL: 900 * time.Second, Text: "v=spf1 include:spf.hostup.se ~all"}},
			[]string{"example.com TXT v=spf1 include:spf.hostup.se ~all 900"}, 0, 0},
		{"new TTL: delete then create the same value", []libdns.Record{libdns.TXT{Name: "@", TTL: time.Hour, Text: "v=spf1 include:spf.hostup.se ~all"}},
			[]string{"example.com TXT v=spf1 include:spf.hostup.se ~all 3600"}, 1, 1},
		{"MX with a new preference", []libdns.Record{libdns.MX{Name: "@", TTL: 900 * time.Second, Preference: 20, Target: "mail.example.com."}},
			nil, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake := setup(t)
			if _, err := p.SetRecords(context.Background(), "example.com.", tt.recs); err != nil {
				t.Fatal(err)
			}
			if tt.want != nil {
				var set []hostuptest.Record
				for _, r := range fake.Records("example.com") {
					if r.Name == "example.com" && r.Type == "TXT" {
						set = append(set, r)
					}
				}
				if got := values(set); !slices.Equal(got, tt.want) {
					t.Errorf("set = %q, want %q", got, tt.want)
				}
			}
			if c, d := fake.Count(hostuptest.EndpointCreateRecord), fake.Count(hostuptest.EndpointDeleteRecord); c != tt.creates || d != tt.deletes {
				t.Errorf("%d creates, %d deletes; want %d, %d", c, d, tt.creates, tt.deletes)
			}
			if n := len(fake.Records("example.com")); n != len(fixture(t)) {
				t.Errorf("zone has %d records, want %d", n, len(fixture(t)))
			}
		})
	}
}

func TestWhatIsSent(t *testing.T) {
	tests := []struct {
		rec  libdns.Record
		want hostuptest.Record // ID and Status ignored
	}{
		{libdns.TXT{Name: "@", TTL: 5 * time.Minute, Text: `quoted "text"`}, hostuptest.Record{Type: "TXT", Name: "example.com", Value: `quoted "text"`, TTL: 300}},
		{libdns.Address{Name: "*.dev", IP: mustAddr("2001:db8::7")}, hostuptest.Record{Type: "AAAA", Name: "*.dev.example.com", Value: "2001:db8::7", TTL: 120}},
		{libdns.CNAME{Name: "docs", TTL: time.Hour, Target: "pages.example.net."}, hostuptest.Record{Type: "CNAME", Name: "docs.example.com", Value: "pages.example.net", TTL: 3600}},
		{libdns.CNAME{Name: "blog", TTL: time.Hour, Target: "www"}, hostuptest.Record{Type: "CNAME", Name: "blog.example.com", Value: "www.example.com", TTL: 3600}},
		{libdns.MX{Name: "@", TTL: time.Hour, Preference: 20, Target: "mx2.example.net."}, hostuptest.Record{Type: "MX", Name: "example.com", Value: "mx2.example.net", TTL: 3600, Priority: ptr(20)}},
		{libdns.SRV{Service: "xmpp", Transport: "tcp", Name: "@", TTL: time.Hour, Priority: 5, Weight: 0, Port: 5222, Target: "chat.example.com."},
			hostuptest.Record{Type: "SRV", Name: "_xmpp._tcp.example.com", Value: "chat.example.com", TTL: 3600, Priority: ptr(5), Weight: ptr(0), Port: ptr(5222)}},
		{libdns.CAA{Name: "@", TTL: time.Hour, Flags: 128, Tag: "issuewild", Value: ";"}, hostuptest.Record{Type: "CAA", Name: "example.com", Value: `128 issuewild ";"`, TTL: 3600}},
		{libdns.TXT{Name: "short-ttl", TTL: time.Second, Text: "raised to the minimum"}, hostuptest.Record{Type: "TXT", Name: "short-ttl.example.com", Value: "raised to the minimum", TTL: 60}},
	}
	for _, tt := range tests {
		p, fake := setup(t)
		fake.SetPendingFor(0)
		if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{tt.rec}); err != nil {
			t.Errorf("%+v: %v", tt.rec, err)
			continue
		}
		recs := fake.Records("example.com")
		got := recs[len(recs)-1]
		got.ID, got.Status = "", ""
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%+v stored as %+v, want %+v", tt.rec, got, tt.want)
		}
		// And it reads back as what was appended.
		back, err := p.GetRecords(context.Background(), "example.com.")
		if err != nil {
			t.Fatal(err)
		}
		want := tt.rec.RR()
		if want.TTL == 0 {
			want.TTL = 120 * time.Second
		}
		if want.TTL < time.Minute {
			want.TTL = time.Minute
		}
		if want.Type == "CNAME" && !strings.HasSuffix(want.Data, ".") {
			want.Data += ".example.com."
		}
		if !slices.ContainsFunc(back, func(r libdns.Record) bool { return r.RR() == want }) {
			t.Errorf("%+v does not read back", want)
		}
	}
}

func TestUnsupportedType(t *testing.T) {
	p, fake := setup(t)
	_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.RR{Name: "x", Type: "HTTPS", Data: `1 . alpn="h2"`}})
	if err == nil || !strings.Contains(err.Error(), "HostUp does not support HTTPS records") {
		t.Fatalf("err = %v", err)
	}
	if n := fake.Count(hostuptest.EndpointCreateRecord); n != 0 {
		t.Errorf("%d POSTs", n)
	}
}

func TestConcurrentAppendsOneZone(t *testing.T) {
	p, fake := setup(t)
	seed := fake.Records("example.com")
	fake.SetLatency(5 * time.Millisecond)
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
	got := added(t, fake, seed)
	if len(got) != n {
		t.Fatalf("%d of %d records present", len(got), n)
	}
	reads := fake.Count(hostuptest.EndpointListRecords)
	t.Logf("%d concurrent appends: %d creates, %d reads", n, fake.Count(hostuptest.EndpointCreateRecord), reads)
	if c := fake.Count(hostuptest.EndpointCreateRecord); c != n {
		t.Errorf("%d creates for %d records", c, n)
	}
	if reads > 5 { // README: a handful, the tests fail above 5
		t.Errorf("%d reads for %d appends: not coalesced", reads, n)
	}
	// And 50 concurrent deletes leave the zone as it was.
	for i := range n {
		wg.Go(func() {
			if _, err := p.DeleteRecords(context.Background(), "example.com.", []libdns.Record{
				libdns.TXT{Name: "_acme-challenge", Text: fmt.Sprintf("token-%02d", i)},
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := added(t, fake, seed); len(got) != 0 {
		t.Fatalf("left behind: %d records", len(got))
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	for _, f := range []hostuptest.Fault{
		hostuptest.FaultRateLimit, hostuptest.FaultServerError, hostuptest.FaultBadGateway,
		hostuptest.FaultDropConnection, hostuptest.FaultDropResponse,
	} {
		for _, during := range []string{"append", "delete"} {
			t.Run(f.String()+" during "+during, func(t *testing.T) {
				p, fake := setup(t)
				seed := fake.Records("example.com")
				ctx := context.Background()
				rec := []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}
				if _, err := p.ListZones(ctx); err != nil { // the zone list is cached from here
					t.Fatal(err)
				}
				if during == "delete" {
					if _, err := p.AppendRecords(ctx, "example.com.", rec); err != nil {
						t.Fatal(err)
					}
					fake.FailNext(2, f)
					if _, err := p.DeleteRecords(ctx, "example.com.", rec); err != nil {
						t.Fatal(err)
					}
					if got := added(t, fake, seed); len(got) != 0 {
						t.Fatalf("left behind %+v", got)
					}
					return
				}
				fake.FailNext(2, f)
				if _, err := p.AppendRecords(ctx, "example.com.", rec); err != nil {
					t.Fatal(err)
				}
				if got := added(t, fake, seed); len(got) != 1 {
					t.Fatalf("added %+v: want exactly one record", got)
				}
			})
		}
	}
}

func TestPersistentFailureIsReported(t *testing.T) {
	p, fake := setup(t)
	seed := fake.Records("example.com")
	fake.FailNext(100, hostuptest.FaultServerError)
	_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}})
	if err == nil || !strings.Contains(err.Error(), "HTTP 500: internal_error") || !strings.Contains(err.Error(), "after 4 tries") {
		t.Fatalf("err = %v", err)
	}
	fake.FailNext(0, hostuptest.FaultServerError)
	if got := added(t, fake, seed); len(got) != 0 {
		t.Fatalf("added %+v", got)
	}
}

func TestRecordLimit(t *testing.T) {
	p, fake := setup(t)
	seed := fake.Records("example.com")
	ctx := context.Background()
	// The fixture holds 11 counted records (its NS is not counted).
	var recs []libdns.Record
	for i := range 200 - 11 {
		recs = append(recs, libdns.TXT{Name: fmt.Sprintf("fill-%03d", i), Text: "x"})
	}
	if _, err := p.AppendRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	fake.ResetCounts()
	// Full: the next append is refused before anything is sent.
	_, err := p.AppendRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "one-too-many"}})
	if err == nil || !errors.Is(err, hostup.ErrRecordLimit) ||
		!strings.Contains(err.Error(), "zone example.com. would hold 201 records, but HostUp allows at most 200 per zone (SOA and NS records not counted): delete records it no longer needs") {
		t.Fatalf("err = %v", err)
	}
	if n := fake.Count(hostuptest.EndpointCreateRecord); n != 0 {
		t.Errorf("%d POSTs for a zone known to be full", n)
	}
	// When the API's count differs from ours (someone else filled the zone
	// meanwhile), its refusal is explained the same way.
	fake.SetRecordLimit(150)
	_, err = p.SetRecords(ctx, "example.com.", []libdns.Record{libdns.TXT{Name: "fill-000", Text: "y"}})
	if err == nil || !errors.Is(err, hostup.ErrRecordLimit) || !strings.Contains(err.Error(), "the most HostUp allows per zone") ||
		!strings.Contains(err.Error(), "1 of 2 changes were made before this failure") {
		t.Fatalf("err = %v", err)
	}
	// Deleting still works at the limit.
	if _, err := p.DeleteRecords(ctx, "example.com.", recs); err != nil {
		t.Fatal(err)
	}
	if got := added(t, fake, seed); len(got) != 0 {
		t.Fatalf("left behind %d records", len(got))
	}
}

func TestTolerantReads(t *testing.T) {
	p, fake := setup(t)
	fake.SetNumericIDs(true)
	fake.SetQuoteTXT(true)
	fake.AddZone("example.com", fixture(t)...) // re-seeded with numeric ids
	ctx := context.Background()
	rec := []libdns.Record{libdns.TXT{Name: "quotes", TTL: 300 * time.Second, Text: `say "hello"; then \ leave`}}
	// The quoted, numbered record is recognised: no duplicate create, and
	// the delete goes by its numeric id.
	if _, err := p.AppendRecords(ctx, "example.com.", rec); err != nil {
		t.Fatal(err)
	}
	if n := fake.Count(hostuptest.EndpointCreateRecord); n != 0 {
		t.Errorf("%d creates for an existing record", n)
	}
	del, err := p.DeleteRecords(ctx, "example.com.", rec)
	if err != nil || len(del) != 1 {
		t.Fatalf("DeleteRecords = %v, %v", del, err)
	}
	if n := len(fake.Records("example.com")); n != len(fixture(t))-1 {
		t.Errorf("%d records left", n)
	}
}

func TestDeleteOfAVanishedRecord(t *testing.T) {
	_, fake := setup(t)
	c, err := hostup.New(testKey, hostup.Options{BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{c: c, zones: map[string]hostup.Zone{}}
	// Someone deleted the record between the engine's read and its delete:
	// the 404 means it is gone, which is what was asked.
	err = b.Delete(context.Background(), "example.com.", zone.Record{RR: libdns.RR{Name: "x.example.com.", Type: "TXT", Data: "v"}, ID: "drr_gone"})
	if err != nil {
		t.Fatalf("Delete of a vanished record: %v", err)
	}
	if n := fake.CountStatus(404); n != 1 {
		t.Errorf("%d answers were 404, want the one delete", n)
	}
	if err := b.Delete(context.Background(), "example.com.", zone.Record{RR: libdns.RR{Name: "x.example.com.", Type: "TXT"}}); err == nil {
		t.Errorf("Delete without an id succeeded")
	}
}

func TestCredentialErrors(t *testing.T) {
	tests := []struct {
		name, key string
		scopes    []string
		want      []string
	}{
		{"missing", "", nil, []string{"api_key is not set", "read:dns, write:dns and read:domains"}},
		{"rejected", "wrong-key-1234567890", nil, []string{"API key was rejected (check HOSTUP_API_KEY / api_key)", "HTTP 401: unauthorized"}},
		{"no write scope", testKey, []string{"read:dns", "read:domains"}, []string{"may not do this", "HTTP 403: forbidden", "lacks the scope write:dns"}},
		{"no domains scope", testKey, []string{"read:dns", "write:dns"}, []string{"HTTP 403: forbidden", "lacks the scope read:domains", "read:dns, write:dns, read:domains"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake := setup(t)
			seed := fake.Records("example.com")
			p.APIKey = tt.key
			if tt.scopes != nil {
				fake.AddKeyWithScopes(testKey, tt.scopes...)
			}
			_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{libdns.TXT{Name: "x", Text: "v"}})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nlacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") || (tt.key != "" && strings.Contains(err.Error(), tt.key)) {
				t.Errorf("error is not one line or shows the key: %q", err)
			}
			if len(added(t, fake, seed)) != 0 {
				t.Errorf("zone changed")
			}
		})
	}
	if _, err := (&Provider{APIKey: "k", TTL: 30}).ListZones(context.Background()); err == nil || !strings.Contains(err.Error(), "ttl 30 is out of range: use whole seconds from 60 to 86400") {
		t.Errorf("ttl 30: %v", err)
	}
}

func TestZones(t *testing.T) {
	p, fake := setup(t)
	seed := fake.Records("example.com")
	ctx := context.Background()
	zs, err := p.ListZones(ctx)
	if err != nil || !slices.Equal(zs, []libdns.Zone{{Name: "example.com."}, {Name: "example.net."}}) {
		t.Fatalf("ListZones = %v, %v", zs, err)
	}
	// A zone argument below an account zone works on that part of it.
	if _, err := p.AppendRecords(ctx, "sub.example.com", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}); err != nil {
		t.Fatal(err)
	}
	if got := added(t, fake, seed); len(got) != 1 || got[0].Name != "_acme-challenge.sub.example.com" {
		t.Fatalf("added %+v", got)
	}
	_, err = p.GetRecords(ctx, "example.org.")
	if err == nil || !strings.Contains(err.Error(), "no zone of this account holds example.org.") {
		t.Fatalf("err = %v", err)
	}
	if n := fake.Count(hostuptest.EndpointListZones); n > 2 {
		t.Errorf("zone list fetched %d times: not cached", n)
	}
}

func TestConfigJSON(t *testing.T) {
	var p Provider
	if err := json.Unmarshal([]byte(`{"api_key":"k-123","api_url":"http://127.0.0.1:1/api/v2/","ttl":300}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.APIKey != "k-123" || p.APIURL != "http://127.0.0.1:1/api/v2/" || p.TTL != 300 {
		t.Errorf("decoded %q %q %d", p.APIKey, p.APIURL, p.TTL)
	}
}

func ptr(n int) *int { return &n }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
