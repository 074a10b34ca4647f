package hook

// End-to-end tests of CNAME delegation and of several providers at once:
// the local stack runs two providers' fakes, each with an account of its
// own, both served by the one DNS server Pebble validates against. The
// first account holds example.test (the stack's seeded zone); the second
// holds example.org, whose _acme-challenge names are CNAMEs into
// example.test, into loops and into a chain longer than the hook follows.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/propagation"
)

// otherZone is the second account's zone.
const otherZone = "example.org"

// otherSeed is otherZone's records, names relative to it.
func otherSeed() []libdns.RR {
	rec := func(name, typ, data string) libdns.RR {
		return libdns.RR{Name: name, Type: typ, TTL: time.Hour, Data: data}
	}
	seed := []libdns.RR{
		rec("@", "TXT", "v=spf1 -all"),
		rec("www", "A", "192.0.2.80"),
		// example.org's challenges are delegated to the first account.
		// (No target has an underscore: one fake, strict where its
		// provider's rules are unknown, takes CNAME targets to be host
		// names.)
		rec("_acme-challenge", "CNAME", "example-org.acme.example.test."),
		rec("_acme-challenge.loop", "CNAME", "loop-a.example.org."),
		rec("loop-a", "CNAME", "loop-b.example.org."),
		rec("loop-b", "CNAME", "loop-a.example.org."),
		// One CNAME more than the hook follows, ending in the first account.
		rec("_acme-challenge.long", "CNAME", "link1.example.org."),
	}
	for i := 1; i < propagation.MaxCNAMEChain; i++ {
		seed = append(seed, rec(fmt.Sprintf("link%d", i), "CNAME", fmt.Sprintf("link%d.example.org.", i+1)))
	}
	return append(seed, rec(fmt.Sprintf("link%d", propagation.MaxCNAMEChain), "CNAME", "long-org.acme.example.test."))
}

// providerPair returns the i-th pair of distinct providers, in turn, so
// that the rows of a test put every provider first and second.
func providerPair(i int) (first, second string) {
	ps := localstack.Providers()
	return ps[i%len(ps)], ps[(i+1)%len(ps)]
}

// twoAccounts starts the stack with first's account holding example.test
// and second's holding example.org, with Pebble when ca is set. The DNS
// server also serves example.net, which no account holds.
func twoAccounts(t *testing.T, first, second string, ca bool) *localstack.Stack {
	t.Helper()
	return newStack(t, localstack.Options{Provider: first, CA: ca,
		Others:    []localstack.Other{{Provider: second, Zone: otherZone, Seed: otherSeed()}},
		Elsewhere: map[string][]libdns.RR{"example.net.": {{Name: "www", Type: "A", TTL: time.Hour, Data: "192.0.2.90"}}},
	})
}

// assertZonesUnchanged fails the test unless every zone of every account
// of the stack is, line for line of its fake's snapshot, as in before.
func assertZonesUnchanged(t *testing.T, stack *localstack.Stack, before map[string][]string) {
	t.Helper()
	after := stack.Snapshots()
	for z, b := range before {
		if !slices.Equal(after[z], b) {
			t.Errorf("zone %s differs from the zone before:\n%s\nwant\n%s", z, strings.Join(after[z], "\n"), strings.Join(b, "\n"))
		}
	}
}

