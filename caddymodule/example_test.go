package caddymodule_test

import (
	"log"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/certmagic"

	"github.com/acme-dns-hook/acme-dns-hook/caddymodule"
)

// A Go program (a benchmark, say) can use a module outside Caddy the way
// Caddy does: configure it from its JSON, provision it, and hand it to
// certmagic as the DNS provider, with certmagic's own check off since the
// module checks.
func ExampleModule_propagationCheck() {
	info, err := caddy.GetModule("dns.providers.mijnhost")
	if err != nil {
		log.Fatal(err)
	}
	m := info.New().(*caddymodule.Module)
	config := `{"api_key":"{env.MIJNHOST_API_KEY}","propagation_check":"2m"}`
	if err := caddy.StrictUnmarshalJSON([]byte(config), m); err != nil {
		log.Fatal(err)
	}
	if err := m.Provision(caddy.Context{}); err != nil { // sets the check up
		log.Fatal(err)
	}
	solver := &certmagic.DNS01Solver{DNSManager: certmagic.DNSManager{
		DNSProvider:        m,
		PropagationTimeout: -1, // the module waits for the authoritative servers instead
	}}
	_ = solver // certmagic.ACMEIssuer{DNS01Solver: solver, ...}
}
