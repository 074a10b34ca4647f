package propagation

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
)

// fakeDNS is an in-test DNS server on one loopback port (UDP and TCP) whose
// answers the test controls.
type fakeDNS struct {
	addr string // host:port
	port string

	mu       sync.Mutex
	rrs      []dns.RR       // served records
	rcodes   map[string]int // "name TYPE" (lower case) -> forced rcode
	silent   bool           // never answer
	truncUDP bool           // answer UDP queries with TC set and no records
	// before is called with mu held before each answer, after the query was
	// counted; it may change the records (addLocked, removeLocked).
	before func(f *fakeDNS, q dns.Question)
	txtN   int            // TXT queries seen
	rd     map[bool]int   // queries seen by RD flag
	nets   map[string]int // queries seen by transport ("udp", "tcp")
	byType map[uint16]int // queries seen by type
}

// startFake starts a fake on host:port ("127.0.0.1", "0" for any port).
func startFake(t *testing.T, host, port string) (*fakeDNS, error) {
	t.Helper()
	var (
		pc  net.PacketConn
		ln  net.Listener
		err error
	)
	for range 20 {
		pc, err = net.ListenPacket("udp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, err
		}
		p := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
		ln, err = net.Listen("tcp", net.JoinHostPort(host, p))
		if err == nil {
			break
		}
		pc.Close()
		if port != "0" {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	f := &fakeDNS{
		addr:   pc.LocalAddr().String(),
		port:   strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port),
		rcodes: map[string]int{},
		rd:     map[bool]int{},
		nets:   map[string]int{},
		byType: map[uint16]int{},
	}
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	udp := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(f.serve), NotifyStartedFunc: notify}
	tcp := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(f.serve), NotifyStartedFunc: notify}
	for _, s := range []*dns.Server{udp, tcp} {
		go s.ActivateAndServe()
	}
	<-started
	<-started
	t.Cleanup(func() {
		udp.Shutdown()
		tcp.Shutdown()
	})
	return f, nil
}

func mustFake(t *testing.T) *fakeDNS {
	t.Helper()
	f, err := startFake(t, "127.0.0.1", "0")
	if err != nil {
		t.Fatalf("starting fake DNS server: %v", err)
	}
	return f
}

func (f *fakeDNS) serve(w dns.ResponseWriter, r *dns.Msg) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(r.Question) != 1 {
		return
	}
	q := r.Question[0]
	transport := "tcp"
	if _, ok := w.LocalAddr().(*net.UDPAddr); ok {
		transport = "udp"
	}
	f.rd[r.RecursionDesired]++
	f.nets[transport]++
	f.byType[q.Qtype]++
	if q.Qtype == dns.TypeTXT {
		f.txtN++
	}
	if f.before != nil {
		f.before(f, q)
	}
	if f.silent {
		return
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if rc, ok := f.rcodes[strings.ToLower(q.Name)+" "+dns.TypeToString[q.Qtype]]; ok {
		m.Rcode = rc
		w.WriteMsg(m)
		return
	}
	// Answer like a resolver would: records of the type at the name, or the
	// CNAME there followed by what its target has (one hop is enough here).
	exists := false
	target := ""
	for _, rr := range f.rrs {
		h := rr.Header()
		if !strings.EqualFold(h.Name, q.Name) {
			continue
		}
		exists = true
		if h.Rrtype == q.Qtype || h.Rrtype == dns.TypeCNAME {
			m.Answer = append(m.Answer, dns.Copy(rr))
		}
		if cn, ok := rr.(*dns.CNAME); ok {
			target = cn.Target
		}
	}
	for _, rr := range f.rrs {
		if target != "" && strings.EqualFold(rr.Header().Name, target) && rr.Header().Rrtype == q.Qtype {
			m.Answer = append(m.Answer, dns.Copy(rr))
		}
	}
	if !exists {
		m.Rcode = dns.RcodeNameError
	}
	if transport == "udp" && f.truncUDP && len(m.Answer) > 0 {
		m.Answer = nil
		m.Truncated = true
	}
	w.WriteMsg(m)
}

