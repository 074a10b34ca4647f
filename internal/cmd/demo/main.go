// Command demo runs acme-dns-hook's main job end to end on the built-in local
// stack (fake mijn.host API, authoritative DNS server, Pebble CA), printing
// each step. Run it with `make demo`.
package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/mijnhost"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func step(format string, args ...any) { fmt.Printf("==> "+format+"\n", args...) }

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack, err := localstack.Start(localstack.Options{})
	if err != nil {
		return err
	}
	defer stack.Close()
	step("fake mijn.host API at %s, zone %s with %d records", stack.MijnHost.URL, localstack.Zone, len(localstack.Seed()))
	step("authoritative DNS server for %s at %s (UDP and TCP)", localstack.Zone, stack.DNS.Addr())
	before := stack.MijnHost.Records(localstack.Zone)
	printZone(before)

	if err := roundTrip(ctx, stack); err != nil {
		return err
	}

	after := stack.MijnHost.Records(localstack.Zone)
	if !slices.Equal(before, after) {
		printZone(after)
		return fmt.Errorf("the zone after cleanup differs from the zone before")
	}
	step("zone after cleanup is identical to the zone before (%d records)", len(after))
	return nil
}

// roundTrip presents, verifies and cleans up a challenge record through the
// libdns provider, as certmagic/Caddy would.
func roundTrip(ctx context.Context, stack *localstack.Stack) error {
	p := &mijnhost.Provider{APIKey: localstack.APIKey, APIURL: stack.MijnHost.URL}
	zone := localstack.Zone + "."
	value := "demo-digest-" + fmt.Sprint(time.Now().Unix())
	rec := libdns.TXT{Name: "_acme-challenge", Text: value}
	fqdn := "_acme-challenge." + zone

	step("libdns AppendRecords(%s, TXT %s %q)", zone, rec.Name, value)
	if _, err := p.AppendRecords(ctx, zone, []libdns.Record{rec}); err != nil {
		return err
	}
	got, err := lookupTXT(stack.DNS.Addr(), fqdn)
	if err != nil {
		return err
	}
	step("DNS %s TXT -> %q", fqdn, got)
	if !slices.Contains(got, value) {
		return fmt.Errorf("DNS does not serve the value")
	}
	step("libdns DeleteRecords(%s, TXT %s %q)", zone, rec.Name, value)
	if _, err := p.DeleteRecords(ctx, zone, []libdns.Record{rec}); err != nil {
		return err
	}
	got, err = lookupTXT(stack.DNS.Addr(), fqdn)
	if err != nil {
		return err
	}
	step("DNS %s TXT -> %q (gone)", fqdn, got)
	if slices.Contains(got, value) {
		return fmt.Errorf("DNS still serves the value after cleanup")
	}
	step("API requests: %v", stack.MijnHost.Requests())
	return nil
}

func lookupTXT(server, fqdn string) ([]string, error) {
	m := new(dns.Msg)
	m.SetQuestion(fqdn, dns.TypeTXT)
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, server)
	if err != nil {
		return nil, fmt.Errorf("querying %s TXT at %s: %w", fqdn, server, err)
	}
	var out []string
	for _, rr := range r.Answer {
		if t, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(t.Txt, ""))
		}
	}
	return out, nil
}

func printZone(recs []mijnhosttest.Record) {
	for _, r := range recs {
		fmt.Printf("    %-32s %5d %-5s %s\n", r.Name, r.TTL, r.Type, r.Value)
	}
}
