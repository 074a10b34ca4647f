// Package propagation waits until DNS servers serve a TXT record value.
//
// An ACME DNS-01 hook writes the _acme-challenge TXT record through a
// provider's API, but certbot and dehydrated ask the CA to validate as soon as
// the hook returns; the CA then queries the zone's authoritative servers. A
// Checker closes that gap: it finds the zone's authoritative servers (or uses
// a fixed list of resolvers) and polls every one of them until each answers
// with the value, so that the CA, whichever server it asks, finds it.
//
// FindZone finds the zone that holds a name through DNS, for a provider that
// cannot list its zones.
package propagation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

const (
	defaultTimeout  = 120 * time.Second
	defaultInterval = 2 * time.Second
	queryTimeout    = 5 * time.Second // bound of one DNS query, UDP and TCP fallback included
	ednsSize        = 1232            // EDNS0 UDP payload size we advertise
	maxCNAMEs       = 8               // CNAME chain length followed in an answer
	resolvConf      = "/etc/resolv.conf"
	fallbackSystem  = "127.0.0.1:53"
)

// Checker waits until DNS servers answer a TXT query with a value.
//
// The zero value is ready to use: it finds the zone's authoritative servers
// through the resolvers of /etc/resolv.conf and waits up to 120s, polling
// every 2s. A Checker is not modified by Wait or Gone, so one Checker may
// serve concurrent calls.
type Checker struct {
	// Resolvers, when set, are the servers to query (host:port) instead of the zone's authoritative
	// servers (env ACME_HOOK_RESOLVERS in the binary). They are queried with RD set.
	// An entry without a port means port 53 (see ParseResolvers).
	Resolvers []string

	// Timeout bounds Wait (default 120s); Interval is the pause between rounds (default 2s).
	// Values <= 0 mean the default.
	Timeout, Interval time.Duration

	// Progress receives one human line per round, e.g.
	// "waiting for _acme-challenge.example.com. TXT \"abc…\": 1/2 servers see it (ns2.example.net. 192.0.2.2:53 not yet)"
	// and a final "… visible on all 2 servers after 3.1s". nil = silent.
	// Lines are written from the goroutine calling Wait or Gone only.
	Progress io.Writer

	// SystemResolvers are the recursive resolvers used to find authoritative servers (default: from /etc/resolv.conf,
	// else 127.0.0.1:53); exported for tests. An entry without a port means port 53.
	SystemResolvers []string

	// authPort is the port authoritative servers are queried on; "" means
	// "53". Tests set it, since they cannot listen on port 53.
	authPort string
}

// Wait polls until every server answers fqdn TXT with a record whose strings, concatenated, equal value.
// zone is the zone apex holding fqdn ("example.com."), used to find the authoritative servers when Resolvers is empty:
// query NS of zone via SystemResolvers, then A/AAAA of each NS name (also via SystemResolvers), then query each address
// on port 53 with RD=0. A server that answers NXDOMAIN/NODATA/SERVFAIL or does not answer counts as "not yet".
// If the value is not visible on all servers by Timeout, the error names every server that did not see it and what it
// answered last (e.g. `TXT _acme-challenge.example.com. not visible after 2m0s on ns2.example.net. (192.0.2.2:53): NXDOMAIN`).
// Honours ctx cancellation.
//
// Names are compared case-insensitively and accepted with or without the
// trailing dot; a CNAME chain in an answer is followed. The authoritative
// servers are looked up once per call; while that lookup fails (for example,
// no NS records yet), it is retried every round until Timeout. An IPv6 or
// IPv4 address of a nameserver that cannot be reached at all from this host
// (network unreachable) is dropped as long as another address of the same
// nameserver answers. On timeout the error satisfies
// errors.Is(err, context.DeadlineExceeded); when ctx ends first, the error
// wraps ctx's error.
func (c *Checker) Wait(ctx context.Context, zone, fqdn, value string) error {
	return c.poll(ctx, zone, fqdn, value, true)
}