// set replaces the served records with rrs in zone-file syntax.
func (f *fakeDNS) set(t *testing.T, rrs ...string) {
	t.Helper()
	parsed := parseRRs(t, rrs...)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rrs = parsed
}

// addLocked adds a record; f.mu must be held (as in before).
func (f *fakeDNS) addLocked(rr string) {
	parsed, err := dns.NewRR(rr)
	if err != nil {
		panic(err)
	}
	f.rrs = append(f.rrs, parsed)
}

// removeLocked removes records of type TXT at name; f.mu must be held.
func (f *fakeDNS) removeLocked(name string) {
	var kept []dns.RR
	for _, rr := range f.rrs {
		if !(strings.EqualFold(rr.Header().Name, name) && rr.Header().Rrtype == dns.TypeTXT) {
			kept = append(kept, rr)
		}
	}
	f.rrs = kept
}

func (f *fakeDNS) setBefore(fn func(f *fakeDNS, q dns.Question)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.before = fn
}

func (f *fakeDNS) setSilent() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.silent = true
}

func (f *fakeDNS) setTruncUDP() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.truncUDP = true
}

func (f *fakeDNS) setRcode(name string, qtype uint16, rcode int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rcodes[strings.ToLower(dns.Fqdn(name))+" "+dns.TypeToString[qtype]] = rcode
}

func (f *fakeDNS) stats() (txt int, rd map[bool]int, nets map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rdc := map[bool]int{}
	for k, v := range f.rd {
		rdc[k] = v
	}
	nc := map[string]int{}
	for k, v := range f.nets {
		nc[k] = v
	}
	return f.txtN, rdc, nc
}

func parseRRs(t *testing.T, rrs ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("parsing %q: %v", s, err)
		}
		out = append(out, rr)
	}
	return out
}

// expand replaces {0}, {1} … by the fakes' addresses.
func expand(s string, fakes []*fakeDNS) string {
	for i, f := range fakes {
		s = strings.ReplaceAll(s, "{"+strconv.Itoa(i)+"}", f.addr)
	}
	return s
}

const (
	name  = "_acme-challenge.example.com."
	value = "Ga4tnHJSMf9lxHxkYkAe_9Bcym3ydFtdl8uq8Rq6LBo"
)

