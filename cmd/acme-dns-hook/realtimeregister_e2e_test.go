package main

// End-to-end tests of the Realtime Register provider: the lego CLI obtains
// real wildcard + apex certificates from the local Pebble CA through the
// acme-dns-hook binary (--dns exec), which answers DNS-01 at the fake
// Realtime Register API whose zone the local DNS server serves. Everything
// runs on 127.0.0.1. The lego CLI must be built first (`make tools`, or set
// ACME_HOOK_LEGO); a missing lego fails the test, it is never skipped.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/realtimeregister/realtimeregistertest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/localstack"
)

// rtrCredentials are the ways a hook process can authenticate.
var rtrCredentials = []struct {
	name string
	env  []string // replaces the stack's API key
}{
	{"api_key", nil},
	{"session", []string{"REALTIMEREGISTER_USERNAME=" + localstack.RealtimeRegisterUsername,
		"REALTIMEREGISTER_PASSWORD=" + localstack.RealtimeRegisterPassword}},
}

func TestRealtimeRegisterLegoWildcardCertificate(t *testing.T) {
	for _, cred := range rtrCredentials {
		t.Run(cred.name, func(t *testing.T) {
			t.Parallel()
			stack := rtrStack(t)
			before := stack.Fake.Snapshot(localstack.Zone)
			out := rtrLego(t, stack, cred.env)
			fake := stack.RealtimeRegister()
			t.Logf("Realtime Register API requests: %v", fake.Requests())
			if n := fake.Count(realtimeregistertest.EndpointUpdateZone); n < 2 {
				t.Errorf("%d zone updates: the certificate was not obtained through acme-dns-hook", n)
			}
			sessions := fake.Count(realtimeregistertest.EndpointCreateSession)
			if (cred.env == nil) != (sessions == 0) {
				t.Errorf("%d sessions opened with %s credentials", sessions, cred.name)
			}
			rtrNoSecrets(t, out)
			if after := stack.Fake.Snapshot(localstack.Zone); !slices.Equal(after, before) {
				t.Errorf("the zone after issuance differs from the zone before:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
			}
		})
	}
}

// TestRealtimeRegisterFortyRecordsSurvive: a zone with 40 assorted records
// (MX, SRV, CAA, NS, TLSA, SSHFP, TXT with quotes and backslashes, a long
// TXT, a stale challenge at the very name lego uses, …) is byte for byte
// the same after a wildcard + apex issuance.
func TestRealtimeRegisterFortyRecordsSurvive(t *testing.T) {
	t.Parallel()
	stack := rtrStack(t)
	fake := stack.RealtimeRegister()
	recs, err := localstack.RealtimeRegisterRecords(localstack.Zone, fortyRecords()...)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 40 {
		t.Fatalf("%d records seeded, want 40", len(recs))
	}
	fake.SetRecords(fake.ZoneID(localstack.Zone, ""), recs...)
	before := stack.Fake.Snapshot(localstack.Zone)
	out := rtrLego(t, stack, nil)
	rtrNoSecrets(t, out)
	after := stack.Fake.Snapshot(localstack.Zone)
	if !slices.Equal(after, before) {
		t.Errorf("the zone after issuance differs from the zone before:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
	for _, want := range []string{
		`{"name":"quotes.example.test","type":"TXT","content":"say \\\"hi\\\" to C:\\\\dir\\\\ and \\\\\\\"both\\\\\\\"","ttl":300}`,
		`{"name":"nomail.example.test","type":"MX","content":".","ttl":3600,"prio":0}`,
	} {
		if !slices.Contains(after, want) {
			t.Errorf("record %s missing after issuance", want)
		}
	}
	t.Logf("Realtime Register API requests: %v", fake.Requests())
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
	tests := []struct {
		name  string
		setup func(*realtimeregistertest.Server)
		fqdn  string
		env   []string
		want  []string
	}{
		{"api key rejected", nil, "_acme-challenge.example.test.", []string{"REALTIMEREGISTER_API_KEY=wrong-key-0123456789"},
			[]string{"the credentials were rejected", "HTTP 401: AuthenticationError"}},
		{"password rejected", nil, "_acme-challenge.example.test.", []string{"REALTIMEREGISTER_API_KEY=",
			"REALTIMEREGISTER_USERNAME=" + localstack.RealtimeRegisterUsername, "REALTIMEREGISTER_PASSWORD=wrong-password-0123456789"},
			[]string{"the credentials were rejected", "opening a session: POST session: HTTP 401"}},
		{"a BASIC and a PREMIUM zone and nothing to choose by", func(f *realtimeregistertest.Server) {
			f.AddZone(realtimeregistertest.Zone{Name: "example.org"})
			f.AddZone(realtimeregistertest.Zone{Name: "example.org", Service: realtimeregistertest.Premium})
		}, "_acme-challenge.example.org.", nil, []string{"zone example.org exists as BASIC (id ", "REALTIMEREGISTER_ZONE_SERVICE"}},
		{"the API keeps failing", func(f *realtimeregistertest.Server) { f.FailNext(1000, realtimeregistertest.FaultBadGatewayHTML) },
			"_acme-challenge.example.test.", nil, []string{"HTTP 502", "after 4 tries"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack, err := localstack.Start(localstack.Options{Provider: "realtimeregister"})
			if err != nil {
				t.Fatal(err)
			}
			defer stack.Close()
			fake := stack.RealtimeRegister()
			if tt.setup != nil {
				tt.setup(fake)
			}
			before := stack.Fake.Snapshot(localstack.Zone)
			env := append(stack.Env(), "ACME_HOOK_LOCK_DIR="+t.TempDir(), "ACME_HOOK_PROPAGATION_TIMEOUT=5", "ACME_HOOK_POLLING_INTERVAL=1")
			env = append(env, tt.env...)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"present", tt.fqdn, "v-0123456789"}, envFunc(env), &stdout, &stderr)
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			last := lines[len(lines)-1]
			if code == 0 || !strings.HasPrefix(last, "acme-dns-hook: ") {
				t.Fatalf("exit %d, last line %q; stderr:\n%s", code, last, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(last, w) {
					t.Errorf("cause lacks %q: %s", w, last)
				}
			}
			rtrNoSecrets(t, stdout.Bytes())
			rtrNoSecrets(t, stderr.Bytes())
			for _, secret := range []string{"wrong-key-0123456789", "wrong-password-0123456789"} {
				if strings.Contains(stdout.String()+stderr.String(), secret) {
					t.Errorf("output shows a credential: %s", stderr.String())
				}
			}
			if n := fake.Count(realtimeregistertest.EndpointUpdateZone); n != 0 {
				t.Errorf("%d zone updates", n)
			}
			if after := stack.Fake.Snapshot(localstack.Zone); !slices.Equal(after, before) {
				t.Errorf("records of the zone changed")
			}
		})
	}
}

// TestRealtimeRegisterConcurrentProcesses runs 20 hook processes at once on
// one zone, each opening its own session: the file lock must keep every
// record, and every unrelated record must stay as it was.
func TestRealtimeRegisterConcurrentProcesses(t *testing.T) {
	stack, err := localstack.Start(localstack.Options{Provider: "realtimeregister"})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	before := stack.Fake.Snapshot(localstack.Zone)
	env := slices.DeleteFunc(stack.Env(), func(kv string) bool { return strings.HasPrefix(kv, "REALTIMEREGISTER_API_KEY=") })
	env = append(env, rtrCredentials[1].env...)
	env = append(env, "ACME_HOOK_LOCK_DIR="+t.TempDir(), "ACME_HOOK_POLLING_INTERVAL=1", "ACME_HOOK_PROPAGATION_TIMEOUT=20")
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cmd := exec.Command(hookBin, "present", "_acme-challenge.example.test.", fmt.Sprintf("concurrent-value-%02d", i))
			cmd.Env = append(rtrCleanEnv(t), env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("process %d: %v\n%s", i, err, out)
			}
		})
	}
	wg.Wait()
	after := stack.Fake.Snapshot(localstack.Zone)
	if got := len(after) - len(before); got != n {
		t.Fatalf("%d records added by %d concurrent processes, want %d", got, n, n)
	}
	if !slices.Equal(after[:len(before)], before) {
		t.Errorf("unrelated records changed")
	}
	t.Logf("Realtime Register API requests: %v", stack.RealtimeRegister().Requests())
}

