package realtimeregister

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	rtrtest "github.com/acme-dns-hook/acme-dns-hook/internal/api/realtimeregister/realtimeregistertest"
)

const (
	testKey  = "rtr-test-key-5f1c9a7e2b"
	testUser = "acme/libdns"
	testPass = "rtr-test-password-0c4e7d"
)

func fixture(t *testing.T) []rtrtest.Record {
	t.Helper()
	b, err := os.ReadFile("testdata/example.com.json")
	if err != nil {
		t.Fatal(err)
	}
	var recs []rtrtest.Record
	if err := json.Unmarshal(b, &recs); err != nil {
		t.Fatal(err)
	}
	return recs
}

// setup starts a fake holding example.com (BASIC, the fixture, linked to
// the registered domain) and an empty example.net, and a provider on it.
func setup(t *testing.T) (*Provider, *rtrtest.Server, int64) {
	t.Helper()
	fake := rtrtest.NewServer()
	t.Cleanup(fake.Close)
	fake.AddAPIKey(testKey)
	fake.AddUser(testUser, testPass)
	id := fake.AddZone(rtrtest.Zone{Name: "example.com", Records: fixture(t)})
	fake.AddDomain(rtrtest.Domain{Name: "example.com", ZoneID: id})
	fake.AddZone(rtrtest.Zone{Name: "example.net"})
	return &Provider{
		APIKey: testKey,
		APIURL: fake.URL,
		retry:  api.Retry{Attempts: 4, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond},
	}, fake, id
}

// added returns the zone's records minus the fixture, or fails if any
// fixture record changed (in any field) or vanished.
func added(t *testing.T, fake *rtrtest.Server, id int64) []rtrtest.Record {
	t.Helper()
	now := fake.Records(id)
	base := fixture(t)
	same := func(a, b rtrtest.Record) bool {
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		return string(ja) == string(jb)
	}
	for _, r := range base {
		if !slices.ContainsFunc(now, func(x rtrtest.Record) bool { return same(x, r) }) {
			t.Errorf("record %+v is gone or changed", r)
		}
	}
	return slices.DeleteFunc(now, func(r rtrtest.Record) bool {
		return slices.ContainsFunc(base, func(x rtrtest.Record) bool { return same(x, r) })
	})
}

func txt(name, text string) libdns.Record { return libdns.TXT{Name: name, Text: text} }

func TestGetRecordsTypedAndRelative(t *testing.T) {
	p, _, _ := setup(t)
	recs, err := p.GetRecords(context.Background(), "example.com.")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]libdns.Record{
		"quotes TXT":          libdns.TXT{Name: "quotes", TTL: 300 * time.Second, Text: `say "hello"; then \ leave`},
		"unicode TXT":         libdns.TXT{Name: "unicode", TTL: 300 * time.Second, Text: "grüße — 日本 ✓"},
		"www CNAME":           libdns.CNAME{Name: "www", TTL: time.Hour, Target: "example.com."},
		"@ CAA":               libdns.CAA{Name: "@", TTL: time.Hour, Tag: "issue", Value: "letsencrypt.org"},
		"_sip._tcp SRV":       libdns.SRV{Service: "sip", Transport: "tcp", Name: "@", TTL: time.Hour, Priority: 10, Weight: 60, Port: 5060, Target: "sip.example.com."},
		"*.apps A":            libdns.RR{},
		"_acme-challenge TXT": libdns.TXT{Name: "_acme-challenge", TTL: time.Minute, Text: "stale-token-left-by-someone-else"},
	}
	var mx []string
	for _, r := range recs {
		rr := r.RR()
		if rr.Type == "SOA" || rr.Type == "NS" {
			t.Errorf("system record returned: %+v", rr)
		}
		if rr.Type == "MX" {
			mx = append(mx, rr.Data)
		}
		key := rr.Name + " " + rr.Type
		if w, ok := want[key]; ok {
			if _, isRR := w.(libdns.RR); !isRR && fmt.Sprintf("%#v", r) != fmt.Sprintf("%#v", w) {
				t.Errorf("%s:\n got %#v\nwant %#v", key, r, w)
			}
			delete(want, key)
		}
	}
	for k := range want {
		t.Errorf("record %s missing", k)
	}
	if !slices.Equal(mx, []string{"10 mail.example.com.", "0 backup.example.net."}) {
		t.Errorf("MX data %q", mx)
	}
	if len(recs) != len(fixture(t)) {
		t.Errorf("%d records, want %d", len(recs), len(fixture(t)))
	}
}