// TestCNAMEDelegationToAnotherProvider obtains a certificate for
// example.org and *.example.org, whose _acme-challenge is a CNAME from the
// second provider's zone into the first's: the hook follows it and writes
// in example.test, at the first provider, and example.org is not touched.
// The clients hand the hook the domain (RAW, certbot, dehydrated), or the
// name lego did not follow (LEGO_DISABLE_CNAME_SUPPORT, as in every lego
// row here; httpreq through serve); one row has only the first provider's
// credentials, as a host that may write in the challenge zone only has.
func TestCNAMEDelegationToAnotherProvider(t *testing.T) {
	t.Parallel()
	names := []string{otherZone, "*." + otherZone}
	rows := []struct {
		name       string
		client     acmeClient
		targetOnly bool // only the first provider is configured
	}{
		{"lego_exec_RAW", legoExec("EXEC_MODE=RAW"), false},
		{"certbot", certbot, false},
		{"dehydrated_chained", dehydrated(true), false},
		{"lego_exec_target_credentials_only", legoExec(), true},
		{"lego_httpreq", legoHTTPReq(), false},
	}
	for i, r := range rows {
		first, second := providerPair(i)
		t.Run(r.name+"/"+first+"_from_"+second, func(t *testing.T) {
			t.Parallel()
			stack := twoAccounts(t, first, second, true)
			before := stack.Snapshots()
			env := hookEnv(t, stack, "ACME_HOOK_PROPAGATION_TIMEOUT=20")
			if r.targetOnly {
				env = slices.DeleteFunc(env, func(kv string) bool {
					return strings.HasPrefix(kv, "ACME_HOOK_PROVIDER=") || strings.HasPrefix(kv, stack.Accounts[1].Descriptor.Env)
				})
				env = append(env, "ACME_HOOK_PROVIDER="+first)
			}
			stack.Fake.ResetCounts()
			stack.Accounts[1].Fake.ResetCounts()
			out := obtain(t, newE2E(t, stack, env), r.client, names)
			assertNoSecrets(t, out, stack.Secrets()...)
			if len(stack.Fake.Requests()) == 0 {
				t.Errorf("no request reached the %s fake, which holds the CNAME's target", first)
			}
			if r.targetOnly && len(stack.Accounts[1].Fake.Requests()) != 0 {
				t.Errorf("the %s fake was asked %v without credentials for it", second, stack.Accounts[1].Fake.Requests())
			}
			assertZonesUnchanged(t, stack, before)
		})
	}
}

// TestOneOrderTwoProviders obtains one certificate for names of both
// accounts: the hook writes each at its own provider, from one process per
// name (lego exec), one process for all (certbot runs one per name;
// dehydrated's chained triples, one for all), and serve for lego httpreq.
// The certbot row finds its providers by their credentials alone.
func TestOneOrderTwoProviders(t *testing.T) {
	t.Parallel()
	names := []string{localstack.Zone, "*." + localstack.Zone, "www." + otherZone}
	rows := []struct {
		name     string
		client   acmeClient
		implicit bool // no ACME_HOOK_PROVIDER: the credentials choose
	}{
		{"lego_exec", legoExec(), false},
		{"lego_httpreq_RAW", legoHTTPReq("HTTPREQ_MODE=RAW"), false},
		{"certbot", certbot, true},
		{"dehydrated_chained", dehydrated(true), false},
	}
	for i, r := range rows {
		first, second := providerPair(i + 1)
		t.Run(r.name+"/"+first+"_and_"+second, func(t *testing.T) {
			t.Parallel()
			stack := twoAccounts(t, first, second, true)
			before := stack.Snapshots()
			env := hookEnv(t, stack, "ACME_HOOK_PROPAGATION_TIMEOUT=20")
			if r.implicit {
				env = withoutVar(env, "ACME_HOOK_PROVIDER")
			}
			// The certificate verifying shows each record was served, so
			// written in its own account: no other zone serves the name.
			out := obtain(t, newE2E(t, stack, env), r.client, names)
			assertNoSecrets(t, out, stack.Secrets()...)
			assertZonesUnchanged(t, stack, before)
		})
	}
}

// failures are the calls no account can take: a CNAME loop, a chain one
// CNAME longer than the hook follows, and a name of no account; each with
// what the one-line cause says.
var failures = []struct {
	name   string
	domain string
	want   []string
}{
	{"cname_loop", "loop." + otherZone, []string{"the CNAMEs of _acme-challenge.loop.example.org. form a loop: _acme-challenge.loop.example.org. → loop-a.example.org. → loop-b.example.org. → loop-a.example.org.", "ACME_HOOK_FOLLOW_CNAME=false"}},
	{"chain_too_long", "long." + otherZone, []string{fmt.Sprintf("the CNAME chain of _acme-challenge.long.example.org. is longer than %d: ", propagation.MaxCNAMEChain), "link1.example.org. → link2.example.org."}},
	{"no_account", "www.example.net", []string{"acme-dns-hook: no account holds _acme-challenge.www.example.net. (", " zones: example.test.; ", " zones: example.org.)"}},
}

