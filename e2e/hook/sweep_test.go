package hook

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/providertest"
)

// TestSweepAfterKill kills the built hook with SIGKILL after it has written
// its value and while it waits for DNS (the DNS server is frozen, so it
// waits): the value stays behind. `sweep` then removes it, and only it:
// another client's value, which the journal does not know, and the value of
// a present that finished (its ACME client cleans it up) stay.
func TestSweepAfterKill(t *testing.T) {
	t.Parallel()
	stack, err := providertest.Start("mijnhost", providertest.Zone, providertest.Seed(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stack.Close)
	const name = "_acme-challenge.example.test."
	const killed, finished = "killed-mid-present-0123456789abcdefghijklmn", "finished-present-0123456789abcdefghijklmnop"
	p, err := providertest.Provider(stack.Provider, stack.Fake)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.AppendRecords(context.Background(), providertest.Zone+".", []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: staleValue}}); err != nil {
		t.Fatal(err)
	}
	before := stack.Fake.Snapshot(providertest.Zone)
	env := append(stack.Env(), "ACME_HOOK_LOCK_DIR="+t.TempDir(), "ACME_HOOK_POLLING_INTERVAL=1", "ACME_HOOK_PROPAGATION_TIMEOUT=600")

	stack.DNS.Freeze()
	asked := make(chan struct{}, 100)
	stack.DNS.OnQuery(func(q dns.Question, _ *dns.Msg) {
		if q.Qtype == dns.TypeTXT && strings.EqualFold(q.Name, name) {
			asked <- struct{}{}
		}
	})
	cmd := exec.Command(hookBin, "present", name, killed)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-asked: // the value is written; the hook waits for DNS
		cmd.Process.Kill()
		<-exited
	case err := <-exited:
		t.Fatalf("the hook exited (%v) before waiting for DNS:\n%s", err, out.String())
	}
	stack.DNS.OnQuery(nil)
	stack.DNS.Thaw()
	if !slices.Contains(txtValues(stack, "_acme-challenge"), killed) {
		t.Fatalf("the killed hook's value is not in the zone: %q\n%s", txtValues(stack, "_acme-challenge"), out.String())
	}

	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"present", name, finished}, env, &stdout, &stderr); code != 0 {
		t.Fatalf("present exited %d: %s", code, stderr.String())
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"sweep"}, env, &stdout, &stderr); code != 0 {
		t.Fatalf("sweep exited %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `removed "`+name+`" "`+killed+`"`) || strings.Contains(stdout.String(), finished) {
		t.Errorf("sweep says %q, want the killed hook's value removed and nothing else", stdout.String())
	}
	if got := txtValues(stack, "_acme-challenge"); slices.Contains(got, killed) || !slices.Contains(got, staleValue) || !slices.Contains(got, finished) {
		t.Errorf("after sweep the name holds %q: want the stale and the finished value, not the killed one", got)
	}
	// The finished value is cleaned up by its client; then the zone is as
	// it was, and a second sweep has nothing to do.
	if code := run(context.Background(), []string{"cleanup", name, finished}, env, &stdout, &stderr); code != 0 {
		t.Fatalf("cleanup exited %d: %s", code, stderr.String())
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"sweep", "--older-than", "1ns"}, env, &stdout, &stderr); code != 0 || stdout.Len() != 0 {
		t.Errorf("second sweep: exit %d, %q; want nothing to do", code, stdout.String())
	}
	if after := stack.Fake.Snapshot(providertest.Zone); !slices.Equal(after, before) {
		t.Errorf("the zone differs from before:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
}

// txtValues returns the TXT values at name (relative to the zone) in the
// stack's fake.
func txtValues(stack *providertest.Stack, name string) []string {
	var out []string
	for _, rr := range stack.Fake.Zones()[providertest.Zone+"."] {
		if rr.Type == "TXT" && rr.Name == name {
			out = append(out, rr.Data)
		}
	}
	return out
}
