// Package authdns is a small authoritative DNS server for tests and local
// use. It serves zone data held as libdns records over UDP and TCP on one
// port, and reads that data afresh from its sources on every query, so that
// a resolver, an ACME CA or dig always sees what the sources hold right now.
//
// Every zone gets an apex SOA (serial changing whenever the zone's records
// change), an NS ns1.<zone> and an A record ns1.<zone> -> 127.0.0.1, unless
// the source provides its own. Answers are authoritative (AA set), never
// recursive, follow CNAMEs inside the served data (a name holding a CNAME
// answers with it for every other type, whatever else it holds, as RFC 1034
// has it, but for a zone apex's SOA and NS), synthesise wildcards
// (RFC 4592), and carry the SOA in the authority section for NODATA and
// NXDOMAIN. Names outside every served zone are REFUSED.
package authdns

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// Source returns the current records of every zone served, keyed by zone apex
// as an FQDN with trailing dot (e.g. "example.test."), case-insensitive; record
// names are relative to the zone in libdns convention ("@" = apex,
// "_acme-challenge", "*.sub"), Data in libdns (zone-file, unescaped) syntax:
// TXT Data is the raw text without quotes. Names in other records' Data that
// lack a trailing dot are relative to the zone.
// It is called on every query, so answers are always live; it must be safe
// for concurrent use.
type Source func() map[string][]libdns.RR

// Server is a running authoritative DNS server. Its methods are safe for
// concurrent use.
type Server struct {
	sources  []Source
	udp, tcp *dns.Server
	addr     string
	wg       sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	serials map[string]serialState // synthesised SOA serial per zone apex
	frozen  map[string][]libdns.RR // see Freeze; nil when live
	onQuery func(q dns.Question, answer *dns.Msg)
}

type serialState struct {
	sum    [sha256.Size]byte
	serial uint32
}

const (
	synthTTL      = 60   // TTL of synthesised SOA, NS and A records
	ednsSize      = 1232 // UDP payload size advertised in our OPT record
	maxCNAMEChain = 8
)

// Start listens on addr (e.g. "127.0.0.1:0") over both UDP and TCP on the
// same port and serves the zones of all sources until Close. Zones from all
// sources are merged; a zone appearing in several sources gets the
// concatenation of their records. Start returns only once both listeners are
// accepting queries.
func Start(addr string, sources ...Source) (*Server, error) {
	pc, ln, err := listen(addr)
	if err != nil {
		return nil, err
	}
	s := &Server{sources: sources, addr: pc.LocalAddr().String(), serials: map[string]serialState{}}
	started := make(chan struct{}, 2)
	errs := make(chan error, 2)
	notify := func() { started <- struct{}{} }
	s.udp = &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve), NotifyStartedFunc: notify}
	s.tcp = &dns.Server{Listener: ln, Handler: dns.HandlerFunc(s.serve), NotifyStartedFunc: notify}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			errs <- srv.ActivateAndServe()
		}()
	}
	for n := 0; n < 2; {
		select {
		case <-started:
			n++
		case err := <-errs:
			pc.Close()
			ln.Close()
			s.wg.Wait()
			if err == nil {
				err = errors.New("listener stopped unexpectedly")
			}
			return nil, fmt.Errorf("starting DNS server on %s: %w", s.addr, err)
		}
	}
	return s, nil
}

// listen binds UDP on addr, then TCP on the same host and port. When addr
// asks for any port (port 0) and the TCP port turns out to be taken, it
// retries with fresh ports.
func listen(addr string) (net.PacketConn, net.Listener, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing listen address %q: %w", addr, err)
	}
	for attempt := 1; ; attempt++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listening on UDP %s: %w", addr, err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if (port != "0" && port != "") || attempt == 5 {
			return nil, nil, fmt.Errorf("listening on TCP %s: %w", pc.LocalAddr(), err)
		}
	}
}

// Addr returns the address the server listens on, "host:port"; UDP and TCP
// share that port.
func (s *Server) Addr() string { return s.addr }

// Close stops both listeners and waits until every serving goroutine has
// returned. Calling it again returns the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		err := errors.Join(s.udp.Shutdown(), s.tcp.Shutdown())
		s.wg.Wait()
		if err != nil {
			s.closeErr = fmt.Errorf("stopping DNS server on %s: %w", s.addr, err)
		}
	})
	return s.closeErr
}