// Gone polls until no server answers fqdn TXT with value (used to confirm cleanup in tests and by `acme-dns-hook` users who want it); same server selection.
//
// A server counts as done only once it gives a definite answer without the
// value (NOERROR without it, NODATA or NXDOMAIN); SERVFAIL, REFUSED or no
// answer keep Gone waiting. Errors are as for Wait, with "not gone" in place
// of "not visible".
func (c *Checker) Gone(ctx context.Context, zone, fqdn, value string) error {
	return c.poll(ctx, zone, fqdn, value, false)
}

// server is one address to query.
type server struct {
	name string // nameserver name ("ns1.example.net."), "" for a configured resolver
	addr string // host:port
	rd   bool   // query with recursion desired
}

// String is the form used in errors: "ns1.example.net. (192.0.2.1:53)" or "192.0.2.1:53".
func (s server) String() string {
	if s.name == "" {
		return s.addr
	}
	return s.name + " (" + s.addr + ")"
}

// label is the shorter form used in progress lines: "ns1.example.net. 192.0.2.1:53".
func (s server) label() string {
	if s.name == "" {
		return s.addr
	}
	return s.name + " " + s.addr
}

// answer is what one server answered in one round.
type answer struct {
	seen       bool   // a TXT record at the name has the value
	definitive bool   // NOERROR or NXDOMAIN: the server knows what it serves
	desc       string // what it answered, for humans: "NXDOMAIN", `TXT "a", "b"`, "no answer: timed out"
	err        error  // the query failed (no response)
}

func (a answer) done(present bool) bool {
	if present {
		return a.seen
	}
	return a.definitive && !a.seen
}

func (c *Checker) poll(ctx context.Context, zone, fqdn, value string, present bool) error {
	verb := "waiting for"
	if !present {
		verb = "waiting for removal of"
	}
	fqdn, err := normalizeName(fqdn)
	if err != nil {
		return fmt.Errorf("%s TXT record: %w", verb, err)
	}
	var (
		fixed []server // configured resolvers, nil in authoritative mode
		sys   []string // system resolvers, authoritative mode only
	)
	if len(c.Resolvers) > 0 {
		for _, r := range c.Resolvers {
			addr, err := parseResolver(r)
			if err != nil {
				return fmt.Errorf("%s TXT %s: %w", verb, fqdn, err)
			}
			fixed = append(fixed, server{addr: addr, rd: true})
		}
	} else {
		if zone, err = normalizeName(zone); err != nil {
			return fmt.Errorf("%s TXT %s: zone: %w", verb, fqdn, err)
		}
		if !dns.IsSubDomain(zone, fqdn) {
			return fmt.Errorf("%s TXT %s: name is not in zone %s", verb, fqdn, zone)
		}
		if sys, err = c.systemResolvers(); err != nil {
			return fmt.Errorf("%s TXT %s: %w", verb, fqdn, err)
		}
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	interval := c.Interval
	if interval <= 0 {
		interval = defaultInterval
	}

	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()

	servers := fixed
	last := map[server]answer{}
	var lookupErr error
	for {
		if servers == nil {
			found, skipped, err := c.authServers(ctx, sys, zone)
			switch {
			case err != nil:
				// Keep the cause, not the deadline, of the last try (judged by
				// the clock, as for answers below).
				if deadline, _ := ctx.Deadline(); lookupErr == nil || time.Until(deadline) >= 50*time.Millisecond {
					lookupErr = err
				}
				c.progressf("%s %s TXT %q: finding authoritative servers: %v", verb, fqdn, value, err)
			default:
				servers = found
				names := make([]string, len(found))
				for i, s := range found {
					names[i] = s.String()
				}
				line := fmt.Sprintf("authoritative servers of %s: %s", zone, strings.Join(names, ", "))
				if len(skipped) > 0 {
					line += " (no address for " + strings.Join(skipped, ", ") + ")"
				}
				c.progressf("%s", line)
			}
		}
		if servers != nil {
			answers := c.round(ctx, servers, fqdn, value)
			if fixed == nil {
				var dropped []server
				servers, answers, dropped = dropUnreachable(servers, answers)
				for _, s := range dropped {
					c.progressf("skipping %s: network unreachable from this host", s)
					delete(last, s)
				}
			}
			n := 0
			var pending []string
			for i, s := range servers {
				a := answers[i]
				// A query cut short by the deadline does not hide the answer
				// before it. The query's own timer may fire a moment before
				// ctx's, so "cut short" is judged by the clock.
				deadline, _ := ctx.Deadline()
				cutShort := a.err != nil && time.Until(deadline) < 50*time.Millisecond
				if _, ok := last[s]; !ok || !cutShort {
					last[s] = a
				}
				switch {
				case a.done(present):
					n++
				case !present && a.seen:
					pending = append(pending, s.label()+" still serves it")
				default:
					pending = append(pending, s.label()+" not yet")
				}
			}
			if n == len(servers) {
				what := "visible on"
				if !present {
					what = "gone from"
				}
				c.progressf("%s TXT %q %s all %d server%s after %s", fqdn, value, what, n, plural(n), roundDuration(time.Since(start)))
				return nil
			}
			if present {
				c.progressf("%s %s TXT %q: %d/%d servers see it (%s)", verb, fqdn, value, n, len(servers), strings.Join(pending, ", "))
			} else {
				c.progressf("%s %s TXT %q: %d/%d servers no longer serve it (%s)", verb, fqdn, value, n, len(servers), strings.Join(pending, ", "))
			}
		}

		timer := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return failure(parent, fqdn, value, present, timeout, servers, last, lookupErr)
		case <-timer.C:
		}
	}
}