func TestWaitResolvers(t *testing.T) {
	tests := []struct {
		name    string
		servers int // number of fakes, used as Resolvers in order
		setup   func(t *testing.T, fs []*fakeDNS)
		fqdn    string // default name
		value   string // default value
		timeout time.Duration
		wantErr []string // substrings of the error; {i} = address of fake i
		notErr  []string // must not be in the error
		check   func(t *testing.T, fs []*fakeDNS)
	}{
		{
			name:    "visible at once",
			servers: 1,
			setup: func(t *testing.T, fs []*fakeDNS) {
				fs[0].set(t, name+` 60 IN TXT "`+value+`"`)
			},
			check: func(t *testing.T, fs []*fakeDNS) {
				n, rd, _ := fs[0].stats()
				if n != 1 {
					t.Errorf("TXT queries = %d, want 1", n)
				}
				if rd[false] != 0 {
					t.Errorf("resolvers were queried without RD %d times", rd[false])
				}
			},
		},
		{
			name:    "appears after two rounds",
			servers: 1,
			setup: func(t *testing.T, fs []*fakeDNS) {
				fs[0].set(t, "example.com. 60 IN SOA ns1.example.com. h.example.com. 1 2 3 4 5")
				fs[0].setBefore(func(f *fakeDNS, q dns.Question) {
					if q.Qtype == dns.TypeTXT && f.txtN == 3 {
						f.addLocked(name + ` 60 IN TXT "` + value + `"`)
					}
				})
			},
			check: func(t *testing.T, fs []*fakeDNS) {
				if n, _, _ := fs[0].stats(); n != 3 {
					t.Errorf("TXT queries = %d, want 3", n)
				}
			},
		},
		{
			name:    "two values on one name, waiting for the second",
			servers: 1,
			setup: func(t *testing.T, fs []*fakeDNS) {
				fs[0].set(t, name+` 60 IN TXT "first-value"`)
				fs[0].setBefore(func(f *fakeDNS, q dns.Question) {
					if q.Qtype == dns.TypeTXT && f.txtN == 2 {
						f.addLocked(name + ` 60 IN TXT "` + value + `"`)
					}
				})
			},
			check: func(t *testing.T, fs []*fakeDNS) {
				if n, _, _ := fs[0].stats(); n != 2 {
					t.Errorf("TXT queries = %d, want 2", n)
				}
			},
		},
		{
			name:    "value split over several strings",
			servers: 1,
			value:   "abcdef",
			setup: func(t *testing.T, fs []*fakeDNS) {
				fs[0].set(t, name+` 60 IN TXT "abc" "def"`)
			},
		},
		{
			name:    "value with quotes, backslash and non-ASCII",
			servers: 1,
			value:   "a \"q\" \\ é",
			setup: func(t *testing.T, fs []*fakeDNS) {
				fs[0].set(t, name+` 60 IN TXT "a \"q\" \\ \195\169"`)
			},
		},
		{
			name:    "name case-insensitive and without trailing dot",
			servers: 1,
			fqdn:    "_ACME-Challenge.Example.COM",
			setup: func(t *testing.T, fs []*fakeDNS) {
				fs[0].set(t, name+` 60 IN TXT "`+value+`"`)
			},
		},
		{
			name:    "CNAME followed by a recursive resolver",
			servers: 1,
			setup: func(t *testing.T, fs []*fakeDNS) {
				fs[0].set(t,
					name+" 60 IN CNAME example.com.acme.example.net.",
					`example.com.acme.example.net. 60 IN TXT "`+value+`"`)
			},
		},
		{
			name:    "TCP fallback on truncation",
			servers: 1,
			setup: func(t *testing.T, fs []*fakeDNS) {
				fs[0].set(t, name+` 60 IN TXT "`+value+`"`)
				fs[0].setTruncUDP()
			},
			check: func(t *testing.T, fs []*fakeDNS) {
				if _, _, nets := fs[0].stats(); nets["tcp"] == 0 {
					t.Errorf("no TCP query after a truncated UDP answer: %v", nets)
				}
			},
		},
		{
			name:    "never appears: NXDOMAIN",
			servers: 1,
			timeout: time.Second,
			wantErr: []string{"TXT " + name + " not visible after 1s on {0}: NXDOMAIN"},
		},
		{
			name:    "never appears: another value",
			servers: 1,
			timeout: time.Second,
			setup: func(t *testing.T, fs []*fakeDNS) {
				fs[0].set(t, name+` 60 IN TXT "other"`)
			},
			wantErr: []string{"on {0}: TXT \"other\""},
		},
		{
			name:    "never appears: NODATA",
			servers: 1,
			timeout: time.Second,
			setup: func(t *testing.T, fs []*fakeDNS) {
				fs[0].set(t, name+" 60 IN A 192.0.2.1")
			},
			wantErr: []string{"on {0}: NODATA"},
		},
		{
			name:    "never appears: SERVFAIL",
			servers: 1,
			timeout: time.Second,
			setup: func(t *testing.T, fs []*fakeDNS) {
				fs[0].setRcode(name, dns.TypeTXT, dns.RcodeServerFailure)
			},
			wantErr: []string{"on {0}: SERVFAIL"},
		},
		{
			name:    "never appears: no answer",
			servers: 1,
			timeout: time.Second,
			setup: func(t *testing.T, fs []*fakeDNS) {
				fs[0].setSilent()
			},
			wantErr: []string{"on {0}: no answer: timed out"},
		},
		{
			name:    "two resolvers, only the first has it",
			servers: 2,
			timeout: time.Second,
			setup: func(t *testing.T, fs []*fakeDNS) {
				fs[0].set(t, name+` 60 IN TXT "`+value+`"`)
				fs[1].set(t, name+` 60 IN TXT "other"`)
			},
			wantErr: []string{"not visible after 1s on {1}: TXT \"other\""},
			notErr:  []string{"{0}"},
		},
		{
			name:    "two resolvers, both have it",
			servers: 2,
			setup: func(t *testing.T, fs []*fakeDNS) {
				for _, f := range fs {
					f.set(t, name+` 60 IN TXT "`+value+`"`)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fs []*fakeDNS
			c := &Checker{Interval: 20 * time.Millisecond, Timeout: 5 * time.Second}
			for range tt.servers {
				f := mustFake(t)
				fs = append(fs, f)
				c.Resolvers = append(c.Resolvers, f.addr)
			}
			if tt.setup != nil {
				tt.setup(t, fs)
			}
			if tt.timeout != 0 {
				c.Timeout = tt.timeout
			}
			fqdn, val := name, value
			if tt.fqdn != "" {
				fqdn = tt.fqdn
			}
			if tt.value != "" {
				val = tt.value
			}
			err := c.Wait(context.Background(), "", fqdn, val)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Wait: %v", err)
				}
			} else {
				if err == nil {
					t.Fatal("Wait succeeded, want an error")
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false", err)
				}
				for _, want := range tt.wantErr {
					if want = expand(want, fs); !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				for _, not := range tt.notErr {
					if not = expand(not, fs); strings.Contains(err.Error(), not) {
						t.Errorf("error %q contains %q", err, not)
					}
				}
			}
			if tt.check != nil {
				tt.check(t, fs)
			}
		})
	}
}

