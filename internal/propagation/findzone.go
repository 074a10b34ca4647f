package propagation

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// FindZone returns the apex of the DNS zone that holds name, lower-case with
// a trailing dot. Like lego's dns01.FindZoneByFqdn, it asks for the SOA
// record of name, then of each parent in turn, and the first name whose
// answer holds its SOA record is the apex. In addition, the SOA record that
// a NXDOMAIN or NODATA answer carries in its authority section (RFC 2308)
// names the apex at once, when it is owned by the name asked or a parent of
// it. An answer that holds a CNAME says nothing: an alias is never a zone
// apex, and the authority section then describes the target's zone, so the
// walk goes on to the parent.
//
// resolvers are recursive resolvers ("host:port"; without a port, port 53),
// asked with RD set, in turn, until one answers NOERROR or NXDOMAIN; empty
// means the nameservers of /etc/resolv.conf, else 127.0.0.1:53. Unlike
// lego, FindZone stops with an error when no resolver gives such an answer
// for a name of the walk, so that a zone that fails to answer is never
// passed over for its parent. It is also an error when no name up to the
// top-level domain has an SOA record; the root zone is never returned.
func FindZone(ctx context.Context, resolvers []string, name string) (string, error) {
	fqdn, err := normalizeName(name)
	if err != nil {
		return "", fmt.Errorf("finding the zone: %w", err)
	}
	servers, err := resolversOrSystem(resolvers)
	if err != nil {
		return "", fmt.Errorf("finding the zone of %s: %w", fqdn, err)
	}
	for _, off := range dns.Split(fqdn) {
		d := fqdn[off:]
		r, err := recursive(ctx, servers, d, dns.TypeSOA)
		if err != nil {
			return "", fmt.Errorf("finding the zone of %s: SOA %s: %w", fqdn, d, err)
		}
		if apex, ok := zoneApex(r, d); ok {
			return apex, nil
		}
	}
	return "", fmt.Errorf("finding the zone of %s: no SOA record at it or any parent (asked %s)", fqdn, strings.Join(servers, ", "))
}

// zoneApex reads the answer r to an SOA query for name: the apex is name
// when the answer section holds name's SOA record, or the owner of the SOA
// record in the authority section of an answer without records, when that
// owner is name or a parent of it other than the root. ok is false when r
// does not tell, as when it holds a CNAME chain: an alias is never an apex,
// an SOA record after it is the target's, and so is the authority section.
func zoneApex(r *dns.Msg, name string) (apex string, ok bool) {
	for _, rr := range r.Answer {
		if soa, isSOA := rr.(*dns.SOA); isSOA && strings.EqualFold(soa.Hdr.Name, name) {
			return strings.ToLower(dns.Fqdn(name)), true
		}
	}
	if len(r.Answer) > 0 {
		return "", false
	}
	for _, rr := range r.Ns {
		if soa, isSOA := rr.(*dns.SOA); isSOA && soa.Hdr.Name != "." && dns.IsSubDomain(soa.Hdr.Name, name) {
			return strings.ToLower(dns.Fqdn(soa.Hdr.Name)), true
		}
	}
	return "", false
}
