package authdns

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// bigTXT is 600 bytes of text a zone-file parser would choke on.
var bigTXT = func() string {
	s := `quote" semi; back\slash \065 \\ "x" ünïcødé 😀 ` + "\t"
	for len(s) < 600 {
		s += strconv.Itoa(len(s)%10) + `;"\é`
	}
	return s[:600]
}()

// fakeSource is a mutable Source, as a fake provider API would hold.
type fakeSource struct {
	mu    sync.Mutex
	zones map[string][]libdns.RR
}

func (f *fakeSource) get() map[string][]libdns.RR {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]libdns.RR{}
	for z, recs := range f.zones {
		out[z] = append([]libdns.RR(nil), recs...)
	}
	return out
}

func (f *fakeSource) set(zone string, recs ...libdns.RR) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.zones[zone] = recs
}

func rr(name, typ, data string) libdns.RR {
	return libdns.RR{Name: name, Type: typ, Data: data, TTL: 300 * time.Second}
}

func parentSource() *fakeSource {
	return &fakeSource{zones: map[string][]libdns.RR{
		"Example.TEST.": {
			rr("@", "MX", "10 mail.example.test."),
			rr("@", "CAA", `0 issue "letsencrypt.org"`),
			rr("www", "A", "192.0.2.1"),
			rr("www", "AAAA", "2001:db8::1"),
			rr("_acme-challenge", "TXT", "one"),
			rr("_acme-challenge", "TXT", "two"),
			rr("alias", "CNAME", "www.example.test."),
			rr("chain", "CNAME", "alias"), // relative to the zone
			rr("ext", "CNAME", "target.elsewhere.invalid."),
			rr("loop1", "CNAME", "loop2.example.test."),
			rr("loop2", "CNAME", "loop1.example.test."),
			rr("both", "CNAME", "www.example.test."),
			rr("both", "TXT", "beside a CNAME"), // never served
			rr("_sip._tcp", "SRV", "10 20 5060 sip.example.test."),
			rr("svc", "HTTPS", `1 . alpn="h2"`),
			rr("*.wild", "TXT", "wildcard"),
			rr("*.wild", "A", "192.0.2.9"),
			rr("a.b.c", "A", "192.0.2.3"),
			rr("bad", "A", "not-an-address"),
			rr("bad", "BOGUSTYPE", "x"),
			rr("bad", "TXT", "ok"),
			rr("big", "TXT", bigTXT),
			rr("_acme-challenge.sub", "TXT", "shadowed by the child zone"),
		},
		"own.test": {
			rr("@", "SOA", "ns.own.test. admin.own.test. 42 7200 3600 1209600 300"),
			rr("@", "NS", "ns.own.test."),
			rr("ns1", "TXT", "not glue"),
		},
	}}
}

func childSource() *fakeSource {
	return &fakeSource{zones: map[string][]libdns.RR{
		"sub.example.test.": {
			rr("@", "TXT", "child"),
			rr("_acme-challenge", "TXT", "sub"),
		},
		"example.test.": {rr("second", "TXT", "from the second source")},
	}}
}

func startServer(t *testing.T, sources ...Source) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0", sources...)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func query(t *testing.T, addr, network, name string, qtype uint16, edns uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns > 0 {
		m.SetEdns0(edns, false)
	}
	c := &dns.Client{Net: network, Timeout: 3 * time.Second, UDPSize: edns}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	return r
}

// txtText decodes miekg's presentation form of a TXT RR back into the raw
// bytes that were on the wire, concatenating its character-strings.
func txtText(t *testing.T, r dns.RR) string {
	t.Helper()
	txt, ok := r.(*dns.TXT)
	if !ok {
		t.Fatalf("not a TXT: %v", r)
	}
	var b strings.Builder
	for _, s := range txt.Txt {
		n := b.Len()
		for i := 0; i < len(s); i++ {
			if s[i] != '\\' || i+1 == len(s) {
				b.WriteByte(s[i])
				continue
			}
			i++
			if i+2 < len(s) && isDigits(s[i:i+3]) {
				v, _ := strconv.Atoi(s[i : i+3])
				b.WriteByte(byte(v))
				i += 2
			} else {
				b.WriteByte(s[i])
			}
		}
		if b.Len()-n > 255 {
			t.Errorf("character-string of %d bytes", b.Len()-n)
		}
	}
	return b.String()
}

func isDigits(s string) bool {
	return strings.Trim(s, "0123456789") == ""
}