func TestChallengeRoundTrip(t *testing.T) {
	p, fake, id := setup(t)
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
	want := []rtrtest.Record{
		{Name: "_acme-challenge.example.com", Type: "TXT", Content: apex.Text, TTL: 120},
		{Name: "_acme-challenge.example.com", Type: "TXT", Content: wild.Text, TTL: 120},
	}
	if got := added(t, fake, id); !slices.EqualFunc(got, want, eqRecord) {
		t.Fatalf("added %+v, want %+v", got, want)
	}
	if n := fake.Count(rtrtest.EndpointUpdateZone); n != 2 {
		t.Errorf("%d updates, want 2 (the repeat must not write)", n)
	}
	del, err := p.DeleteRecords(ctx, "example.com.", []libdns.Record{apex})
	if err != nil || len(del) != 1 {
		t.Fatalf("DeleteRecords = %v, %v", del, err)
	}
	if got := added(t, fake, id); !slices.EqualFunc(got, want[1:], eqRecord) {
		t.Fatalf("after cleanup: %+v", got)
	}
	if del, err = p.DeleteRecords(ctx, "example.com.", []libdns.Record{wild, apex}); err != nil || len(del) != 1 {
		t.Fatalf("DeleteRecords = %v, %v", del, err)
	}
	if got := added(t, fake, id); len(got) != 0 {
		t.Fatalf("left behind: %+v", got)
	}
}