// failure builds the error for a poll that ended before every server was done.
func failure(parent context.Context, fqdn, value string, present bool, timeout time.Duration, servers []server, last map[server]answer, lookupErr error) error {
	if parent.Err() != nil {
		verb := "waiting for"
		if !present {
			verb = "waiting for removal of"
		}
		return fmt.Errorf("%s TXT %s %q: %w", verb, fqdn, value, context.Cause(parent))
	}
	what := "not visible"
	if !present {
		what = "not gone"
	}
	if servers == nil {
		if lookupErr == nil {
			lookupErr = context.DeadlineExceeded
		}
		return &multiError{
			msg:  fmt.Sprintf("TXT %s %s after %v: finding authoritative servers: %v", fqdn, what, timeout, lookupErr),
			errs: []error{context.DeadlineExceeded, lookupErr},
		}
	}
	var parts []string
	errs := []error{context.DeadlineExceeded}
	for _, s := range servers {
		a, ok := last[s]
		if !ok {
			a = answer{desc: "no answer"}
		}
		if a.done(present) {
			continue
		}
		parts = append(parts, s.String()+": "+a.desc)
		if a.err != nil {
			errs = append(errs, a.err)
		}
	}
	return &multiError{
		msg:  fmt.Sprintf("TXT %s %s after %v on %s", fqdn, what, timeout, strings.Join(parts, "; ")),
		errs: errs,
	}
}

// round queries all servers concurrently for fqdn TXT; answers[i] belongs to servers[i].
func (c *Checker) round(ctx context.Context, servers []server, fqdn, value string) []answer {
	answers := make([]answer, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { answers[i] = ask(ctx, s, fqdn, value) })
	}
	wg.Wait()
	return answers
}

// ask queries one server for fqdn TXT and says whether it serves value.
func ask(ctx context.Context, s server, fqdn, value string) answer {
	r, err := exchange(ctx, s.addr, fqdn, dns.TypeTXT, s.rd)
	if err != nil {
		return answer{desc: "no answer: " + describeError(err), err: err}
	}
	switch r.Rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return answer{desc: "NXDOMAIN", definitive: true}
	default:
		return answer{desc: rcodeName(r.Rcode)}
	}
	values := txtValues(r, fqdn)
	if len(values) == 0 {
		if !r.Authoritative && !s.rd && hasNS(r.Ns) {
			return answer{desc: "referral (server is not authoritative for the name)"}
		}
		return answer{desc: "NODATA", definitive: true}
	}
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = strconv.Quote(v)
	}
	return answer{
		seen:       slices.Contains(values, value),
		definitive: true,
		desc:       "TXT " + strings.Join(quoted, ", "),
	}
}

