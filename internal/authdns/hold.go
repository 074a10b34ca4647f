package authdns

import (
	"slices"
	"strings"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"
)

// Freeze makes the server answer every query from what its sources hold
// now, until [Server.Thaw]: records written meanwhile are not visible, as
// at a nameserver that has not caught up yet. Tests use it to see that a
// client waits for DNS instead of trusting the API's answer.
func (s *Server) Freeze() {
	frozen := map[string][]libdns.RR{}
	for _, src := range s.sources {
		if src == nil {
			continue
		}
		for apex, recs := range src() {
			key := strings.ToLower(dns.Fqdn(apex))
			frozen[key] = append(frozen[key], slices.Clone(recs)...)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frozen = frozen
}

// Thaw makes the server answer from its sources again.
func (s *Server) Thaw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frozen = nil
}

// OnQuery sets a function called with each query's question and the answer
// sent, after it was sent; nil removes it. It must not block for long.
func (s *Server) OnQuery(f func(q dns.Question, answer *dns.Msg)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onQuery = f
}