func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	opt := req.IsEdns0()
	if opt != nil {
		m.SetEdns0(ednsSize, false)
	}
	switch {
	case opt != nil && opt.Version() != 0:
		m.Rcode = dns.RcodeBadVers
	case req.Opcode != dns.OpcodeQuery:
		m.Rcode = dns.RcodeNotImplemented
	case len(req.Question) != 1:
		m.Rcode = dns.RcodeFormatError
	case req.Question[0].Qclass != dns.ClassINET && req.Question[0].Qclass != dns.ClassANY:
		m.Rcode = dns.RcodeRefused
	default:
		s.resolve(m, req.Question[0])
	}
	if m.Rcode == dns.RcodeRefused {
		m.Authoritative = false
	}
	size := dns.MaxMsgSize
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size = dns.MinMsgSize
		if opt != nil {
			size = max(int(opt.UDPSize()), dns.MinMsgSize)
		}
	}
	m.Truncate(size)
	_ = w.WriteMsg(m)
	s.mu.Lock()
	hook := s.onQuery
	s.mu.Unlock()
	if hook != nil && len(req.Question) == 1 {
		hook(req.Question[0], m)
	}
}

// resolve fills m with the answer to q, following CNAMEs through the served
// zones.
func (s *Server) resolve(m *dns.Msg, q dns.Question) {
	snap := s.snapshot()
	name := q.Name
	seen := map[string]bool{strings.ToLower(name): true}
	for {
		z := snap.zoneFor(name)
		if z == nil {
			if len(m.Answer) == 0 {
				m.Rcode = dns.RcodeRefused
			}
			return // a CNAME leading out of our zones ends the answer
		}
		rrs, found := z.lookup(name)
		if !found {
			m.Rcode = dns.RcodeNameError
			m.Ns = []dns.RR{z.soa}
			return
		}
		// A CNAME is followed whatever else the name holds, as RFC 1034
		// (4.3.2, step 3a) has it: data beside a CNAME is never served;
		// only a zone apex keeps answering for its SOA and NS records.
		var cname dns.RR
		for _, rr := range rrs {
			if rr.Header().Rrtype == dns.TypeCNAME {
				cname = rr
			}
		}
		apexData := strings.EqualFold(dns.Fqdn(name), z.apex) && (q.Qtype == dns.TypeSOA || q.Qtype == dns.TypeNS)
		if cname == nil || apexData || q.Qtype == dns.TypeCNAME || q.Qtype == dns.TypeANY {
			n := len(m.Answer)
			for _, rr := range rrs {
				if t := rr.Header().Rrtype; t == q.Qtype || q.Qtype == dns.TypeANY {
					m.Answer = append(m.Answer, withName(rr, name))
				}
			}
			if len(m.Answer) > n {
				return
			}
			if cname == nil {
				m.Ns = []dns.RR{z.soa}
				return
			}
		}
		m.Answer = append(m.Answer, withName(cname, name))
		name = cname.(*dns.CNAME).Target
		if seen[strings.ToLower(name)] || len(seen) >= maxCNAMEChain {
			return
		}
		seen[strings.ToLower(name)] = true
	}
}

// withName returns a copy of rr owned by name (the query's spelling, or the
// query name for wildcard synthesis).
func withName(rr dns.RR, name string) dns.RR {
	c := dns.Copy(rr)
	c.Header().Name = name
	return c
}

// snapshot is the data of all sources as seen by one query; zones are built
// lazily.
type snapshot struct {
	s     *Server
	raw   map[string][]libdns.RR // by lower-case apex
	zones map[string]*zone
}

type zone struct {
	apex  string
	names map[string][]dns.RR // by lower-case owner FQDN
	soa   dns.RR
}

func (s *Server) snapshot() *snapshot {
	snap := &snapshot{s: s, raw: map[string][]libdns.RR{}, zones: map[string]*zone{}}
	s.mu.Lock()
	frozen := s.frozen
	s.mu.Unlock()
	if frozen != nil {
		for apex, recs := range frozen {
			snap.raw[apex] = slices.Clone(recs)
		}
		return snap
	}
	for _, src := range s.sources {
		if src == nil {
			continue
		}
		for apex, recs := range src() {
			key := strings.ToLower(dns.Fqdn(apex))
			snap.raw[key] = append(snap.raw[key], recs...)
		}
	}
	return snap
}

// zoneFor returns the longest served zone containing name, or nil.
func (sn *snapshot) zoneFor(name string) *zone {
	name = strings.ToLower(dns.Fqdn(name))
	best, ok := "", false
	for apex := range sn.raw {
		if dns.IsSubDomain(apex, name) && (!ok || len(apex) > len(best)) {
			best, ok = apex, true
		}
	}
	if !ok {
		return nil
	}
	if z := sn.zones[best]; z != nil {
		return z
	}
	z := sn.s.buildZone(best, sn.raw[best])
	sn.zones[best] = z
	return z
}