func eqRecord(a, b rtrtest.Record) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestRecordsAsWritten: new records reach the API in its model: full names
// without dot, escaped TXT, prio for MX and SRV (0 explicit), hosts without
// dot.
func TestRecordsAsWritten(t *testing.T) {
	p, fake, id := setup(t)
	in := []libdns.Record{
		libdns.TXT{Name: "esc", TTL: time.Minute, Text: `a "b" \c`},
		libdns.MX{Name: "null", TTL: time.Minute, Preference: 0, Target: "."},
		libdns.SRV{Service: "xmpp", Transport: "tcp", Name: "chat", TTL: time.Minute, Priority: 0, Weight: 5, Port: 5222, Target: "xmpp.example.net."},
		libdns.CNAME{Name: "alias", TTL: time.Minute, Target: "www"},
		libdns.TXT{Name: "long", TTL: time.Minute, Text: strings.Repeat("0123456789", 40)},
	}
	if _, err := p.AppendRecords(context.Background(), "example.com.", in); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"name":"esc.example.com","type":"TXT","content":"a \\\"b\\\" \\\\c","ttl":60}`,
		`{"name":"null.example.com","type":"MX","content":".","ttl":60,"prio":0}`,
		`{"name":"_xmpp._tcp.chat.example.com","type":"SRV","content":"5 5222 xmpp.example.net","ttl":60,"prio":0}`,
		`{"name":"alias.example.com","type":"CNAME","content":"www.example.com","ttl":60}`,
		`{"name":"long.example.com","type":"TXT","content":"` + strings.Repeat("0123456789", 40) + `","ttl":60}`,
	}
	var got []string
	for _, r := range added(t, fake, id) {
		b, _ := json.Marshal(r)
		got = append(got, string(b))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("stored\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Read back, they match what was appended.
	recs, err := p.GetRecords(context.Background(), "example.com.")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range in {
		wr := w.RR()
		wr.Name = libdns.RelativeName(libdns.AbsoluteName(wr.Name, "example.com."), "example.com.")
		if wr.Type == "CNAME" {
			wr.Data = "www.example.com."
		}
		if !slices.ContainsFunc(recs, func(r libdns.Record) bool { return r.RR() == wr }) {
			t.Errorf("%+v not read back", wr)
		}
	}
}

func TestSetRecordsReplacesOneSet(t *testing.T) {
	p, fake, id := setup(t)
	_, err := p.SetRecords(context.Background(), "example.com.", []libdns.Record{
		libdns.MX{Name: "@", TTL: 900 * time.Second, Preference: 5, Target: "mx.example.com."},
	})
	if err != nil {
		t.Fatal(err)
	}
	var mx []string
	for _, r := range fake.Records(id) {
		if r.Type == "MX" {
			mx = append(mx, fmt.Sprint(*r.Prio, " ", r.Content))
		}
	}
	if !slices.Equal(mx, []string{"5 mx.example.com"}) {
		t.Errorf("MX = %q", mx)
	}
	if n := len(fake.Records(id)); n != len(fixture(t))-1 {
		t.Errorf("zone has %d records, want %d", n, len(fixture(t))-1)
	}
}

// TestConcurrentAppendsOneZone: 50 goroutines append at once; the engine
// coalesces them into far fewer zone updates, and every record arrives.
func TestConcurrentAppendsOneZone(t *testing.T) {
	p, fake, id := setup(t)
	fake.SetLatency(10 * time.Millisecond)
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{txt("_acme-challenge", fmt.Sprintf("token-%02d", i))})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(added(t, fake, id)); got != n {
		t.Fatalf("%d of %d records present", got, n)
	}
	updates := fake.Count(rtrtest.EndpointUpdateZone)
	t.Logf("%d concurrent appends: %d updates, %d zone reads, %d listings", n, updates,
		fake.Count(rtrtest.EndpointGetZone), fake.Count(rtrtest.EndpointListZones))
	if updates > 5 {
		t.Errorf("%d update POSTs for %d appends: writes were not coalesced", updates, n)
	}
}

func TestAuthModes(t *testing.T) {
	tests := []struct {
		name         string
		configure    func(*Provider)
		wantSessions int
	}{
		{"api key", func(p *Provider) {}, 0},
		{"session", func(p *Provider) { p.APIKey, p.Username, p.Password = "", testUser, testPass }, 1},
		{"basic", func(p *Provider) { p.APIKey, p.Username, p.Password, p.Auth = "", testUser, testPass, "Basic" }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake, id := setup(t)
			tt.configure(p)
			for _, v := range []string{"one", "two"} {
				if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{txt("_acme-challenge", v)}); err != nil {
					t.Fatal(err)
				}
			}
			if got := added(t, fake, id); len(got) != 2 {
				t.Fatalf("added %+v", got)
			}
			if n := fake.Count(rtrtest.EndpointCreateSession); n != tt.wantSessions {
				t.Errorf("%d sessions, want %d", n, tt.wantSessions)
			}
		})
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	for _, f := range []rtrtest.Fault{
		rtrtest.FaultRateLimit, rtrtest.FaultRateLimitRetryAfter, rtrtest.FaultServerError, rtrtest.FaultBadGateway,
		rtrtest.FaultUnavailable, rtrtest.FaultBadGatewayHTML, rtrtest.FaultDropConnection,
	} {
		t.Run(f.String(), func(t *testing.T) {
			p, fake, id := setup(t)
			p.retry.MaxDelay = 2 * time.Second // Retry-After: 1 must be honoured
			fake.FailNext(2, f)
			if _, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{txt("_acme-challenge", "v")}); err != nil {
				t.Fatal(err)
			}
			if got := added(t, fake, id); len(got) != 1 {
				t.Fatalf("added %+v", got)
			}
		})
	}
}

func TestPersistentFailureIsReported(t *testing.T) {
	p, fake, id := setup(t)
	fake.FailNext(100, rtrtest.FaultServerError)
	_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{txt("_acme-challenge", "v")})
	if err == nil || !strings.Contains(err.Error(), "HTTP 500: InternalSRSError") || !strings.Contains(err.Error(), "after 4 tries") {
		t.Fatalf("err = %v", err)
	}
	if got := added(t, fake, id); len(got) != 0 {
		t.Fatalf("added %+v", got)
	}
}

// TestRejectedRecordNamesIt: the API's per-record error comes back naming
// the record, and the zone is unchanged.
func TestRejectedRecordNamesIt(t *testing.T) {
	p, fake, id := setup(t)
	_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{
		txt("ok", "fine"), libdns.RR{Name: "bad", Type: "A", Data: "192.0.2.256"},
	})
	if err == nil || !strings.Contains(err.Error(), `DnsConfigurationException: The DNS records contain errors: record 14 (bad.example.com A "192.0.2.256"): content: Invalid IPv4 address`) {
		t.Fatalf("err = %v", err)
	}
	if got := added(t, fake, id); len(got) != 0 {
		t.Fatalf("added %+v", got)
	}
}

func TestCredentialErrors(t *testing.T) {
	tests := []struct {
		name      string
		configure func(*Provider)
		want      string
		secrets   []string
	}{
		{"missing", func(p *Provider) { p.APIKey = "" }, "api_key is not set: set it to an API key from the Realtime Register portal, or set username and password", nil},
		{"rejected key", func(p *Provider) { p.APIKey = "wrong-key-1234567890" }, "the credentials were rejected", []string{"wrong-key-1234567890"}},
		{"rejected password", func(p *Provider) { p.APIKey, p.Username, p.Password = "", testUser, "wrong-password-1234" },
			"the credentials were rejected", []string{"wrong-password-1234"}},
		{"rejected password, basic", func(p *Provider) {
			p.APIKey, p.Username, p.Password, p.Auth = "", testUser, "wrong-password-1234", "basic"
		},
			"the credentials were rejected", []string{"wrong-password-1234"}},
		{"missing permission", func(p *Provider) { p.APIKey = "view-only-key-0123" }, "lacks a permission", []string{"view-only-key-0123"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, fake, id := setup(t)
			fake.AddAPIKey("view-only-key-0123", rtrtest.ViewDNSZone)
			tt.configure(p)
			_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{txt("x", "v")})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			for _, s := range append(tt.secrets, testPass, testKey) {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error shows a secret: %q", err)
				}
			}
			if len(added(t, fake, id)) != 0 {
				t.Errorf("zone changed")
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		p    *Provider
		want string
	}{
		{"key and user", &Provider{APIKey: "k", Username: testUser, Password: "p"}, "api_key and username/password are both set: keep one"},
		{"user without password", &Provider{Username: testUser}, "password is not set"},
		{"password without user", &Provider{Password: "p"}, "username is not set"},
		{"user not customer/login", &Provider{Username: "login", Password: "p"}, `username "login" is invalid: use customer/login`},
		{"ttl below the minimum", &Provider{APIKey: "k", TTL: 30}, "ttl 30 is out of range: use whole seconds from 60 to 86400"},
		{"bad service", &Provider{APIKey: "k", ZoneService: "GOLD"}, `zone_service "GOLD" is invalid: use BASIC or PREMIUM`},
		{"ote and url", &Provider{APIKey: "k", OTE: true, APIURL: "https://x/v2/"}, "ote and api_url are both set: keep one"},
		{"bad auth", &Provider{Username: testUser, Password: "p", Auth: "token"}, `auth "token" is invalid: use session or basic`},
		{"auth with a key", &Provider{APIKey: "k", Auth: "basic"}, "auth applies only with username"},
		{"bad url", &Provider{APIKey: "k", APIURL: "api.yoursrs.com"}, "is invalid: use an http or https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.ListZones(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "realtimeregister: ") {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestZones(t *testing.T) {
	p, fake, id := setup(t)
	ctx := context.Background()
	zs, err := p.ListZones(ctx)
	if err != nil || !slices.Equal(zs, []libdns.Zone{{Name: "example.com."}, {Name: "example.net."}}) {
		t.Fatalf("ListZones = %v, %v", zs, err)
	}
	// A zone argument below an account zone works on that part of it.
	if _, err := p.AppendRecords(ctx, "sub.example.com", []libdns.Record{txt("_acme-challenge", "v")}); err != nil {
		t.Fatal(err)
	}
	if got := added(t, fake, id); len(got) != 1 || got[0].Name != "_acme-challenge.sub.example.com" {
		t.Fatalf("added %+v", got)
	}
	if _, err = p.GetRecords(ctx, "example.org."); err == nil || !strings.Contains(err.Error(), "no zone of this account holds example.org.") {
		t.Fatalf("err = %v", err)
	}
	if n := fake.Count(rtrtest.EndpointListZones); n > 2 {
		t.Errorf("zones listed %d times: not cached", n)
	}
}

// TestBasicAndPremium: a name with zones of both services uses the one the
// domain links to, or the forced service; without either it fails with the
// setting to use.
func TestBasicAndPremium(t *testing.T) {
	tests := []struct {
		name    string
		link    string // "", BASIC or PREMIUM
		service string
		want    string // service written to, or an error
	}{
		{"linked BASIC", "BASIC", "", "BASIC"},
		{"linked PREMIUM", "PREMIUM", "", "PREMIUM"},
		{"forced PREMIUM over the link", "BASIC", "premium", "PREMIUM"},
		{"forced BASIC", "", "BASIC", "BASIC"},
		{"nothing decides", "", "", "set zone_service / REALTIMEREGISTER_ZONE_SERVICE to BASIC or PREMIUM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := rtrtest.NewServer()
			defer fake.Close()
			fake.AddAPIKey(testKey)
			ids := map[string]int64{
				"BASIC":   fake.AddZone(rtrtest.Zone{Name: "example.com"}),
				"PREMIUM": fake.AddZone(rtrtest.Zone{Name: "example.com", Service: rtrtest.Premium, NS: []string{"ns1.premium.example"}}),
			}
			if tt.link != "" {
				fake.AddDomain(rtrtest.Domain{Name: "example.com", ZoneID: ids[tt.link]})
			}
			p := &Provider{APIKey: testKey, APIURL: fake.URL, ZoneService: tt.service}
			_, err := p.AppendRecords(context.Background(), "example.com.", []libdns.Record{txt("_acme-challenge", "v")})
			if id, ok := ids[tt.want]; ok {
				if err != nil || len(fake.Records(id)) != 1 {
					t.Fatalf("err = %v; %s zone holds %+v", err, tt.want, fake.Records(id))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestZoneRecreated: a zone deleted and created again (a new id) between
// two calls is found again.
func TestZoneRecreated(t *testing.T) {
	p, fake, _ := setup(t)
	ctx := context.Background()
	if _, err := p.AppendRecords(ctx, "example.net.", []libdns.Record{txt("a", "1")}); err != nil {
		t.Fatal(err)
	}
	old := fake.ZoneID("example.net", "")
	req, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("%sdns/zones/%d", fake.URL, old), nil)
	req.Header.Set("Authorization", "ApiKey "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	resp.Body.Close()
	newID := fake.AddZone(rtrtest.Zone{Name: "example.net"})
	if _, err := p.AppendRecords(ctx, "example.net.", []libdns.Record{txt("b", "2")}); err != nil {
		t.Fatal(err)
	}
	if got := fake.Records(newID); len(got) != 1 || got[0].Name != "b.example.net" {
		t.Fatalf("new zone holds %+v", got)
	}
}

// TestJSONConfig: the configuration's JSON names, as Caddy's JSON config
// and Caddyfile use them.
func TestJSONConfig(t *testing.T) {
	var p Provider
	in := `{"api_key":"k","username":"c/l","password":"pw","auth":"basic","api_url":"https://x/v2/","ote":true,"zone_service":"PREMIUM","ttl":300}`
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	if p.APIKey != "k" || p.Username != "c/l" || p.Password != "pw" || p.Auth != "basic" || p.APIURL != "https://x/v2/" || !p.OTE || p.ZoneService != "PREMIUM" || p.TTL != 300 {
		t.Fatalf("decoded %+v", &p)
	}
	out, _ := json.Marshal(&Provider{APIKey: "k"})
	if string(out) != `{"api_key":"k"}` {
		t.Errorf("encoded %s", out)
	}
}