// txtValues returns the TXT records of r's answer section at name (or at the
// end of a CNAME chain starting there), each as its strings concatenated and
// unescaped to the raw bytes served.
func txtValues(r *dns.Msg, name string) []string {
	names := map[string]bool{strings.ToLower(name): true}
	cur := name
	for range maxCNAMEs {
		next := ""
		for _, rr := range r.Answer {
			if cn, ok := rr.(*dns.CNAME); ok && strings.EqualFold(cn.Hdr.Name, cur) {
				next = cn.Target
				break
			}
		}
		if next == "" || names[strings.ToLower(next)] {
			break
		}
		names[strings.ToLower(next)] = true
		cur = next
	}
	var values []string
	for _, rr := range r.Answer {
		if txt, ok := rr.(*dns.TXT); ok && names[strings.ToLower(txt.Hdr.Name)] {
			var b strings.Builder
			for _, s := range txt.Txt {
				b.WriteString(unescapeTXT(s))
			}
			values = append(values, b.String())
		}
	}
	return values
}

// unescapeTXT undoes miekg/dns's presentation escaping of a character-string
// (\" \\ and \DDD) so values compare as the bytes on the wire.
func unescapeTXT(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		if i+2 < len(s) && isDigit(s[i]) && isDigit(s[i+1]) && isDigit(s[i+2]) {
			if n, err := strconv.Atoi(s[i : i+3]); err == nil && n < 256 {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func hasNS(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if _, ok := rr.(*dns.NS); ok {
			return true
		}
	}
	return false
}

// exchange sends one query over UDP with EDNS0, repeating it over TCP when
// the UDP answer is truncated. It returns within queryTimeout.
func exchange(ctx context.Context, addr, name string, qtype uint16, rd bool) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = rd
	m.SetEdns0(ednsSize, false)

	udp := &dns.Client{Net: "udp", UDPSize: ednsSize, Timeout: queryTimeout}
	r, _, err := udp.ExchangeContext(ctx, m, addr)
	if r != nil && r.Truncated {
		tcp := &dns.Client{Net: "tcp", Timeout: queryTimeout}
		r, _, err = tcp.ExchangeContext(ctx, m, addr)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s query to %s: %w", name, dns.TypeToString[qtype], addr, err)
	}
	return r, nil
}

// describeError shortens a query error for humans.
func describeError(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return "timed out"
	}
	if unreachable(err) {
		return "network unreachable"
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "connection refused"
	}
	return err.Error()
}

// unreachable reports whether err says this host cannot send to the address
// at all, as when it has no IPv6 route.
func unreachable(err error) bool {
	return err != nil && (errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EADDRNOTAVAIL))
}

// dropUnreachable removes the servers whose address is unreachable from this
// host when another address of the same nameserver was reachable in the same
// round. Configured resolvers (no name) are never dropped.
func dropUnreachable(servers []server, answers []answer) (kept []server, keptAnswers []answer, dropped []server) {
	reachable := map[string]bool{}
	for i, s := range servers {
		if s.name != "" && !unreachable(answers[i].err) {
			reachable[s.name] = true
		}
	}
	for i, s := range servers {
		if s.name != "" && unreachable(answers[i].err) && reachable[s.name] {
			dropped = append(dropped, s)
			continue
		}
		kept = append(kept, s)
		keptAnswers = append(keptAnswers, answers[i])
	}
	return kept, keptAnswers, dropped
}

