package hook

// End-to-end tests of the Realtime Register provider: the lego CLI obtains
// real wildcard + apex certificates from the local Pebble CA through the
// acme-dns-hook binary (--dns exec), which answers DNS-01 at the fake
// Realtime Register API whose zone the local DNS server serves. Everything
// runs on 127.0.0.1. The lego CLI must be built first (`make tools`, or set
// ACME_HOOK_LEGO); a missing lego fails the test, it is never skipped.

import (
	"encoding/json"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/realtimeregister/realtimeregistertest"
)

// rtrCredentials are the ways a hook process can authenticate.
var rtrCredentials = []struct {
	name string
	env  []string // replaces the stack's API key
}{
	{"api_key", nil},
	{"session", []string{"REALTIMEREGISTER_USERNAME=" + realtimeregistertest.SeedUsername,
		"REALTIMEREGISTER_PASSWORD=" + realtimeregistertest.SeedPassword}},
}

func TestRealtimeRegisterLegoWildcardCertificate(t *testing.T) {
	t.Parallel()
	for _, cred := range rtrCredentials {
		t.Run(cred.name, func(t *testing.T) {
			t.Parallel()
			stack := newStack(t, localstack.Options{Provider: "realtimeregister", CA: true})
			before := stack.Fake.Snapshot(localstack.Zone)
			out := rtrLego(t, stack, cred.env)
			fake := stack.Fake.(*realtimeregistertest.Server)
			t.Logf("Realtime Register API requests: %v", fake.Requests())
			if n := fake.Count(realtimeregistertest.EndpointUpdateZone); n < 2 {
				t.Errorf("%d zone updates: the certificate was not obtained through acme-dns-hook", n)
			}
			sessions := fake.Count(realtimeregistertest.EndpointCreateSession)
			if (cred.env == nil) != (sessions == 0) {
				t.Errorf("%d sessions opened with %s credentials", sessions, cred.name)
			}
			assertNoSecrets(t, out, rtrSecrets...)
			assertZoneUnchanged(t, stack, before)
		})
	}
}