// authSetup is a fake recursive resolver answering NS example.com. with
// ns1.example.net. -> 127.0.0.1 and ns2.example.net. -> 127.0.0.2, and two
// fake authoritative servers on those addresses, sharing one port.
type authSetup struct {
	rec        *fakeDNS
	ns1, ns2   *fakeDNS
	checker    *Checker
	ns1s, ns2s string // "ns1.example.net. (127.0.0.1:port)"
}

func newAuthSetup(t *testing.T) *authSetup {
	t.Helper()
	rec := mustFake(t)
	var ns1, ns2 *fakeDNS
	var lastErr error
	for range 10 {
		ns1 = mustFake(t)
		var err error
		if ns2, err = startFake(t, "127.0.0.2", ns1.port); err == nil {
			break
		}
		lastErr, ns2 = err, nil
	}
	if ns2 == nil {
		t.Skipf("cannot listen on 127.0.0.2 with the port of 127.0.0.1: %v", lastErr)
	}
	rec.set(t,
		"example.com. 60 IN NS ns1.example.net.",
		"example.com. 60 IN NS NS2.example.NET.",
		"ns1.example.net. 60 IN A 127.0.0.1",
		"ns2.example.net. 60 IN A 127.0.0.2",
	)
	return &authSetup{
		rec: rec, ns1: ns1, ns2: ns2,
		checker: &Checker{
			Interval:        20 * time.Millisecond,
			Timeout:         5 * time.Second,
			SystemResolvers: []string{rec.addr},
			authPort:        ns1.port,
		},
		ns1s: "ns1.example.net. (127.0.0.1:" + ns1.port + ")",
		ns2s: "ns2.example.net. (127.0.0.2:" + ns1.port + ")",
	}
}

