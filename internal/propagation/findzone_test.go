package propagation

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// reply is a scripted answer: an rcode and records in zone-file syntax.
type reply struct {
	rcode  int
	answer []string
	ns     []string // authority section
}

// scripted is a resolver on a loopback UDP port that answers each name from
// a script (REFUSED for names not in it) and records the names asked.
type scripted struct {
	addr    string
	replies map[string]*dns.Msg // by lower-case name: rcode, answer, authority

	mu    sync.Mutex
	asked []string
}

func startScripted(t *testing.T, replies map[string]reply) *scripted {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scripted{addr: pc.LocalAddr().String(), replies: map[string]*dns.Msg{}}
	for name, r := range replies {
		s.replies[name] = &dns.Msg{MsgHdr: dns.MsgHdr{Rcode: r.rcode}, Answer: parseRRs(t, r.answer...), Ns: parseRRs(t, r.ns...)}
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve), NotifyStartedFunc: func() { close(started) }}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return s
}

func (s *scripted) serve(w dns.ResponseWriter, q *dns.Msg) {
	name := strings.ToLower(q.Question[0].Name)
	s.mu.Lock()
	s.asked = append(s.asked, name+" "+dns.TypeToString[q.Question[0].Qtype])
	s.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(q)
	m.RecursionAvailable = true
	r, ok := s.replies[name]
	if !ok {
		m.Rcode = dns.RcodeRefused
		w.WriteMsg(m)
		return
	}
	m.Rcode, m.Answer, m.Ns = r.Rcode, r.Answer, r.Ns
	w.WriteMsg(m)
}

func (s *scripted) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.asked)
}

// soa returns an SOA record of apex.
func soa(apex string) string {
	if apex == "." {
		return ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400"
	}
	return apex + " 60 IN SOA ns1." + apex + " hostmaster." + apex + " 1 60 30 3600 60"
}

