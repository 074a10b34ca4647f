package main

// End-to-end tests of the experimental Xynta provider: the lego CLI obtains
// a real wildcard + apex certificate from the local Pebble CA through the
// acme-dns-hook binary (--dns exec), which answers DNS-01 at the fake Xynta
// API whose zone the local DNS server serves. Everything runs on 127.0.0.1.
// The lego CLI must be built first (`make tools`, or set ACME_HOOK_LEGO); a
// missing lego fails the test, it is never skipped.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/xynta/xyntatest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/localstack"
)

func TestXyntaLegoWildcardCertificate(t *testing.T) {
	lego := xyntaLegoBin(t)
	stack, err := localstack.Start(localstack.Options{Provider: "xynta", CA: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	fake := stack.Xynta()
	before := stack.Fake.Snapshot(localstack.Zone)

	dir := t.TempDir()
	names := []string{localstack.Zone, "*." + localstack.Zone}
	args := []string{"--server", stack.CA.DirectoryURL, "--accept-tos", "--email", "t@example.test", "--path", dir,
		"--dns", "exec", "--dns.resolvers", stack.DNS.Addr(), "--dns.propagation-disable-ans"}
	for _, n := range names {
		args = append(args, "-d", n)
	}
	args = append(args, "run")
	env := append(xyntaCleanEnv(t), stack.Env()...)
	env = append(env,
		"ACME_HOOK_LOCK_DIR="+t.TempDir(), "ACME_HOOK_POLLING_INTERVAL=1",
		"LEGO_CA_CERTIFICATES="+stack.CA.TLSRootsFile(), "LEGO_DISABLE_CNAME_SUPPORT=true",
		"EXEC_PATH="+hookBin, "EXEC_SEQUENCE_INTERVAL=0", "EXEC_POLLING_INTERVAL=1", "EXEC_PROPAGATION_TIMEOUT=30")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, lego, args...)
	cmd.Env, cmd.Dir = env, dir
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("lego failed: %v\n$ %s %s\n%s", err, lego, strings.Join(args, " "), out)
	}
	for _, secret := range []string{localstack.XyntaUID, localstack.XyntaHash} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("the output shows a credential:\n%s", out)
		}
	}

	pem, err := os.ReadFile(filepath.Join(dir, "certificates", localstack.Zone+".crt"))
	if err != nil {
		t.Fatalf("lego exited 0 but left no certificate: %v\n%s", err, out)
	}
	if err := stack.CA.VerifyChain(pem, names); err != nil {
		t.Errorf("the certificate does not verify: %v", err)
	}
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
	if after := stack.Fake.Snapshot(localstack.Zone); !slices.Equal(after, before) {
		t.Errorf("the zone after issuance differs from the zone before:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
}

// TestXyntaHookFailsLoudly runs the hook's present against a Xynta fake that
// misbehaves: each failure must be a non-zero exit with a one-line cause
// that explains it and shows no credential, and the zone must keep every
// record it had.
func TestXyntaHookFailsLoudly(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*xyntatest.Server)
		env   []string
		want  []string
	}{
		{"a write loses a record silently", func(f *xyntatest.Server) { f.DropOnWrite(1) }, nil,
			[]string{"the zone read back differs from what was written", `missing _acme-challenge.example.test. 120 TXT "v-0123456789"`}},
		{"hash not valid for this address", nil, []string{"XYNTA_HASH=hash-for-another-address-0000"},
			[]string{`status "not-authorized"`, "bound to one whitelisted IP address", "IPv4"}},
		{"uid unknown", nil, []string{"XYNTA_UID=uid-unknown-0000"},
			[]string{"not-authorized", "IPv4"}},
		{"the API keeps failing", func(f *xyntatest.Server) { f.FailNext(1000, xyntatest.FaultBadGatewayHTML) }, nil,
			[]string{"HTTP 502", "after 4 tries"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack, err := localstack.Start(localstack.Options{Provider: "xynta"})
			if err != nil {
				t.Fatal(err)
			}
			defer stack.Close()
			before := stack.Fake.Snapshot(localstack.Zone)
			if tt.setup != nil {
				tt.setup(stack.Xynta())
			}
			env := append(stack.Env(), "ACME_HOOK_LOCK_DIR="+t.TempDir(), "ACME_HOOK_PROPAGATION_TIMEOUT=5", "ACME_HOOK_POLLING_INTERVAL=1")
			env = append(env, tt.env...)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"present", "_acme-challenge.example.test.", "v-0123456789"}, envFunc(env), &stdout, &stderr)
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
			for _, secret := range []string{localstack.XyntaUID, localstack.XyntaHash, "hash-for-another-address-0000", "uid-unknown-0000"} {
				if strings.Contains(stdout.String()+stderr.String(), secret) {
					t.Errorf("output shows a credential: %s", stderr.String())
				}
			}
			after := stack.Fake.Snapshot(localstack.Zone)
			rest := slices.DeleteFunc(slices.Clone(after), func(l string) bool { return strings.Contains(l, `"_acme-challenge"`) })
			if !slices.Equal(rest, before) {
				t.Errorf("records of the zone changed:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
			}
		})
	}
}

// xyntaLegoBin returns the lego CLI: $ACME_HOOK_LEGO, or bin/lego of the
// repository.
func xyntaLegoBin(t *testing.T) string {
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

// xyntaCleanEnv is this process's environment without anything that could
// redirect lego or the hook (proxies, HOME, settings of either), plus a
// fresh HOME.
func xyntaCleanEnv(t *testing.T) []string {
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
