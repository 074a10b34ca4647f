package legoprovider

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/certificate"
	"github.com/go-acme/lego/v4/challenge/dns01"
	"github.com/go-acme/lego/v4/lego"
	"github.com/go-acme/lego/v4/registration"

	"github.com/acme-dns-hook/acme-dns-hook/internal/localstack"
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

	p, err := NewDNSProviderConfig(&Config{Records: &mijnhost.Provider{APIKey: localstack.APIKey, APIURL: stack.MijnHost.URL}, TTL: 60, PollingInterval: 200 * time.Millisecond})
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
			before := stack.MijnHost.Records(localstack.Zone)
			stack.MijnHost.ResetCounts()
			res, err := client.Certificate.Obtain(certificate.ObtainRequest{Domains: names, Bundle: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := stack.CA.VerifyChain(res.Certificate, names); err != nil {
				t.Fatal(err)
			}
			if after := stack.MijnHost.Records(localstack.Zone); !slices.Equal(before, after) {
				t.Errorf("zone changed:\nbefore %+v\nafter  %+v", before, after)
			}
			t.Logf("%s: API requests %v", strings.Join(names, ","), stack.MijnHost.Requests())
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(*testing.T, *DNSProvider)
	}{
		{"lego's variable names", map[string]string{"MIJNHOST_API_KEY": "k-1234", "MIJNHOST_TTL": "300", "MIJNHOST_PROPAGATION_TIMEOUT": "90", "MIJNHOST_POLLING_INTERVAL": "5"}, "",
			func(t *testing.T, p *DNSProvider) {
				if to, iv := p.Timeout(); to.Seconds() != 90 || iv.Seconds() != 5 || p.cfg.TTL != 300 {
					t.Errorf("timeout %v interval %v ttl %d", to, iv, p.cfg.TTL)
				}
			}},
		{"defaults", map[string]string{"MIJNHOST_API_KEY": "k-1234"}, "",
			func(t *testing.T, p *DNSProvider) {
				if to, iv := p.Timeout(); to != dns01.DefaultPropagationTimeout || iv != dns01.DefaultPollingInterval || p.cfg.TTL != dns01.DefaultTTL {
					t.Errorf("timeout %v interval %v ttl %d", to, iv, p.cfg.TTL)
				}
			}},
		{"no provider", map[string]string{}, "no provider selected", nil},
		{"missing key", map[string]string{"ACME_HOOK_PROVIDER": "mijnhost"}, "MIJNHOST_API_KEY is not set", nil},
		{"duration with unit", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_PROPAGATION_TIMEOUT": "60s"}, `MIJNHOST_PROPAGATION_TIMEOUT="60s" is invalid`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := fromEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, p)
		})
	}
	if _, err := NewDNSProviderConfig(&Config{}); err == nil || !strings.Contains(err.Error(), "Config.Records is nil") {
		t.Errorf("empty config: %v", err)
	}
}
