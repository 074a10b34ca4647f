package localstack

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"

	"github.com/go-acme/lego/v4/lego"
	"github.com/go-acme/lego/v4/registration"
)

// LegoClient returns a lego v4 client of a new ACME account registered at
// the stack's Pebble (the stack must run with CA). httpClient reaches
// Pebble; nil means one that trusts Pebble's HTTPS root. The caller sets
// the DNS-01 provider.
func (s *Stack) LegoClient(httpClient *http.Client) (*lego.Client, error) {
	if s.CA == nil {
		return nil, fmt.Errorf("localstack: LegoClient needs a stack started with CA")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if httpClient == nil {
		roots := x509.NewCertPool()
		roots.AppendCertsFromPEM(s.CA.TLSRootsPEM())
		httpClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	}
	u := &legoUser{key: key}
	cfg := lego.NewConfig(u)
	cfg.CADirURL = s.CA.DirectoryURL
	cfg.HTTPClient = httpClient
	client, err := lego.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("localstack: lego client: %w", err)
	}
	if u.reg, err = client.Registration.Register(registration.RegisterOptions{TermsOfServiceAgreed: true}); err != nil {
		return nil, fmt.Errorf("localstack: registering an ACME account: %w", err)
	}
	return client, nil
}

// legoUser is the ACME account lego's client acts for.
type legoUser struct {
	key crypto.PrivateKey
	reg *registration.Resource
}

func (u *legoUser) GetEmail() string                        { return "" }
func (u *legoUser) GetRegistration() *registration.Resource { return u.reg }
func (u *legoUser) GetPrivateKey() crypto.PrivateKey        { return u.key }