func TestWaitAuthoritative(t *testing.T) {
	txt := name + ` 60 IN TXT "` + value + `"`
	tests := []struct {
		name    string
		zone    string
		setup   func(t *testing.T, s *authSetup)
		timeout time.Duration
		wantErr []string // {ns1}, {ns2} = server names as in errors
		notErr  []string
	}{
		{
			name: "both servers have it",
			zone: "example.com.",
			setup: func(t *testing.T, s *authSetup) {
				s.ns1.set(t, txt)
				s.ns2.set(t, txt)
			},
		},
		{
			name: "zone without trailing dot, upper case",
			zone: "EXAMPLE.com",
			setup: func(t *testing.T, s *authSetup) {
				s.ns1.set(t, txt)
				s.ns2.set(t, txt)
			},
		},
		{
			name: "second server catches up after two rounds",
			zone: "example.com.",
			setup: func(t *testing.T, s *authSetup) {
				s.ns1.set(t, txt)
				s.ns2.setBefore(func(f *fakeDNS, q dns.Question) {
					if q.Qtype == dns.TypeTXT && f.txtN == 3 {
						f.addLocked(txt)
					}
				})
			},
		},
		{
			name: "NS lookup fails at first, then works",
			zone: "example.com.",
			setup: func(t *testing.T, s *authSetup) {
				s.ns1.set(t, txt)
				s.ns2.set(t, txt)
				s.rec.setRcode("example.com.", dns.TypeNS, dns.RcodeServerFailure)
				s.rec.setBefore(func(f *fakeDNS, q dns.Question) {
					if q.Qtype == dns.TypeNS && f.byType[dns.TypeNS] == 3 {
						delete(f.rcodes, "example.com. NS")
					}
				})
			},
		},
		{
			name:    "only the first server has it",
			zone:    "example.com.",
			timeout: time.Second,
			setup: func(t *testing.T, s *authSetup) {
				s.ns1.set(t, txt)
			},
			wantErr: []string{"TXT " + name + " not visible after 1s on {ns2}: NXDOMAIN"},
			notErr:  []string{"ns1"},
		},
		{
			name:    "no NS records",
			zone:    "example.com.",
			timeout: time.Second,
			setup: func(t *testing.T, s *authSetup) {
				s.rec.set(t, "example.com. 60 IN A 192.0.2.1")
			},
			wantErr: []string{"not visible after 1s: finding authoritative servers: NS example.com.: no NS records"},
		},
		{
			name:    "resolver fails",
			zone:    "example.com.",
			timeout: time.Second,
			setup: func(t *testing.T, s *authSetup) {
				s.rec.setRcode("example.com.", dns.TypeNS, dns.RcodeRefused)
			},
			wantErr: []string{"finding authoritative servers: NS example.com.: no resolver answered (" + "{rec}: REFUSED)"},
		},
		{
			name:    "nameserver name without address",
			zone:    "example.com.",
			timeout: time.Second,
			setup: func(t *testing.T, s *authSetup) {
				s.rec.set(t, "example.com. 60 IN NS ns1.example.net.", "example.com. 60 IN NS ns3.example.net.",
					"ns1.example.net. 60 IN A 127.0.0.1")
				s.ns1.set(t, txt)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAuthSetup(t)
			if tt.setup != nil {
				tt.setup(t, s)
			}
			c := s.checker
			if tt.timeout != 0 {
				c.Timeout = tt.timeout
			}
			r := strings.NewReplacer("{ns1}", s.ns1s, "{ns2}", s.ns2s, "{rec}", s.rec.addr)
			err := c.Wait(context.Background(), tt.zone, name, value)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Wait: %v", err)
				}
			} else {
				if err == nil {
					t.Fatal("Wait succeeded, want an error")
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false", err)
				}
				for _, want := range tt.wantErr {
					if want = r.Replace(want); !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				for _, not := range tt.notErr {
					if not = r.Replace(not); strings.Contains(err.Error(), not) {
						t.Errorf("error %q contains %q", err, not)
					}
				}
			}
			for _, f := range []*fakeDNS{s.ns1, s.ns2} {
				if _, rd, _ := f.stats(); rd[true] != 0 {
					t.Errorf("authoritative server %s queried with RD %d times", f.addr, rd[true])
				}
			}
		})
	}
}