// rtrStack starts the local stack with Pebble on the Realtime Register fake.
func rtrStack(t *testing.T) *localstack.Stack {
	t.Helper()
	stack, err := localstack.Start(localstack.Options{Provider: "realtimeregister", CA: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	return stack
}

// rtrLego obtains a wildcard + apex certificate with the lego CLI calling
// the hook, verifies it against the CA and returns lego's output. cred
// replaces the stack's API key when not nil.
func rtrLego(t *testing.T, stack *localstack.Stack, cred []string) []byte {
	t.Helper()
	lego := rtrLegoBin(t)
	dir := t.TempDir()
	names := []string{localstack.Zone, "*." + localstack.Zone}
	args := []string{"--server", stack.CA.DirectoryURL, "--accept-tos", "--email", "t@example.test", "--path", dir,
		"--dns", "exec", "--dns.resolvers", stack.DNS.Addr(), "--dns.propagation-disable-ans"}
	for _, n := range names {
		args = append(args, "-d", n)
	}
	args = append(args, "run")
	env := append(rtrCleanEnv(t), stack.Env()...)
	if cred != nil {
		env = append(slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "REALTIMEREGISTER_API_KEY=") }), cred...)
	}
	env = append(env,
		"ACME_HOOK_LOCK_DIR="+t.TempDir(), "ACME_HOOK_POLLING_INTERVAL=1",
		"LEGO_CA_CERTIFICATES="+stack.CA.TLSRootsFile(), "LEGO_DISABLE_CNAME_SUPPORT=true",
		"EXEC_PATH="+hookBin, "EXEC_SEQUENCE_INTERVAL=0", "EXEC_POLLING_INTERVAL=1", "EXEC_PROPAGATION_TIMEOUT=30")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, lego, args...)
	cmd.Env, cmd.Dir = env, dir
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("lego failed: %v\n$ %s %s\n%s", err, lego, strings.Join(args, " "), out)
	}
	t.Logf("lego obtained the certificate in %s", time.Since(start).Round(time.Millisecond))
	pem, err := os.ReadFile(filepath.Join(dir, "certificates", localstack.Zone+".crt"))
	if err != nil {
		t.Fatalf("lego exited 0 but left no certificate: %v\n%s", err, out)
	}
	if err := stack.CA.VerifyChain(pem, names); err != nil {
		t.Errorf("the certificate does not verify: %v", err)
	}
	return out
}