// TestFailuresWriteNothing presents, in one dehydrated-style call, a good
// name of each account and one that cannot be placed: the hook exits
// non-zero with a one-line cause, and no zone of either account changes.
func TestFailuresWriteNothing(t *testing.T) {
	t.Parallel()
	for i, f := range failures {
		first, second := providerPair(i)
		t.Run(f.name+"/"+first+"_and_"+second, func(t *testing.T) {
			t.Parallel()
			stack := twoAccounts(t, first, second, false)
			before := stack.Snapshots()
			args := []string{"deploy_challenge", localstack.Zone, "t1", digest("one"), "www." + otherZone, "t2", digest("two"), f.domain, "t3", digest("three")}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, envFunc(hookEnv(t, stack, "ACME_HOOK_PROPAGATION_TIMEOUT=5")), &stdout, &stderr)
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			last := lines[len(lines)-1]
			if code <= 0 || !strings.HasPrefix(last, "acme-dns-hook: ") {
				t.Fatalf("exit %d, last line %q; want a failure and its cause; stderr:\n%s", code, last, stderr.String())
			}
			t.Logf("the cause: %s", last)
			for _, w := range f.want {
				if !strings.Contains(last, w) {
					t.Errorf("the cause lacks %q: %s", w, last)
				}
			}
			if strings.Contains(stderr.String(), "adding TXT") {
				t.Errorf("the hook went on to add records:\n%s", stderr.String())
			}
			assertNoSecrets(t, append(stdout.Bytes(), stderr.Bytes()...), stack.Secrets()...)
			assertZonesUnchanged(t, stack, before)
		})
	}
}

// TestFailuresWithClients has lego (exec, RAW) and dehydrated (chained)
// ask Pebble for a certificate including a name the hook cannot place:
// the client fails, shows the hook's cause, and every zone ends as it
// began.
func TestFailuresWithClients(t *testing.T) {
	t.Parallel()
	for i, f := range failures[:2] {
		for j, client := range []string{"lego_exec_RAW", "dehydrated_chained"} {
			first, second := providerPair(2*i + j)
			t.Run(f.name+"/"+client+"/"+first+"_and_"+second, func(t *testing.T) {
				t.Parallel()
				stack := twoAccounts(t, first, second, true)
				before := stack.Snapshots()
				w := newE2E(t, stack, hookEnv(t, stack, "ACME_HOOK_PROPAGATION_TIMEOUT=20"))
				names := []string{localstack.Zone, "www." + otherZone, f.domain}
				var out []byte
				switch client {
				case "lego_exec_RAW":
					out = legoFails(t, w, names, "EXEC_MODE=RAW")
				default:
					bin, base, args := dehydratedSetup(t, w, true, names)
					out = clientFails(t, "dehydrated", w.env, base, bin, args...)
				}
				if !bytes.Contains(out, []byte(f.want[0])) {
					t.Errorf("the client's output lacks the hook's cause %q:\n%s", f.want[0], out)
				}
				assertNoSecrets(t, out, stack.Secrets()...)
				assertZonesUnchanged(t, stack, before)
			})
		}
	}
}

// digest returns a DNS-01 value: base64url(SHA-256(keyAuth)).
func digest(keyAuth string) string {
	sum := sha256.Sum256([]byte(keyAuth))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// legoFails runs `lego --dns exec` for names as legoExec does, and returns
// its output; it fails the test unless lego exits non-zero.
func legoFails(t *testing.T, w *e2e, names []string, extraEnv ...string) []byte {
	t.Helper()
	dir := t.TempDir()
	env := append(slices.Clone(w.env), "EXEC_PATH="+hookBin, "EXEC_SEQUENCE_INTERVAL=0", "EXEC_POLLING_INTERVAL=1", "EXEC_PROPAGATION_TIMEOUT=30",
		"LEGO_CA_CERTIFICATES="+w.stack.CA.TLSRootsFile(), "LEGO_DISABLE_CNAME_SUPPORT=true")
	args := []string{"--server", w.stack.CA.DirectoryURL, "--accept-tos", "--email", "test@example.test", "--path", dir,
		"--dns", "exec", "--dns.resolvers", w.stack.DNS.Addr(), "--dns.propagation-disable-ans"}
	for _, n := range names {
		args = append(args, "-d", n)
	}
	return clientFails(t, "lego", append(env, extraEnv...), dir, legoBin(t), append(args, "run")...)
}

// clientFails runs one client to completion and returns its output; it
// fails the test unless the client exits non-zero by itself.
func clientFails(t *testing.T, name string, env []string, dir, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env, cmd.Dir = env, dir
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s was killed at the %s timeout:\n%s", name, clientTimeout, out)
	}
	if err == nil {
		t.Fatalf("%s succeeded; want it to fail:\n%s", name, out)
	}
	t.Logf("%s failed as it should: %v", name, err)
	return out
}

