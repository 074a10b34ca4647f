package hook

// End-to-end tests of the experimental Xynta provider: the lego CLI obtains
// a real wildcard + apex certificate from the local Pebble CA through the
// acme-dns-hook binary (--dns exec), which answers DNS-01 at the fake Xynta
// API whose zone the local DNS server serves. Everything runs on 127.0.0.1.
// The lego CLI must be built first (`make tools`, or set ACME_HOOK_LEGO); a
// missing lego fails the test, it is never skipped.

import (
	"testing"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/xynta/xyntatest"
)

func TestXyntaLegoWildcardCertificate(t *testing.T) {
	t.Parallel()
	stack := newStack(t, localstack.Options{Provider: "xynta", CA: true})
	fake := stack.Fake.(*xyntatest.Server)
	before := stack.Fake.Snapshot(localstack.Zone)
	out := obtain(t, newE2E(t, stack, hookEnv(t, stack)), legoExec(), wildcardNames)
	assertNoSecrets(t, out, xyntatest.SeedUID, xyntatest.SeedHash)
	// Two challenge values were presented and cleaned up through the API,
	// each write read back.
	edits, shows := fake.Count(xyntatest.EndpointEditZone), fake.Count(xyntatest.EndpointShowZone)
	t.Logf("Xynta API requests: %v", fake.Requests())
	if edits < 2 {
		t.Errorf("%d zone writes: the certificate was not obtained through acme-dns-hook", edits)
	}
	if shows < 2*edits {
		t.Errorf("%d zone reads for %d writes: writes were not read back", shows, edits)
	}
	assertZoneUnchanged(t, stack, before)
}

// TestXyntaHookFailsLoudly runs the hook's present against a Xynta fake that
// misbehaves: each failure must be a non-zero exit with a one-line cause
// that explains it and shows no credential, and the zone must keep every
// record it had.
func TestXyntaHookFailsLoudly(t *testing.T) {
	t.Parallel()
	hookFailures[*xyntatest.Server]{
		provider: "xynta", fake: func(s *localstack.Stack) *xyntatest.Server { return s.Fake.(*xyntatest.Server) },
		secrets: []string{xyntatest.SeedUID, xyntatest.SeedHash, "hash-for-another-address-0000", "uid-unknown-0000"},
		ignore:  []string{`"_acme-challenge"`},
		rows: []hookFailure[*xyntatest.Server]{
			{name: "a write loses a record silently", setup: func(f *xyntatest.Server) { f.DropOnWrite(1) },
				want: []string{"the zone read back differs from what was written", `missing _acme-challenge.example.test. 120 TXT "` + failValue + `"`}},
			{name: "hash not valid for this address", env: []string{"XYNTA_HASH=hash-for-another-address-0000"},
				want: []string{`status "not-authorized"`, "bound to one whitelisted IP address", "IPv4"}},
			{name: "uid unknown", env: []string{"XYNTA_UID=uid-unknown-0000"},
				want: []string{"not-authorized", "IPv4"}},
			{name: "the API keeps failing", setup: func(f *xyntatest.Server) { f.FailNext(1000, xyntatest.FaultBadGatewayHTML) },
				want: []string{"HTTP 502", "after 4 tries"}},
		},
	}.run(t)
}