// authServers finds the addresses of zone's nameservers through the system
// resolvers sys. Nameserver names that definitely have no address are
// returned in skipped; a transient failure to resolve any name fails the
// whole lookup so that no nameserver is silently left unchecked.
func (c *Checker) authServers(ctx context.Context, sys []string, zone string) (servers []server, skipped []string, err error) {
	r, err := recursive(ctx, sys, zone, dns.TypeNS)
	if err != nil {
		return nil, nil, fmt.Errorf("NS %s: %w", zone, err)
	}
	if r.Rcode == dns.RcodeNameError {
		return nil, nil, fmt.Errorf("NS %s: NXDOMAIN", zone)
	}
	var names []string
	for _, rr := range r.Answer {
		if ns, ok := rr.(*dns.NS); ok && strings.EqualFold(ns.Hdr.Name, zone) {
			name := strings.ToLower(dns.Fqdn(ns.Ns))
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("NS %s: no NS records (is %s the zone apex?)", zone, zone)
	}
	slices.Sort(names)

	addrs := make([][]string, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { addrs[i], errs[i] = addresses(ctx, sys, name) })
	}
	wg.Wait()
	if err := joinErrors(errs); err != nil {
		return nil, nil, err
	}
	port := c.authPort
	if port == "" {
		port = "53"
	}
	for i, name := range names {
		if len(addrs[i]) == 0 {
			skipped = append(skipped, name)
			continue
		}
		for _, a := range addrs[i] {
			servers = append(servers, server{name: name, addr: net.JoinHostPort(a, port)})
		}
	}
	if len(servers) == 0 {
		return nil, nil, fmt.Errorf("NS %s: no address for any of %s", zone, strings.Join(names, ", "))
	}
	return servers, skipped, nil
}

// addresses returns the IPv4 then IPv6 addresses of name, empty if the
// resolvers say it has none.
func addresses(ctx context.Context, sys []string, name string) ([]string, error) {
	types := []uint16{dns.TypeA, dns.TypeAAAA}
	found := make([][]string, len(types))
	errs := make([]error, len(types))
	var wg sync.WaitGroup
	for i, qtype := range types {
		wg.Go(func() {
			r, err := recursive(ctx, sys, name, qtype)
			if err != nil {
				errs[i] = fmt.Errorf("%s %s: %w", dns.TypeToString[qtype], name, err)
				return
			}
			for _, rr := range r.Answer {
				switch rr := rr.(type) {
				case *dns.A:
					found[i] = append(found[i], rr.A.String())
				case *dns.AAAA:
					found[i] = append(found[i], rr.AAAA.String())
				}
			}
		})
	}
	wg.Wait()
	if err := joinErrors(errs); err != nil {
		return nil, err
	}
	return slices.Concat(found...), nil
}

