package legov5provider_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"log"
	"os"

	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/lego"
	"github.com/go-acme/lego/v5/registration"

	"github.com/acme-dns-hook/acme-dns-hook/legov5provider"
)

type account struct {
	key crypto.Signer
	reg *acme.ExtendedAccount
}

func (a *account) GetEmail() string                       { return "you@example.com" }
func (a *account) GetRegistration() *acme.ExtendedAccount { return a.reg }
func (a *account) GetPrivateKey() crypto.Signer           { return a.key }

// A wildcard certificate from Let's Encrypt, the provider and its
// credentials from the environment (ACME_HOOK_PROVIDER, MIJNHOST_API_KEY,
// MIJNHOST_TTL, …).
func Example() {
	ctx := context.Background()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	user := &account{key: key}
	client, err := lego.NewClient(lego.NewConfig(user))
	if err != nil {
		log.Fatal(err)
	}
	if user.reg, err = client.Registration.Register(ctx, registration.RegisterOptions{TermsOfServiceAgreed: true}); err != nil {
		log.Fatal(err)
	}

	p, err := legov5provider.NewDNSProvider()
	if err != nil {
		log.Fatal(err)
	}
	if err := client.Challenge.SetDNS01Provider(p); err != nil {
		log.Fatal(err)
	}

	cert, err := client.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{"example.com", "*.example.com"}, KeyType: certcrypto.EC256, Bundle: true})
	if err != nil {
		log.Fatal(err)
	}
	os.WriteFile("example.com.crt", cert.Certificate, 0o644)
	os.WriteFile("example.com.key", cert.PrivateKey, 0o600)
}