func TestProgress(t *testing.T) {
	t.Run("resolvers", func(t *testing.T) {
		f := mustFake(t)
		f.setBefore(func(f *fakeDNS, q dns.Question) {
			if q.Qtype == dns.TypeTXT && f.txtN == 3 {
				f.addLocked(name + ` 60 IN TXT "` + value + `"`)
			}
		})
		var out apitest.Buffer
		c := &Checker{Resolvers: []string{f.addr}, Interval: 20 * time.Millisecond, Timeout: 5 * time.Second, Progress: &out}
		if err := c.Wait(context.Background(), "example.com.", name, value); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		wait := fmt.Sprintf("waiting for %s TXT %q: 0/1 servers see it (%s not yet)", name, value, f.addr)
		if len(lines) != 3 || lines[0] != wait || lines[1] != wait {
			t.Errorf("progress lines = %q, want two of %q then the final line", lines, wait)
		}
		final := fmt.Sprintf("%s TXT %q visible on all 1 server after ", name, value)
		if !strings.HasPrefix(lines[len(lines)-1], final) {
			t.Errorf("last progress line = %q, want prefix %q", lines[len(lines)-1], final)
		}
	})
	t.Run("authoritative", func(t *testing.T) {
		s := newAuthSetup(t)
		txt := name + ` 60 IN TXT "` + value + `"`
		s.ns1.set(t, txt)
		s.ns2.setBefore(func(f *fakeDNS, q dns.Question) {
			if q.Qtype == dns.TypeTXT && f.txtN == 2 {
				f.addLocked(txt)
			}
		})
		var out apitest.Buffer
		s.checker.Progress = &out
		if err := s.checker.Wait(context.Background(), "example.com.", name, value); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		got := out.String()
		for _, want := range []string{
			"authoritative servers of example.com.: " + s.ns1s + ", " + s.ns2s + "\n",
			fmt.Sprintf("waiting for %s TXT %q: 1/2 servers see it (ns2.example.net. 127.0.0.2:%s not yet)\n", name, value, s.ns1.port),
			fmt.Sprintf("%s TXT %q visible on all 2 servers after ", name, value),
		} {
			if !strings.Contains(got, want) {
				t.Errorf("progress %q does not contain %q", got, want)
			}
		}
	})
}

func TestGone(t *testing.T) {
	txt := name + ` 60 IN TXT "` + value + `"`
	tests := []struct {
		name    string
		setup   func(t *testing.T, f *fakeDNS)
		wantErr string // {0} = fake address
	}{
		{
			name: "already gone: NXDOMAIN",
		},
		{
			name: "other value stays",
			setup: func(t *testing.T, f *fakeDNS) {
				f.set(t, name+` 60 IN TXT "other"`)
			},
		},
		{
			name: "removed after two rounds",
			setup: func(t *testing.T, f *fakeDNS) {
				f.set(t, txt, name+` 60 IN TXT "other"`)
				f.setBefore(func(f *fakeDNS, q dns.Question) {
					if q.Qtype == dns.TypeTXT && f.txtN == 3 {
						f.removeLocked(name)
					}
				})
			},
		},
		{
			name: "never removed",
			setup: func(t *testing.T, f *fakeDNS) {
				f.set(t, txt)
			},
			wantErr: "TXT " + name + " not gone after 1s on {0}: TXT \"" + value + "\"",
		},
		{
			name: "SERVFAIL does not count as gone",
			setup: func(t *testing.T, f *fakeDNS) {
				f.setRcode(name, dns.TypeTXT, dns.RcodeServerFailure)
			},
			wantErr: "not gone after 1s on {0}: SERVFAIL",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustFake(t)
			if tt.setup != nil {
				tt.setup(t, f)
			}
			c := &Checker{Resolvers: []string{f.addr}, Interval: 20 * time.Millisecond, Timeout: 5 * time.Second}
			if tt.wantErr != "" {
				c.Timeout = time.Second
			}
			err := c.Gone(context.Background(), "example.com.", name, value)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Gone: %v", err)
				}
				return
			}
			want := expand(tt.wantErr, []*fakeDNS{f})
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Gone error = %v, want it to contain %q", err, want)
			}
		})
	}
}

func TestWaitCancel(t *testing.T) {
	f := mustFake(t)
	c := &Checker{Resolvers: []string{f.addr}, Interval: 20 * time.Millisecond, Timeout: time.Minute}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := c.Wait(ctx, "example.com.", name, value)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after cancel = %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), name) {
		t.Errorf("error %q does not name %s", err, name)
	}
}