func TestFindZone(t *testing.T) {
	var (
		nxdomain = reply{rcode: dns.RcodeNameError}
		nodata   = reply{rcode: dns.RcodeSuccess}
		apex     = func(z string) reply { return reply{answer: []string{soa(z)}} }
	)
	tests := []struct {
		desc      string
		name      string // default: want
		replies   map[string]reply
		want      string
		wantAsked []string // SOA queries, in order
		wantErr   string
	}{
		{
			desc:      "the name is the apex",
			replies:   map[string]reply{"example.com.": apex("example.com.")},
			want:      "example.com.",
			wantAsked: []string{"example.com."},
		},
		{
			desc: "walk up through NXDOMAIN and NODATA without an authority SOA, as lego does",
			replies: map[string]reply{
				"_acme-challenge.www.example.com.": nxdomain,
				"www.example.com.":                 nodata,
				"example.com.":                     apex("example.com."),
			},
			name:      "_acme-challenge.www.example.com.",
			want:      "example.com.",
			wantAsked: []string{"_acme-challenge.www.example.com.", "www.example.com.", "example.com."},
		},
		{
			desc:      "the authority SOA of NXDOMAIN names the apex",
			replies:   map[string]reply{"_acme-challenge.www.example.com.": {rcode: dns.RcodeNameError, ns: []string{soa("example.com.")}}},
			name:      "_acme-challenge.www.example.com.",
			want:      "example.com.",
			wantAsked: []string{"_acme-challenge.www.example.com."},
		},
		{
			desc:      "the authority SOA of NODATA names the apex",
			replies:   map[string]reply{"www.example.com.": {ns: []string{soa("example.com.")}}},
			name:      "WWW.Example.COM",
			want:      "example.com.",
			wantAsked: []string{"www.example.com."},
		},
		{
			desc: "an alias is not an apex, and the authority SOA after it is the target's",
			replies: map[string]reply{
				"_acme-challenge.sub.example.com.": {answer: []string{"_acme-challenge.sub.example.com. 60 IN CNAME _acme.example.com."}, ns: []string{soa("example.com.")}},
				"sub.example.com.":                 apex("sub.example.com."),
			},
			name:      "_acme-challenge.sub.example.com.",
			want:      "sub.example.com.",
			wantAsked: []string{"_acme-challenge.sub.example.com.", "sub.example.com."},
		},
		{
			desc: "an alias to an apex is not an apex",
			replies: map[string]reply{
				"www.example.com.": {answer: []string{"www.example.com. 60 IN CNAME example.net.", soa("example.net.")}},
				"example.com.":     apex("example.com."),
			},
			name:      "www.example.com.",
			want:      "example.com.",
			wantAsked: []string{"www.example.com.", "example.com."},
		},
		{
			desc: "an SOA of another name in the answer is not the name's",
			replies: map[string]reply{
				"www.example.com.": {answer: []string{soa("example.com.")}},
				"example.com.":     apex("example.com."),
			},
			name:      "www.example.com.",
			want:      "example.com.",
			wantAsked: []string{"www.example.com.", "example.com."},
		},
		{
			desc: "an authority SOA that is not above the name is ignored",
			replies: map[string]reply{
				"_acme-challenge.example.com.": {rcode: dns.RcodeNameError, ns: []string{soa("example.net.")}},
				"example.com.":                 apex("example.com."),
			},
			name:      "_acme-challenge.example.com.",
			want:      "example.com.",
			wantAsked: []string{"_acme-challenge.example.com.", "example.com."},
		},
		{
			desc: "the root zone is never the answer",
			replies: map[string]reply{
				"example.invalid.": {rcode: dns.RcodeNameError, ns: []string{soa(".")}},
				"invalid.":         {rcode: dns.RcodeNameError, ns: []string{soa(".")}},
			},
			name:      "example.invalid.",
			wantAsked: []string{"example.invalid.", "invalid."},
			wantErr:   "finding the zone of example.invalid.: no SOA record at it or any parent (asked {0})",
		},
		{
			desc: "a name without an answer stops the walk",
			replies: map[string]reply{
				"_acme-challenge.example.com.": {rcode: dns.RcodeServerFailure},
				"com.":                         apex("com."),
			},
			name:      "_acme-challenge.example.com.",
			wantAsked: []string{"_acme-challenge.example.com."},
			wantErr:   "finding the zone of _acme-challenge.example.com.: SOA _acme-challenge.example.com.: no resolver answered ({0}: SERVFAIL)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			s := startScripted(t, tt.replies)
			name := tt.name
			if name == "" {
				name = tt.want
			}
			got, err := FindZone(context.Background(), []string{s.addr}, name)
			if tt.wantErr != "" {
				if want := strings.ReplaceAll(tt.wantErr, "{0}", s.addr); err == nil || err.Error() != want {
					t.Errorf("FindZone(%q) = %q, %v; want error %q", name, got, err, want)
				}
			} else if err != nil || got != tt.want {
				t.Errorf("FindZone(%q) = %q, %v; want %q", name, got, err, tt.want)
			}
			var want []string
			for _, n := range tt.wantAsked {
				want = append(want, n+" SOA")
			}
			if asked := s.names(); !slices.Equal(asked, want) {
				t.Errorf("asked %q, want %q", asked, want)
			}
		})
	}
}

func TestFindZoneAsksResolversInTurn(t *testing.T) {
	failing := startScripted(t, map[string]reply{"_acme-challenge.example.com.": {rcode: dns.RcodeServerFailure}})
	working := startScripted(t, map[string]reply{"_acme-challenge.example.com.": {rcode: dns.RcodeNameError, ns: []string{soa("example.com.")}}})
	got, err := FindZone(context.Background(), []string{failing.addr, working.addr}, "_acme-challenge.example.com")
	if err != nil || got != "example.com." {
		t.Fatalf("FindZone = %q, %v; want example.com.", got, err)
	}
	if len(failing.names()) != 1 || len(working.names()) != 1 {
		t.Errorf("asked the failing resolver %q and the working one %q, want once each", failing.names(), working.names())
	}
}

func TestFindZoneBadArguments(t *testing.T) {
	tests := []struct {
		name      string
		resolvers []string
		want      string
	}{
		{"", []string{"127.0.0.1:53"}, "finding the zone: empty name"},
		{"bad name.example.", []string{"127.0.0.1:53"}, `finding the zone: invalid name "bad name.example."`},
		{"example.com", []string{"127.0.0.1:99999"}, `finding the zone of example.com.: invalid resolver "127.0.0.1:99999": port "99999" is not a number from 1 to 65535`},
	}
	for _, tt := range tests {
		if got, err := FindZone(context.Background(), tt.resolvers, tt.name); err == nil || err.Error() != tt.want {
			t.Errorf("FindZone(%q, %q) = %q, %v; want error %q", tt.resolvers, tt.name, got, err, tt.want)
		}
	}
}