// recursive asks the resolvers sys in turn, with RD set, until one gives a
// NOERROR or NXDOMAIN response.
func recursive(ctx context.Context, sys []string, name string, qtype uint16) (*dns.Msg, error) {
	var (
		errs  []error
		parts []string // "addr: reason", short
	)
	for _, addr := range sys {
		r, err := exchange(ctx, addr, name, qtype, true)
		switch {
		case err != nil:
			errs = append(errs, err)
			parts = append(parts, addr+": "+describeError(err))
		case r.Rcode == dns.RcodeSuccess || r.Rcode == dns.RcodeNameError:
			return r, nil
		default:
			parts = append(parts, addr+": "+rcodeName(r.Rcode))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, &multiError{msg: "no resolver answered (" + strings.Join(parts, "; ") + ")", errs: errs}
}

// systemResolvers returns c.SystemResolvers with ports, or the nameservers
// of /etc/resolv.conf, or 127.0.0.1:53.
func (c *Checker) systemResolvers() ([]string, error) {
	out, err := resolversOrSystem(c.SystemResolvers)
	if err != nil {
		return nil, fmt.Errorf("system resolvers: %w", err)
	}
	return out, nil
}

// resolversOrSystem returns configured with ports, or, when it is empty,
// the nameservers of /etc/resolv.conf, or 127.0.0.1:53.
func resolversOrSystem(configured []string) ([]string, error) {
	if len(configured) > 0 {
		out := make([]string, 0, len(configured))
		for _, r := range configured {
			addr, err := parseResolver(r)
			if err != nil {
				return nil, err
			}
			out = append(out, addr)
		}
		return out, nil
	}
	conf, err := dns.ClientConfigFromFile(resolvConf)
	if err != nil || len(conf.Servers) == 0 {
		return []string{fallbackSystem}, nil
	}
	out := make([]string, len(conf.Servers))
	for i, s := range conf.Servers {
		out[i] = net.JoinHostPort(s, conf.Port)
	}
	return out, nil
}

func (c *Checker) progressf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

// ParseResolvers parses "host:port,host" (default port 53; IPv6 in brackets) and returns a clear error naming the bad entry.
//
// Blanks around entries are ignored and an empty s gives no resolvers; an
// empty entry, a port outside 1-65535, an IPv6 address without brackets or a
// malformed host name is an error. Results are "host:port" strings ready to
// dial, in the order given ("[2001:db8::1]:53" for IPv6).
func ParseResolvers(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for i, entry := range strings.Split(s, ",") {
		if strings.TrimSpace(entry) == "" {
			return nil, fmt.Errorf("invalid resolver list %q: entry %d is empty", s, i+1)
		}
		addr, err := parseResolver(entry)
		if err != nil {
			return nil, err
		}
		out = append(out, addr)
	}
	return out, nil
}

// parseResolver parses one "host[:port]" or "[ipv6][:port]" entry.
func parseResolver(entry string) (string, error) {
	e := strings.TrimSpace(entry)
	bad := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("invalid resolver %q: %s", entry, fmt.Sprintf(format, args...))
	}
	var host, port string
	switch {
	case e == "":
		return bad("empty")
	case strings.HasPrefix(e, "["):
		end := strings.IndexByte(e, ']')
		if end < 0 {
			return bad("missing ] after IPv6 address")
		}
		host, port = e[1:end], "53"
		switch rest := e[end+1:]; {
		case rest == "":
		case rest[0] == ':':
			port = rest[1:]
		default:
			return bad("unexpected %q after ]", rest)
		}
		if ip, err := netip.ParseAddr(host); err != nil || !ip.Is6() || ip.Is4In6() {
			return bad("%q in brackets is not an IPv6 address", host)
		}
	case strings.Count(e, ":") > 1:
		if _, err := netip.ParseAddr(e); err == nil {
			return bad("IPv6 address needs brackets: [%s] or [%s]:53", e, e)
		}
		return bad("too many colons (IPv6 addresses go in brackets: [2001:db8::1]:53)")
	case strings.Contains(e, ":"):
		host, port, _ = strings.Cut(e, ":")
	default:
		host, port = e, "53"
	}
	if host == "" {
		return bad("missing host")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return bad("port %q is not a number from 1 to 65535", port)
	}
	if _, err := netip.ParseAddr(host); err != nil && !validHostname(host) {
		return bad("%q is neither an IP address nor a host name", host)
	}
	return net.JoinHostPort(host, port), nil
}

// validHostname reports whether h is a syntactically valid host name
// (letters, digits, '-' and '_' in labels of 1-63 bytes, optional trailing
// dot, last label not all digits so that a mistyped IPv4 address is caught).
func validHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	labels := strings.Split(h, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			b := l[i]
			if !(isDigit(b) || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || b == '-' || b == '_') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return strings.IndexFunc(last, func(r rune) bool { return r < '0' || r > '9' }) >= 0
}

// normalizeName returns name lower-cased with a trailing dot, or an error if
// it is empty or not a domain name.
func normalizeName(name string) (string, error) {
	n := strings.TrimSpace(name)
	if n == "" {
		return "", errors.New("empty name")
	}
	n = dns.Fqdn(strings.ToLower(n))
	if _, ok := dns.IsDomainName(n); !ok || strings.ContainsAny(n, " \t\n") {
		return "", fmt.Errorf("invalid name %q", name)
	}
	return n, nil
}

func rcodeName(rcode int) string {
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rcode)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// roundDuration keeps durations readable in progress lines: "12ms", "3.1s".
func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}

// multiError is an error with its own one-line message that wraps several
// causes for errors.Is/As.
type multiError struct {
	msg  string
	errs []error
}

func (e *multiError) Error() string   { return e.msg }
func (e *multiError) Unwrap() []error { return e.errs }

// joinErrors joins the non-nil errors into one error with a one-line
// message ("a; b"), or returns nil if there are none.
func joinErrors(errs []error) error {
	var (
		kept  []error
		parts []string
	)
	for _, e := range errs {
		if e != nil {
			kept = append(kept, e)
			parts = append(parts, e.Error())
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return &multiError{msg: strings.Join(parts, "; "), errs: kept}
}