func (s *Server) buildZone(apex string, recs []libdns.RR) *zone {
	z := &zone{apex: apex, names: map[string][]dns.RR{}}
	for _, r := range recs {
		owner := strings.ToLower(dns.Fqdn(libdns.AbsoluteName(r.Name, apex)))
		if !dns.IsSubDomain(apex, owner) {
			continue
		}
		if rr := toRR(owner, apex, r); rr != nil {
			z.names[owner] = append(z.names[owner], rr)
		}
	}
	has := func(name string, t uint16) bool {
		return slices.ContainsFunc(z.names[name], func(rr dns.RR) bool { return rr.Header().Rrtype == t })
	}
	hdr := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: synthTTL}
	}
	ns1 := child("ns1", apex)
	if !has(apex, dns.TypeSOA) {
		z.names[apex] = append(z.names[apex], &dns.SOA{
			Hdr: hdr(apex, dns.TypeSOA), Ns: ns1, Mbox: child("hostmaster", apex),
			Serial: s.serial(apex, recs), Refresh: 60, Retry: 30, Expire: 3600, Minttl: 60,
		})
	}
	if !has(apex, dns.TypeNS) {
		z.names[apex] = append(z.names[apex], &dns.NS{Hdr: hdr(apex, dns.TypeNS), Ns: ns1})
	}
	if _, ok := z.names[ns1]; !ok {
		z.names[ns1] = []dns.RR{&dns.A{Hdr: hdr(ns1, dns.TypeA), A: net.IPv4(127, 0, 0, 1)}}
	}
	i := slices.IndexFunc(z.names[apex], func(rr dns.RR) bool { return rr.Header().Rrtype == dns.TypeSOA })
	z.soa = z.names[apex][i]
	return z
}

// child returns the FQDN label.parent.
func child(label, parent string) string {
	if parent == "." {
		return label + "."
	}
	return label + "." + parent
}

// serial returns the synthesised SOA serial of apex: it starts at 1 and is
// incremented whenever the zone's records (in any order) differ from those
// seen last time.
func (s *Server) serial(apex string, recs []libdns.RR) uint32 {
	lines := make([]string, len(recs))
	for i, r := range recs {
		lines[i] = fmt.Sprintf("%q %q %d %q", strings.ToLower(r.Name), strings.ToUpper(r.Type), r.TTL, r.Data)
	}
	slices.Sort(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.serials[apex]
	switch {
	case !ok:
		st.serial = 1
	case st.sum != sum:
		st.serial++
	}
	st.sum = sum
	s.serials[apex] = st
	return st.serial
}

// toRR converts a libdns record into a miekg RR owned by owner, or returns
// nil if it does not parse.
func toRR(owner, apex string, r libdns.RR) dns.RR {
	typ := strings.ToUpper(strings.TrimSpace(r.Type))
	ttl := uint32(max(r.TTL/time.Second, 0))
	if typ == "TXT" {
		return &dns.TXT{
			Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl},
			Txt: splitTXT(r.Data),
		}
	}
	if strings.ContainsAny(r.Data, "\n\r") || strings.ContainsAny(typ, " \t") {
		return nil // would smuggle in further records
	}
	zp := dns.NewZoneParser(strings.NewReader(fmt.Sprintf("%s %d IN %s %s\n", owner, ttl, typ, r.Data)), apex, "")
	rr, ok := zp.Next()
	if !ok || zp.Err() != nil || dns.Type(rr.Header().Rrtype).String() != typ {
		return nil
	}
	return rr
}

// splitTXT splits raw text into character-strings of at most 255 bytes, in
// the escaped form miekg/dns packs byte for byte (only '\' is special there).
func splitTXT(data string) []string {
	if data == "" {
		return []string{""}
	}
	var out []string
	for len(data) > 0 {
		n := min(len(data), 255)
		out = append(out, strings.ReplaceAll(data[:n], `\`, `\\`))
		data = data[n:]
	}
	return out
}

// lookup finds the records at name, synthesising from a wildcard if name
// does not exist. found is false for a non-existent name (NXDOMAIN); an
// empty non-terminal is found with no records.
func (z *zone) lookup(name string) (rrs []dns.RR, found bool) {
	name = strings.ToLower(dns.Fqdn(name))
	if rrs, ok := z.names[name]; ok {
		return rrs, true
	}
	if z.exists(name) {
		return nil, true
	}
	for ce := parent(name); ; ce = parent(ce) {
		if z.exists(ce) {
			wild, ok := z.names[child("*", ce)]
			return wild, ok
		}
		if ce == z.apex || ce == "." {
			return nil, false
		}
	}
}

// exists reports whether name owns records or is an empty non-terminal.
func (z *zone) exists(name string) bool {
	if _, ok := z.names[name]; ok {
		return true
	}
	for owner := range z.names {
		if owner != name && dns.IsSubDomain(name, owner) {
			return true
		}
	}
	return false
}

// parent returns name minus its first label.
func parent(name string) string {
	off, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[off:]
}
