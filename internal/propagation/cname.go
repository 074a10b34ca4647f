package propagation

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// MaxCNAMEChain is the most CNAME records a Follower follows from one name
// by default.
const MaxCNAMEChain = 8

// Follower finds where a name's CNAME chain ends, as lego (EffectiveFQDN)
// and cert-manager (cnameStrategy: Follow) do before they write a DNS-01
// record: a record at an alias would never be seen, since a CA asking for
// the alias's TXT record is answered from the target. The zero value is
// ready to use; a Follower is not modified by Follow.
type Follower struct {
	// Resolvers, when set, are the servers to ask (host:port, queried with
	// RD set) instead of each name's authoritative servers, as for
	// Checker.Resolvers.
	Resolvers []string
	// SystemResolvers find the zone of each name of the chain and its
	// authoritative servers when Resolvers is empty (default: from
	// /etc/resolv.conf, else 127.0.0.1:53), as for Checker.SystemResolvers.
	SystemResolvers []string
	// Max is the most CNAME records followed; 0 means MaxCNAMEChain.
	Max int

	// authPort is the port authoritative servers are queried on; "" means
	// "53". Tests set it.
	authPort string
}

// Follow returns the end of the CNAME chain that starts at name: name itself
// (lower case, with a trailing dot) when it is no alias, else the target of
// its CNAME record, followed again until a name has no CNAME record. A name
// that does not exist ends the chain: the end is where a record is to be
// written, so it need not exist yet. chain is every name of the chain in
// order, name first and the end last.
//
// Each name is asked of the authoritative servers of the zone holding it,
// found as FindZone and Checker.Wait find them through SystemResolvers, or
// of Resolvers when set; the servers are tried in turn until one answers
// NOERROR or NXDOMAIN. It is an error when none does, when a name comes
// back in the chain (a loop), and when the chain holds more than Max CNAME
// records; the error then shows the chain. A name is never followed
// silently past an unanswered question, so that a record is not written
// where the CA will not look.
func (f *Follower) Follow(ctx context.Context, name string) (end string, chain []string, err error) {
	cur, err := normalizeName(name)
	if err != nil {
		return "", nil, fmt.Errorf("following CNAMEs: %w", err)
	}
	limit := f.Max
	if limit <= 0 {
		limit = MaxCNAMEChain
	}
	chain = []string{cur}
	for {
		next, err := f.cname(ctx, cur)
		if err != nil {
			return "", chain, fmt.Errorf("following the CNAMEs of %s: %w", chain[0], err)
		}
		if next == "" {
			return cur, chain, nil
		}
		for _, seen := range chain {
			if seen == next {
				return "", append(chain, next), fmt.Errorf("the CNAMEs of %s form a loop: %s", chain[0], strings.Join(append(chain, next), " → "))
			}
		}
		chain = append(chain, next)
		if len(chain)-1 > limit {
			return "", chain, fmt.Errorf("the CNAME chain of %s is longer than %d: %s", chain[0], limit, strings.Join(chain, " → "))
		}
		cur = next
	}
}

// cname returns the target of name's CNAME record, lower case with a
// trailing dot, or "" when name has none.
func (f *Follower) cname(ctx context.Context, name string) (string, error) {
	var servers []server
	if len(f.Resolvers) > 0 {
		for _, r := range f.Resolvers {
			addr, err := parseResolver(r)
			if err != nil {
				return "", err
			}
			servers = append(servers, server{addr: addr, rd: true})
		}
	} else {
		sys, err := resolversOrSystem(f.SystemResolvers)
		if err != nil {
			return "", fmt.Errorf("system resolvers: %w", err)
		}
		zone, err := FindZone(ctx, sys, name)
		if err != nil {
			return "", err
		}
		c := &Checker{authPort: f.authPort}
		if servers, _, err = c.authServers(ctx, sys, zone); err != nil {
			return "", fmt.Errorf("authoritative servers of %s: %w", zone, err)
		}
	}
	var parts []string
	for _, s := range servers {
		r, err := exchange(ctx, s.addr, name, dns.TypeCNAME, s.rd)
		switch {
		case err != nil:
			parts = append(parts, s.label()+": "+describeError(err))
			if ctx.Err() != nil {
				return "", fmt.Errorf("CNAME %s: %w", name, ctx.Err())
			}
			continue
		case r.Rcode == dns.RcodeNameError:
			return "", nil
		case r.Rcode != dns.RcodeSuccess:
			parts = append(parts, s.label()+": "+rcodeName(r.Rcode))
			continue
		}
		for _, rr := range r.Answer {
			if cn, ok := rr.(*dns.CNAME); ok && strings.EqualFold(cn.Hdr.Name, name) {
				target, err := normalizeName(cn.Target)
				if err != nil {
					return "", fmt.Errorf("CNAME %s: target: %w", name, err)
				}
				return target, nil
			}
		}
		return "", nil
	}
	return "", fmt.Errorf("CNAME %s: no server answered (%s)", name, strings.Join(parts, "; "))
}
