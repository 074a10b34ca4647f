package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/dnsname"
	"github.com/acme-dns-hook/acme-dns-hook/internal/propagation"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/solver"
)

// checkInput validates what a command was given before anything is asked of
// a provider, so that bad input changes nothing and exits 2: each
// challenge's name (normalised in place to its ASCII form with a trailing
// dot) and value, the zone of records, and the resolvers to check on.
func checkInput(ctx context.Context, cmd string, chs []solver.Challenge, rest []string, env settings.Env) error {
	for i := range chs {
		if err := checkChallenge(&chs[i]); err != nil {
			return failure{2, err}
		}
	}
	if cmd == "records" && len(rest) == 1 {
		z, err := dnsname.Name(rest[0])
		if err != nil {
			return failure{2, err}
		}
		rest[0] = z
	}
	if err := checkResolvers(ctx, env); err != nil {
		return failure{2, err}
	}
	return nil
}

// checkChallenge checks a challenge's record name and value, and puts the
// name in its ASCII form.
func checkChallenge(ch *solver.Challenge) error {
	name, err := dnsname.Name(ch.FQDN)
	if err != nil {
		return err
	}
	if err := dnsname.Value(ch.Value); err != nil {
		return err
	}
	ch.FQDN = name
	return nil
}

// lookupHost resolves a resolver's host name; replaced in tests.
var lookupHost = net.DefaultResolver.LookupHost

// checkResolvers parses ACME_HOOK_RESOLVERS and resolves each host name in
// it, so that a resolver that cannot be reached by name is an error at the
// start, not after the propagation timeout.
func checkResolvers(ctx context.Context, env settings.Env) error {
	v, err := env.Get("ACME_HOOK_RESOLVERS")
	if err != nil || v == "" {
		return err
	}
	addrs, err := propagation.ParseResolvers(v)
	if err != nil {
		return fmt.Errorf("ACME_HOOK_RESOLVERS: %w", err)
	}
	for _, a := range addrs {
		host, _, _ := net.SplitHostPort(a)
		if _, err := netip.ParseAddr(host); err == nil {
			continue
		}
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := lookupHost(lctx, host)
		cancel()
		if err != nil {
			return fmt.Errorf("ACME_HOOK_RESOLVERS: resolver %q is not an IP address and its name does not resolve: %w", host, err)
		}
	}
	return nil
}
