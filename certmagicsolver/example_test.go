package certmagicsolver_test

import (
	"context"
	"log"
	"os"

	"github.com/caddyserver/certmagic"

	"github.com/acme-dns-hook/acme-dns-hook/certmagicsolver"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/mijnhost"
)

// A Go program on certmagic uses the batching solver as its ACME issuer's
// DNS-01 solver: each certificate's records are written with one
// AppendRecords call per zone and deleted with one DeleteRecords call per
// zone, and each name is checked at the zone's authoritative servers,
// every name at once.
func ExampleNew() {
	// The solver batches already: no group-commit wait in the provider.
	provider := &mijnhost.Provider{APIKey: os.Getenv("MIJNHOST_API_KEY"), GroupWindow: -1}
	solver := certmagicsolver.New(provider, certmagicsolver.Options{})
	defer solver.Close() // writes the deletions still pending

	cfg := certmagic.NewDefault()
	cfg.Issuers = []certmagic.Issuer{certmagic.NewACMEIssuer(cfg, certmagic.ACMEIssuer{
		CA:          certmagic.LetsEncryptProductionCA,
		Email:       "admin@example.com",
		Agreed:      true,
		DNS01Solver: solver,
	})}
	if err := cfg.ManageSync(context.Background(), []string{"example.com", "*.example.com"}); err != nil {
		log.Fatal(err)
	}
}
