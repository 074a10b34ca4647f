package providertest

// The registered fakes, one line a provider: each fake package's Seeded
// starter. This is the one file outside a provider's own packages that
// names every fake; it is kept apart from the registration of the
// providers (internal/providers) so that no fake is linked into a
// program that only uses the providers.
import (
	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/hostup/hostuptest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/realtimeregister/realtimeregistertest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/xynta/xyntatest"
)

var starters = map[string]Starter{
	"hostup":           starter(hostuptest.Seeded),
	"mijnhost":         starter(mijnhosttest.Seeded),
	"realtimeregister": starter(realtimeregistertest.Seeded),
	"xynta":            starter(xyntatest.Seeded),
}

// starter adapts a fake package's Seeded to a Starter.
func starter[F Fake](seeded func(zone string, seed []libdns.RR, extra []string) (F, error)) Starter {
	return func(zone string, seed []libdns.RR, extra []string) (Fake, error) { return seeded(zone, seed, extra) }
}