// TestRealtimeRegisterFortyRecordsSurvive: a zone with 40 assorted records
// (MX, SRV, CAA, NS, TLSA, SSHFP, TXT with quotes and backslashes, a long
// TXT, a stale challenge at the very name lego uses, …) is byte for byte
// the same after a wildcard + apex issuance.
func TestRealtimeRegisterFortyRecordsSurvive(t *testing.T) {
	t.Parallel()
	stack := newStack(t, localstack.Options{Provider: "realtimeregister", CA: true})
	fake := stack.Fake.(*realtimeregistertest.Server)
	var recs []realtimeregistertest.Record
	for _, rr := range fortyRecords() {
		r, err := realtimeregistertest.RecordFromRR(rr, localstack.Zone)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 40 {
		t.Fatalf("%d records seeded, want 40", len(recs))
	}
	fake.SetRecords(fake.ZoneID(localstack.Zone, ""), recs...)
	before := stack.Fake.Snapshot(localstack.Zone)
	out := rtrLego(t, stack, nil)
	assertNoSecrets(t, out, rtrSecrets...)
	assertZoneUnchanged(t, stack, before)
	after := stack.Fake.Snapshot(localstack.Zone)
	for _, want := range []string{
		`{"name":"quotes.example.test","type":"TXT","content":"say \\\"hi\\\" to C:\\\\dir\\\\ and \\\\\\\"both\\\\\\\"","ttl":300}`,
		`{"name":"nomail.example.test","type":"MX","content":".","ttl":3600,"prio":0}`,
	} {
		if !slices.ContainsFunc(after, func(line string) bool { return sameJSON(line, want) }) {
			t.Errorf("record %s missing after issuance", want)
		}
	}
	t.Logf("Realtime Register API requests: %v", fake.Requests())
}

// sameJSON reports whether two JSON texts hold the same value (the fake
// stores records in its own spacing and escaping).
func sameJSON(a, b string) bool {
	var va, vb any
	return json.Unmarshal([]byte(a), &va) == nil && json.Unmarshal([]byte(b), &vb) == nil && reflect.DeepEqual(va, vb)
}

// fortyRecords is an assorted zone in libdns form (names relative to the
// zone).
func fortyRecords() []libdns.RR {
	rr := func(name string, ttl int, typ, data string) libdns.RR {
		return libdns.RR{Name: name, TTL: time.Duration(ttl) * time.Second, Type: typ, Data: data}
	}
	long := "v=DKIM1; k=rsa; p=" + strings.Repeat("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", 14)
	return []libdns.RR{
		rr("@", 900, "A", "192.0.2.80"),
		rr("@", 900, "AAAA", "2001:db8::80"),
		rr("www", 900, "A", "192.0.2.80"),
		rr("www", 900, "AAAA", "2001:db8::80"),
		rr("mail", 3600, "A", "192.0.2.25"),
		rr("mail", 3600, "AAAA", "2001:db8::25"),
		rr("*.apps", 600, "A", "192.0.2.44"),
		rr("ftp", 3600, "A", "192.0.2.21"),
		rr("@", 3600, "MX", "10 mail.example.test."),
		rr("@", 3600, "MX", "20 backup.example.net."),
		rr("nomail", 3600, "MX", "0 ."),
		rr("_sip._tcp", 3600, "SRV", "10 60 5060 sip.example.test."),
		rr("_xmpp-server._tcp", 3600, "SRV", "5 0 5269 xmpp.example.test."),
		rr("_caldavs._tcp", 3600, "SRV", "0 0 443 ."),
		rr("@", 3600, "CAA", `0 issue "letsencrypt.org"`),
		rr("@", 3600, "CAA", `0 issuewild ";"`),
		rr("@", 3600, "CAA", `0 iodef "mailto:security@example.test"`),
		rr("secure", 3600, "CAA", `128 issue "pki.example.net; account=123"`),
		rr("@", 3600, "TXT", "v=spf1 mx include:_spf.example.net -all"),
		rr("_dmarc", 3600, "TXT", `v=DMARC1; p=reject; rua=mailto:"dmarc"@example.test`),
		rr("quotes", 300, "TXT", `say "hi" to C:\dir\ and \"both\"`),
		rr("selector1._domainkey", 3600, "TXT", long),
		rr("unicode", 300, "TXT", "grüße — 日本 ✓"),
		rr("@", 3600, "TXT", "google-site-verification=abcdefghijklmnopqrstuvwxyz0123456789"),
		rr("semi", 300, "TXT", "a;b;c; d=e"),
		rr("_acme-challenge", 120, "TXT", "stale-token-left-by-another-client"),
		rr("_acme-challenge.other", 120, "TXT", "stale-token-of-another-name"),
		rr("blog", 3600, "CNAME", "www.example.test."),
		rr("docs", 3600, "CNAME", "docs.example.net."),
		rr("shop", 3600, "CNAME", "shops.example.net."),
		rr("sub", 3600, "NS", "ns1.example.net."),
		rr("sub", 3600, "NS", "ns2.example.net."),
		rr("_443._tcp.www", 3600, "TLSA", "3 1 1 0d6fce3325d5f4ef1d8e5a3c2b8e2ad03a7d3e1a3d2f8e4c5b6a7d8e9f0a1b2c"),
		rr("www", 3600, "SSHFP", "4 2 123456789abcdef67890123456789abcdef67890123456789abcdef123456789"),
		rr("@", 3600, "NAPTR", `100 10 "u" "E2U+sip" "!^.*$!sip:info@example.test!" .`),
		rr("alias", 3600, "ALIAS", "www.example.net."),
		rr("_dep._tcp", 3600, "URI", `10 1 "https://example.test/dep"`),
		rr("host", 3600, "HINFO", `"x86_64" "Linux"`),
		rr("loc", 3600, "LOC", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m"),
		rr("old", 86400, "A", "192.0.2.200"),
	}
}

// TestRealtimeRegisterHookFailsLoudly: failures at the API are a non-zero
// exit with a one-line cause that explains them and shows no credential,
// and the zone keeps every record.
func TestRealtimeRegisterHookFailsLoudly(t *testing.T) {
	t.Parallel()
	noZoneUpdates := func(t *testing.T, f *realtimeregistertest.Server) {
		if n := f.Count(realtimeregistertest.EndpointUpdateZone); n != 0 {
			t.Errorf("%d zone updates", n)
		}
	}
	hookFailures[*realtimeregistertest.Server]{
		provider: "realtimeregister", fake: func(s *localstack.Stack) *realtimeregistertest.Server { return s.Fake.(*realtimeregistertest.Server) },
		secrets: append([]string{"wrong-key-0123456789", "wrong-password-0123456789"}, rtrSecrets...),
		rows: []hookFailure[*realtimeregistertest.Server]{
			{name: "api key rejected", env: []string{"REALTIMEREGISTER_API_KEY=wrong-key-0123456789"},
				want:  []string{"the credentials were rejected", "HTTP 401: AuthenticationError"},
				check: noZoneUpdates},
			{name: "password rejected", env: []string{"REALTIMEREGISTER_API_KEY=",
				"REALTIMEREGISTER_USERNAME=" + realtimeregistertest.SeedUsername, "REALTIMEREGISTER_PASSWORD=wrong-password-0123456789"},
				want:  []string{"the credentials were rejected", "opening a session: POST session: HTTP 401"},
				check: noZoneUpdates},
			{name: "a BASIC and a PREMIUM zone and nothing to choose by", setup: func(f *realtimeregistertest.Server) {
				f.AddZone(realtimeregistertest.Zone{Name: "example.org"})
				f.AddZone(realtimeregistertest.Zone{Name: "example.org", Service: realtimeregistertest.Premium})
			}, fqdn: "_acme-challenge.example.org.",
				want:  []string{"zone example.org exists as BASIC (id ", "REALTIMEREGISTER_ZONE_SERVICE"},
				check: noZoneUpdates},
			{name: "the API keeps failing", setup: func(f *realtimeregistertest.Server) { f.FailNext(1000, realtimeregistertest.FaultBadGatewayHTML) },
				want:  []string{"HTTP 502", "after 4 tries"},
				check: noZoneUpdates},
		},
	}.run(t)
}

// TestRealtimeRegisterConcurrentProcesses runs 20 hook processes at once on
// one zone, each opening its own session: the file lock must keep every
// record, and every unrelated record must stay as it was.
func TestRealtimeRegisterConcurrentProcesses(t *testing.T) {
	t.Parallel()
	stack := newStack(t, localstack.Options{Provider: "realtimeregister"})
	before := stack.Fake.Snapshot(localstack.Zone)
	env := withoutVar(hookEnv(t, stack, "ACME_HOOK_PROPAGATION_TIMEOUT=20"), "REALTIMEREGISTER_API_KEY")
	const n = 20
	presentConcurrently(t, append(env, rtrCredentials[1].env...), n)
	after := stack.Fake.Snapshot(localstack.Zone)
	if got := len(after) - len(before); got != n {
		t.Fatalf("%d records added by %d concurrent processes, want %d", got, n, n)
	}
	if !slices.Equal(after[:len(before)], before) {
		t.Errorf("unrelated records changed")
	}
	t.Logf("Realtime Register API requests: %v", stack.Fake.(*realtimeregistertest.Server).Requests())
}

// rtrSecrets are the credentials of the stack's fake, which no output may
// show.
var rtrSecrets = []string{mijnhosttest.SeedKey, realtimeregistertest.SeedPassword}

// rtrLego obtains a wildcard + apex certificate with the lego CLI calling
// the hook and returns lego's output. cred replaces the stack's API key
// when not nil.
func rtrLego(t *testing.T, stack *localstack.Stack, cred []string) []byte {
	t.Helper()
	env := hookEnv(t, stack)
	if cred != nil {
		env = append(withoutVar(env, "REALTIMEREGISTER_API_KEY"), cred...)
	}
	return obtain(t, newE2E(t, stack, env), legoExec(), wildcardNames)
}