// rtrNoSecrets fails if out shows a credential of the stack's fake.
func rtrNoSecrets(t *testing.T, out []byte) {
	t.Helper()
	for _, secret := range []string{localstack.APIKey, localstack.RealtimeRegisterPassword} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("the output shows a credential:\n%s", out)
		}
	}
}

// rtrLegoBin returns the lego CLI: $ACME_HOOK_LEGO, or bin/lego of the
// repository.
func rtrLegoBin(t *testing.T) string {
	t.Helper()
	path := os.Getenv("ACME_HOOK_LEGO")
	if path == "" {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(root, "bin", "lego")
	}
	if fi, err := os.Stat(path); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("the lego CLI is not at %s: run `make tools` in the repository root, or set ACME_HOOK_LEGO to a lego binary", path)
	}
	return path
}

// rtrCleanEnv is this process's environment without anything that could
// redirect lego or the hook (proxies, HOME, settings of either), plus a
// fresh HOME.
func rtrCleanEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		drop := strings.HasSuffix(strings.ToLower(k), "_proxy") || k == "HOME" || strings.HasPrefix(k, "XDG_")
		for _, p := range []string{"ACME_HOOK_", "MIJNHOST_", "REALTIMEREGISTER_", "HOSTUP_", "XYNTA_", "EXEC_", "LEGO_"} {
			drop = drop || strings.HasPrefix(k, p)
		}
		if !drop {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+t.TempDir())
}