func TestQueries(t *testing.T) {
	s := startServer(t, parentSource().get, childSource().get)
	tests := []struct {
		name   string
		qname  string
		qtype  uint16
		rcode  int
		answer []string // zone-file lines; compared ignoring TTL and order
		soaIn  string   // apex whose SOA must be the only authority RR, or ""
	}{
		{"SOA at apex", "example.test.", dns.TypeSOA, dns.RcodeSuccess,
			[]string{"example.test. SOA ns1.example.test. hostmaster.example.test. 1 60 30 3600 60"}, ""},
		{"NS at apex", "example.test.", dns.TypeNS, dns.RcodeSuccess, []string{"example.test. NS ns1.example.test."}, ""},
		{"glue A", "ns1.example.test.", dns.TypeA, dns.RcodeSuccess, []string{"ns1.example.test. A 127.0.0.1"}, ""},
		{"SOA at existing subname", "_acme-challenge.example.test.", dns.TypeSOA, dns.RcodeSuccess, nil, "example.test."},
		{"SOA at missing subname", "nope.example.test.", dns.TypeSOA, dns.RcodeNameError, nil, "example.test."},
		{"two TXT", "_acme-challenge.example.test.", dns.TypeTXT, dns.RcodeSuccess,
			[]string{`_acme-challenge.example.test. TXT "one"`, `_acme-challenge.example.test. TXT "two"`}, ""},
		{"A", "www.example.test.", dns.TypeA, dns.RcodeSuccess, []string{"www.example.test. A 192.0.2.1"}, ""},
		{"AAAA", "www.example.test.", dns.TypeAAAA, dns.RcodeSuccess, []string{"www.example.test. AAAA 2001:db8::1"}, ""},
		{"MX", "example.test.", dns.TypeMX, dns.RcodeSuccess, []string{"example.test. MX 10 mail.example.test."}, ""},
		{"CAA", "example.test.", dns.TypeCAA, dns.RcodeSuccess, []string{`example.test. CAA 0 issue "letsencrypt.org"`}, ""},
		{"SRV", "_sip._tcp.example.test.", dns.TypeSRV, dns.RcodeSuccess,
			[]string{"_sip._tcp.example.test. SRV 10 20 5060 sip.example.test."}, ""},
		{"HTTPS", "svc.example.test.", dns.TypeHTTPS, dns.RcodeSuccess, []string{`svc.example.test. HTTPS 1 . alpn="h2"`}, ""},
		{"ANY", "www.example.test.", dns.TypeANY, dns.RcodeSuccess,
			[]string{"www.example.test. A 192.0.2.1", "www.example.test. AAAA 2001:db8::1"}, ""},
		{"CNAME query", "alias.example.test.", dns.TypeCNAME, dns.RcodeSuccess,
			[]string{"alias.example.test. CNAME www.example.test."}, ""},
		{"CNAME followed", "alias.example.test.", dns.TypeA, dns.RcodeSuccess,
			[]string{"alias.example.test. CNAME www.example.test.", "www.example.test. A 192.0.2.1"}, ""},
		{"CNAME chain, relative target", "chain.example.test.", dns.TypeA, dns.RcodeSuccess, []string{
			"chain.example.test. CNAME alias.example.test.",
			"alias.example.test. CNAME www.example.test.",
			"www.example.test. A 192.0.2.1"}, ""},
		{"CNAME out of zone", "ext.example.test.", dns.TypeTXT, dns.RcodeSuccess,
			[]string{"ext.example.test. CNAME target.elsewhere.invalid."}, ""},
		{"CNAME loop ends", "loop1.example.test.", dns.TypeA, dns.RcodeSuccess, []string{
			"loop1.example.test. CNAME loop2.example.test.", "loop2.example.test. CNAME loop1.example.test."}, ""},
		{"CNAME to NODATA", "alias.example.test.", dns.TypeTXT, dns.RcodeSuccess,
			[]string{"alias.example.test. CNAME www.example.test."}, "example.test."},
		{"CNAME beside other data wins", "both.example.test.", dns.TypeTXT, dns.RcodeSuccess,
			[]string{"both.example.test. CNAME www.example.test."}, "example.test."},
		{"CNAME beside other data followed", "both.example.test.", dns.TypeA, dns.RcodeSuccess,
			[]string{"both.example.test. CNAME www.example.test.", "www.example.test. A 192.0.2.1"}, ""},
		{"wildcard TXT", "x.wild.example.test.", dns.TypeTXT, dns.RcodeSuccess, []string{`x.wild.example.test. TXT "wildcard"`}, ""},
		{"wildcard two levels", "y.z.wild.example.test.", dns.TypeA, dns.RcodeSuccess, []string{"y.z.wild.example.test. A 192.0.2.9"}, ""},
		{"wildcard NODATA", "x.wild.example.test.", dns.TypeMX, dns.RcodeSuccess, nil, "example.test."},
		{"wildcard owner literal", "*.wild.example.test.", dns.TypeA, dns.RcodeSuccess, []string{"*.wild.example.test. A 192.0.2.9"}, ""},
		{"wildcard parent is ENT", "wild.example.test.", dns.TypeA, dns.RcodeSuccess, nil, "example.test."},
		{"empty non-terminal", "b.c.example.test.", dns.TypeA, dns.RcodeSuccess, nil, "example.test."},
		{"empty non-terminal 2", "c.example.test.", dns.TypeTXT, dns.RcodeSuccess, nil, "example.test."},
		{"NODATA other type", "www.example.test.", dns.TypeTXT, dns.RcodeSuccess, nil, "example.test."},
		{"NXDOMAIN", "nope.example.test.", dns.TypeTXT, dns.RcodeNameError, nil, "example.test."},
		{"NXDOMAIN below existing", "x.www.example.test.", dns.TypeA, dns.RcodeNameError, nil, "example.test."},
		{"unparsable records skipped", "bad.example.test.", dns.TypeANY, dns.RcodeSuccess, []string{`bad.example.test. TXT "ok"`}, ""},
		{"out of zone", "example.org.", dns.TypeSOA, dns.RcodeRefused, nil, ""},
		{"out of zone suffix", "notexample.test.", dns.TypeA, dns.RcodeRefused, nil, ""},
		{"case-insensitive", "WWW.Example.TEST.", dns.TypeA, dns.RcodeSuccess, []string{"WWW.Example.TEST. A 192.0.2.1"}, ""},
		{"nested zone SOA", "Sub.Example.Test.", dns.TypeSOA, dns.RcodeSuccess,
			[]string{"Sub.Example.Test. SOA ns1.sub.example.test. hostmaster.sub.example.test. 1 60 30 3600 60"}, ""},
		{"nested zone wins", "_acme-challenge.sub.example.test.", dns.TypeTXT, dns.RcodeSuccess,
			[]string{`_acme-challenge.sub.example.test. TXT "sub"`}, ""},
		{"nested zone NXDOMAIN", "x.sub.example.test.", dns.TypeTXT, dns.RcodeNameError, nil, "sub.example.test."},
		{"merged sources", "second.example.test.", dns.TypeTXT, dns.RcodeSuccess,
			[]string{`second.example.test. TXT "from the second source"`}, ""},
		{"source SOA kept", "own.test.", dns.TypeSOA, dns.RcodeSuccess,
			[]string{"own.test. SOA ns.own.test. admin.own.test. 42 7200 3600 1209600 300"}, ""},
		{"source NS kept", "own.test.", dns.TypeNS, dns.RcodeSuccess, []string{"own.test. NS ns.own.test."}, ""},
		{"no glue over source data", "ns1.own.test.", dns.TypeA, dns.RcodeSuccess, nil, "own.test."},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, tt := range tests {
			t.Run(network+"/"+tt.name, func(t *testing.T) {
				r := query(t, s.Addr(), network, tt.qname, tt.qtype, 0)
				if r.Rcode != tt.rcode {
					t.Fatalf("rcode %s, want %s\n%v", dns.RcodeToString[r.Rcode], dns.RcodeToString[tt.rcode], r)
				}
				if r.Authoritative != (tt.rcode != dns.RcodeRefused) || r.RecursionAvailable || r.Truncated {
					t.Errorf("flags aa=%v ra=%v tc=%v", r.Authoritative, r.RecursionAvailable, r.Truncated)
				}
				checkAnswer(t, r, tt.answer)
				checkAuthority(t, r, tt.soaIn)
			})
		}
	}
}

