package lego

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
	"github.com/acme-dns-hook/acme-dns-hook/legoprovider"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certificate"
	"github.com/go-acme/lego/v4/challenge/dns01"
	"github.com/go-acme/lego/v4/lego"
	"github.com/go-acme/lego/v4/registration"

	"github.com/acme-dns-hook/acme-dns-hook/e2e/localstack"
	"github.com/acme-dns-hook/acme-dns-hook/libdns/mijnhost"
)

type user struct {
	key crypto.PrivateKey
	reg *registration.Resource
}

func (u *user) GetEmail() string                        { return "" }
func (u *user) GetRegistration() *registration.Resource { return u.reg }
func (u *user) GetPrivateKey() crypto.PrivateKey        { return u.key }

func TestObtainCertificates(t *testing.T) {
	stack, err := localstack.Start(localstack.Options{CA: true})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Close()
	t.Setenv("LEGO_DISABLE_CNAME_SUPPORT", "true") // lego would ask the system resolver otherwise

	p, err := legoprovider.NewDNSProviderConfig(&legoprovider.Config{Records: &mijnhost.Provider{APIKey: mijnhosttest.SeedKey, APIURL: stack.Fake.(*mijnhosttest.Server).URL}, TTL: 60, PollingInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := any(p).(interface{ Sequential() }); ok {
		t.Fatal("the provider must not be sequential")
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	u := &user{key: key}
	cfg := lego.NewConfig(u)
	cfg.CADirURL = stack.CA.DirectoryURL
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(stack.CA.TLSRootsPEM())
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	client, err := lego.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if u.reg, err = client.Registration.Register(registration.RegisterOptions{TermsOfServiceAgreed: true}); err != nil {
		t.Fatal(err)
	}
	err = client.Challenge.SetDNS01Provider(p,
		dns01.AddRecursiveNameservers([]string{stack.DNS.Addr()}),
		dns01.DisableAuthoritativeNssPropagationRequirement())
	if err != nil {
		t.Fatal(err)
	}

	ten := []string{"example.test"}
	for i := 1; i < 10; i++ {
		ten = append(ten, fmt.Sprintf("host%d.example.test", i))
	}
	for _, names := range [][]string{{"*.example.test", "example.test"}, ten} {
		t.Run(fmt.Sprint(len(names), " names"), func(t *testing.T) {
			before := stack.Fake.(*mijnhosttest.Server).Records(localstack.Zone)
			stack.Fake.(*mijnhosttest.Server).ResetCounts()
			res, err := client.Certificate.Obtain(certificate.ObtainRequest{Domains: names, Bundle: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := stack.CA.VerifyChain(res.Certificate, names); err != nil {
				t.Fatal(err)
			}
			if after := stack.Fake.(*mijnhosttest.Server).Records(localstack.Zone); !slices.Equal(before, after) {
				t.Errorf("zone changed:\nbefore %+v\nafter  %+v", before, after)
			}
			t.Logf("%s: API requests %v", strings.Join(names, ","), stack.Fake.(*mijnhosttest.Server).Requests())
		})
	}
}
