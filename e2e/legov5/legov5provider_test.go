package legov5

import (
	"testing"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/legov5provider"
)

// TestProviderEveryProvider obtains certificates through legov5provider
// with the lego v5 library, for every registered provider: apex +
// wildcard, ten names, and a name whose challenge is delegated by CNAME to
// another zone of the account (lego v5 follows it; the record must go to
// the effective name, in that zone). The provider is built as a program
// on lego v5 builds it, by NewDNSProvider from lego's variable names of
// the provider, derived from its descriptor.
func TestProviderEveryProvider(t *testing.T) {
	for _, provider := range localstack.Providers() {
		for _, c := range []cert{apexAndWildcard, tenNames, delegated} {
			t.Run(provider+"/"+c.name, func(t *testing.T) {
				inOwnProcess(t, func(t *testing.T) {
					w := newWorld(t, provider, c)
					setEnv(t, append(w.stack.Env(), w.stack.Descriptor.Env+"POLLING_INTERVAL=1", w.stack.Descriptor.Env+"TTL=60")...)
					p, err := legov5provider.NewDNSProvider()
					if err != nil {
						t.Fatal(err)
					}
					w.obtain(t, p, c)
				})
			})
		}
	}
}