func checkAnswer(t *testing.T, r *dns.Msg, want []string) {
	t.Helper()
	if len(r.Answer) != len(want) {
		t.Fatalf("answer has %d RRs, want %d:\n%v", len(r.Answer), len(want), r.Answer)
	}
	for _, w := range want {
		wrr, err := dns.NewRR(w)
		if err != nil {
			t.Fatalf("bad expectation %q: %v", w, err)
		}
		found := false
		for _, got := range r.Answer {
			if dns.IsDuplicate(got, wrr) && got.Header().Name == wrr.Header().Name {
				found = true
			}
		}
		if !found {
			t.Errorf("answer lacks %q:\n%v", w, r.Answer)
		}
	}
}

func checkAuthority(t *testing.T, r *dns.Msg, apex string) {
	t.Helper()
	if apex == "" {
		if len(r.Ns) != 0 {
			t.Errorf("unexpected authority %v", r.Ns)
		}
		return
	}
	if len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA || r.Ns[0].Header().Name != apex {
		t.Errorf("authority %v, want the SOA of %s", r.Ns, apex)
	}
}

func TestBigTXTByteExact(t *testing.T) {
	s := startServer(t, parentSource().get)
	const name = "big.example.test."

	// UDP without EDNS: 512 bytes are not enough, so TC is set; retry on TCP.
	r := query(t, s.Addr(), "udp", name, dns.TypeTXT, 0)
	if !r.Truncated {
		t.Fatalf("UDP answer without EDNS not truncated: %d answers", len(r.Answer))
	}
	r = query(t, s.Addr(), "tcp", name, dns.TypeTXT, 0)
	if len(r.Answer) != 1 || r.Truncated {
		t.Fatalf("TCP answer: tc=%v %v", r.Truncated, r.Answer)
	}
	if got := txtText(t, r.Answer[0]); got != bigTXT {
		t.Errorf("TCP TXT differs:\n got %q\nwant %q", got, bigTXT)
	}
	if n := len(r.Answer[0].(*dns.TXT).Txt); n != 3 {
		t.Errorf("%d character-strings, want 3", n)
	}

	// UDP with a large EDNS buffer fits, and the reply carries OPT.
	r = query(t, s.Addr(), "udp", name, dns.TypeTXT, 4096)
	if r.Truncated || len(r.Answer) != 1 || r.IsEdns0() == nil {
		t.Fatalf("EDNS UDP answer: tc=%v opt=%v %v", r.Truncated, r.IsEdns0(), r.Answer)
	}
	if got := txtText(t, r.Answer[0]); got != bigTXT {
		t.Errorf("UDP TXT differs:\n got %q\nwant %q", got, bigTXT)
	}
}