// TestPeopleCommandsSeveral runs zones, records and check with two
// providers configured: each covers both accounts, and check checks each,
// failing, after saying which work, when one account's credentials do not.
func TestPeopleCommandsSeveral(t *testing.T) {
	t.Parallel()
	first, second := providerPair(3)
	stack := twoAccounts(t, first, second, false)
	env := hookEnv(t, stack)
	a, b := stack.Accounts[0].Descriptor, stack.Accounts[1].Descriptor
	runCommands(t, env, []commandTest{
		{[]string{"zones"}, []string{"example.test.\t" + first + "\n", "example.org.\t" + second + "\n"}},
		{[]string{"records", "example.org"}, []string{"example-org.acme.example.test.", "192.0.2.80"}},
		{[]string{"records", "example.test"}, []string{"_dmarc"}},
		{[]string{"check"}, []string{a.Title + " credentials work: 1 zone(s)", b.Title + " credentials work: 1 zone(s)"}},
		{[]string{"--help"}, []string{"ACME_HOOK_FOLLOW_CNAME", "--provider NAME[,NAME...]"}},
	})

	// The second account's first secret, wrong.
	secret := providertestSecret(t, stack, 1)
	bad := slices.Clone(env)
	for i, kv := range bad {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, b.Env) && v == secret {
			bad[i] = k + "=wrong-secret-0123456789"
		}
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"check"}, envFunc(bad), &stdout, &stderr)
	if code == 0 || !strings.Contains(stdout.String(), a.Title+" credentials work") || !strings.Contains(stderr.String(), "acme-dns-hook: "+b.Title+" credentials do not work: ") {
		t.Errorf("check with %s's credentials wrong: exit %d\nstdout:\n%s\nstderr:\n%s", b.Title, code, stdout.String(), stderr.String())
	}
	assertNoSecrets(t, append(stdout.Bytes(), stderr.Bytes()...), append(stack.Secrets(), "wrong-secret-0123456789")...)
}

// providertestSecret returns a secret value account i of stack is
// configured with.
func providertestSecret(t *testing.T, stack *localstack.Stack, i int) string {
	t.Helper()
	acct := stack.Accounts[i]
	for k, v := range acct.Fake.Settings() {
		if s := acct.Descriptor.Setting(k); s != nil && s.Secret {
			return v
		}
	}
	t.Fatalf("%s's fake has no secret setting", acct.Provider)
	return ""
}

// TestFollowCNAMEOff: with ACME_HOOK_FOLLOW_CNAME=false the record goes to
// the name given even when it is a CNAME (the account holding it takes
// it), and rm removes it from there; a value other than true or false is a
// configuration error that writes nothing.
func TestFollowCNAMEOff(t *testing.T) {
	t.Parallel()
	stack := twoAccounts(t, "hostup", "mijnhost", false) // a fake that takes a TXT beside a CNAME
	before := stack.Snapshots()
	env := hookEnv(t, stack, "ACME_HOOK_WAIT=false")
	value := digest("off")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"add", "_acme-challenge.example.org", value}, envFunc(append(env, "ACME_HOOK_FOLLOW_CNAME=maybe")), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), `ACME_HOOK_FOLLOW_CNAME="maybe" is invalid`) {
		t.Errorf("ACME_HOOK_FOLLOW_CNAME=maybe: exit %d, stderr %q; want exit 2 naming it", code, stderr.String())
	}
	assertZonesUnchanged(t, stack, before)

	off := append(env, "ACME_HOOK_FOLLOW_CNAME=false")
	runCommands(t, off, []commandTest{{[]string{"add", "_acme-challenge.example.org", value}, nil}})
	after := stack.Snapshots()
	if !slices.Equal(after["example.test"], before["example.test"]) {
		t.Errorf("example.test changed with CNAMEs not followed:\n%s", strings.Join(after["example.test"], "\n"))
	}
	if !slices.ContainsFunc(after[otherZone], func(l string) bool { return strings.Contains(l, value) }) {
		t.Errorf("the value is not in %s, where the name is:\n%s", otherZone, strings.Join(after[otherZone], "\n"))
	}
	runCommands(t, off, []commandTest{{[]string{"rm", "_acme-challenge.example.org", value}, nil}})
	assertZonesUnchanged(t, stack, before)
}