func TestWaitBadArguments(t *testing.T) {
	tests := []struct {
		name    string
		c       Checker
		zone    string
		fqdn    string
		wantErr string
	}{
		{"empty name", Checker{Resolvers: []string{"127.0.0.1:1"}}, "", "", "empty name"},
		{"name outside zone", Checker{SystemResolvers: []string{"127.0.0.1:1"}}, "example.org.", name, "not in zone example.org."},
		{"no zone", Checker{SystemResolvers: []string{"127.0.0.1:1"}}, "", name, "zone: empty name"},
		{"bad resolver", Checker{Resolvers: []string{"127.0.0.1:x"}}, "", name, `invalid resolver "127.0.0.1:x"`},
		{"bad system resolver", Checker{SystemResolvers: []string{"::1"}}, "example.com", name, `invalid resolver "::1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Wait(context.Background(), tt.zone, tt.fqdn, value)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Wait = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseResolvers(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "", want: nil},
		{in: "  ", want: nil},
		{in: "192.0.2.1", want: []string{"192.0.2.1:53"}},
		{in: "192.0.2.1:5353", want: []string{"192.0.2.1:5353"}},
		{in: "192.0.2.1:5353, 198.51.100.1", want: []string{"192.0.2.1:5353", "198.51.100.1:53"}},
		{in: "[2001:db8::1]", want: []string{"[2001:db8::1]:53"}},
		{in: "[2001:db8::1]:8053,127.0.0.1:53", want: []string{"[2001:db8::1]:8053", "127.0.0.1:53"}},
		{in: "dns.example.net", want: []string{"dns.example.net:53"}},
		{in: "dns.example.net.:853", want: []string{"dns.example.net.:853"}},
		{in: "127.0.0.1,", wantErr: `invalid resolver list "127.0.0.1,": entry 2 is empty`},
		{in: "a.example,,b.example", wantErr: "entry 2 is empty"},
		{in: "127.0.0.1:x", wantErr: `invalid resolver "127.0.0.1:x": port "x" is not a number from 1 to 65535`},
		{in: "127.0.0.1:0", wantErr: `port "0" is not`},
		{in: "127.0.0.1:65536", wantErr: `port "65536" is not`},
		{in: "127.0.0.1:", wantErr: `port "" is not`},
		{in: "1.1.1.1,2001:db8::1", wantErr: `invalid resolver "2001:db8::1": IPv6 address needs brackets: [2001:db8::1]`},
		{in: "[2001:db8::1", wantErr: `invalid resolver "[2001:db8::1": missing ]`},
		{in: "[192.0.2.1]:53", wantErr: `"192.0.2.1" in brackets is not an IPv6 address`},
		{in: "[2001:db8::1]53", wantErr: `unexpected "53" after ]`},
		{in: ":53", wantErr: `invalid resolver ":53": missing host`},
		{in: "1.2.3.256", wantErr: `"1.2.3.256" is neither an IP address nor a host name`},
		{in: "bad host:53", wantErr: `"bad host" is neither`},
		{in: "a:b:c", wantErr: `invalid resolver "a:b:c": too many colons`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseResolvers(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseResolvers(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseResolvers(%q): %v", tt.in, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || len(got) != len(tt.want) {
				t.Errorf("ParseResolvers(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestDropUnreachable(t *testing.T) {
	unreach := &net.OpError{Op: "dial", Net: "udp", Err: syscall.ENETUNREACH}
	v4 := server{name: "ns1.example.net.", addr: "192.0.2.1:53"}
	v6 := server{name: "ns1.example.net.", addr: "[2001:db8::1]:53"}
	only6 := server{name: "ns2.example.net.", addr: "[2001:db8::2]:53"}
	resolver := server{addr: "[2001:db8::3]:53", rd: true}
	servers := []server{v4, v6, only6, resolver}
	answers := []answer{{desc: "NXDOMAIN", definitive: true}, {err: unreach}, {err: unreach}, {err: unreach}}
	kept, keptAnswers, dropped := dropUnreachable(servers, answers)
	if fmt.Sprint(dropped) != fmt.Sprint([]server{v6}) {
		t.Errorf("dropped = %v, want only %v", dropped, v6)
	}
	if fmt.Sprint(kept) != fmt.Sprint([]server{v4, only6, resolver}) || len(keptAnswers) != 3 || keptAnswers[1].err != unreach {
		t.Errorf("kept = %v %v", kept, keptAnswers)
	}
}