func soaSerial(t *testing.T, addr, zone string) uint32 {
	t.Helper()
	r := query(t, addr, "tcp", zone, dns.TypeSOA, 0)
	if len(r.Answer) != 1 {
		t.Fatalf("SOA answer %v", r.Answer)
	}
	return r.Answer[0].(*dns.SOA).Serial
}

func TestLiveUpdate(t *testing.T) {
	src := &fakeSource{zones: map[string][]libdns.RR{"example.test.": {rr("_acme-challenge", "TXT", "old")}}}
	s := startServer(t, src.get)
	const name = "_acme-challenge.example.test."

	serial1 := soaSerial(t, s.Addr(), "example.test.")
	checkAnswer(t, query(t, s.Addr(), "udp", name, dns.TypeTXT, 0), []string{name + ` TXT "old"`})
	if got := soaSerial(t, s.Addr(), "example.test."); got != serial1 {
		t.Errorf("serial changed without a change in data: %d -> %d", serial1, got)
	}

	src.set("example.test.", rr("_acme-challenge", "TXT", "new"), rr("_acme-challenge", "TXT", "newer"))
	checkAnswer(t, query(t, s.Addr(), "tcp", name, dns.TypeTXT, 0), []string{name + ` TXT "new"`, name + ` TXT "newer"`})
	serial2 := soaSerial(t, s.Addr(), "example.test.")
	if serial2 == serial1 {
		t.Errorf("serial unchanged (%d) after the records changed", serial1)
	}

	src.set("example.test.")
	r := query(t, s.Addr(), "udp", name, dns.TypeTXT, 0)
	if r.Rcode != dns.RcodeNameError {
		t.Errorf("after deletion: rcode %s", dns.RcodeToString[r.Rcode])
	}
	if got := soaSerial(t, s.Addr(), "example.test."); got == serial2 {
		t.Errorf("serial unchanged (%d) after deletion", got)
	}
}

// TestConcurrentTCP mimics Pebble: several concurrent TCP lookups with RD set
// while the data changes.
func TestConcurrentTCP(t *testing.T) {
	src := parentSource()
	s := startServer(t, src.get)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				if i == 0 {
					src.set("x.test.", rr("_acme-challenge", "TXT", fmt.Sprint(j)))
					continue
				}
				m := new(dns.Msg)
				m.SetQuestion("_acme-challenge.example.test.", dns.TypeTXT)
				c := &dns.Client{Net: "tcp", Timeout: 3 * time.Second}
				r, _, err := c.Exchange(m, s.Addr())
				if err != nil || len(r.Answer) != 2 {
					t.Errorf("concurrent query: %v %v", err, r)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestStartClose(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Errorf("Addr %q not on loopback", s.Addr())
	}
	r := query(t, s.Addr(), "tcp", "example.test.", dns.TypeSOA, 0)
	if r.Rcode != dns.RcodeRefused {
		t.Errorf("no zones: rcode %s", dns.RcodeToString[r.Rcode])
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// The port is free again for both protocols.
	s2, err := Start(s.Addr())
	if err != nil {
		t.Fatalf("restart on %s: %v", s.Addr(), err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}

	if _, err := Start("127.0.0.1:notaport"); err == nil {
		t.Error("Start with a bad address succeeded")
	}
}
