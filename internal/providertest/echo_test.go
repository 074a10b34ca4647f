package providertest

import (
	"context"
	"fmt"
	"testing"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/providers"
)

// TestKitEchoedCredentialsNeverShown has each provider's fake repeat the
// request's credentials in its error answers, as is, JSON-escaped,
// percent-encoded and cut short, first for credentials it refuses (with
// characters JSON, URLs and HTML escape), then in server errors for the
// right ones: no error text shows any form or piece of them.
func TestKitEchoedCredentialsNeverShown(t *testing.T) {
	forEachProvider(t, func(t *testing.T, k *kit) {
		d, f := k.d, k.fake
		f.SetEcho(apitest.EchoAll)
		ctx := context.Background()

		wrong := map[string]string{}
		var wrongSecrets []string
		for k := range f.Settings() {
			if s := d.Setting(k); s != nil && s.Secret {
				wrong[d.EnvName(s)] = fmt.Sprintf(`Wr0ng/%d"kQ+&<x>=Zp9v7Tq8wX3m`, len(wrong))
				wrongSecrets = append(wrongSecrets, wrong[d.EnvName(s)])
			}
		}
		env := Env(d, f)
		p, err := providers.New(d, func(k string) (string, bool) {
			if v, ok := wrong[k]; ok {
				return v, true
			}
			return env(k)
		}, providers.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.ListZones(ctx)
		if err == nil {
			t.Fatal("wrong credentials were accepted")
		}
		if leaks := apitest.Leaks(err.Error(), wrongSecrets...); len(leaks) > 0 {
			t.Errorf("refused credentials show in the error %q: %q", err, leaks)
		}

		right, err := Provider(d, f)
		if err != nil {
			t.Fatal(err)
		}
		f.FailServerErrors(20)
		_, err = right.ListZones(ctx)
		if err == nil {
			t.Fatal("no error from a failing server")
		}
		if leaks := apitest.Leaks(err.Error(), Secrets(d, f)...); len(leaks) > 0 {
			t.Errorf("credentials show in the error %q: %q", err, leaks)
		}
	})
}
