// Package pebbletest runs a real Pebble ACME CA (github.com/letsencrypt/pebble/v2)
// inside the current process, for end-to-end tests that issue real
// certificates through DNS-01 validation against a DNS server on loopback.
//
// Start binds the ACME API and Pebble's management API to free ports on
// 127.0.0.1, serves both over HTTPS with a certificate (SANs 127.0.0.1, ::1,
// localhost) from a throwaway CA generated in memory, and points Pebble's
// validation authority at Options.DNSServer. Pebble's VA queries that server
// over TCP only, three times concurrently per challenge, and all three
// queries must return the expected TXT value; the server should also
// answer over UDP because ACME clients (lego, certmagic) poll it with UDP.
//
// Two different CAs are involved:
//
//   - TLSRootsPEM / TLSRootsFile: the CA of the ACME server's own HTTPS
//     certificate. ACME clients must trust it to talk to Pebble
//     (lego: LEGO_CA_CERTIFICATES; certbot: REQUESTS_CA_BUNDLE;
//     dehydrated: CURL_OPTS="--cacert FILE"; Go: an x509.CertPool).
//   - IssuerRootsPEM: the root(s) that sign issued certificates. Pebble
//     generates them anew at every Start; VerifyChain checks against them.
//
// Start changes the process environment: it sets PEBBLE_VA_NOSLEEP=1,
// PEBBLE_WFE_NONCEREJECT=0, PEBBLE_AUTHZREUSE=0 and PEBBLE_VA_ALWAYS_VALID=0
// with os.Setenv (Pebble reads them inside va.New and wfe.New), so that every
// validation really happens, without random delays or injected badNonce
// errors. Even with PEBBLE_AUTHZREUSE=0 Pebble reuses a valid authorization
// of the same account about 1% of the time; use a fresh ACME account per
// test when a test must observe a validation.
//
// Pebble's VA starts a goroutine that never stops; Close stops the HTTP
// servers and removes the temporary files, which is enough for tests.
package pebbletest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
)

// Options configures Start.
type Options struct {
	// DNSServer is the host:port Pebble's VA sends its DNS-01 TXT queries
	// to (over TCP), e.g. "127.0.0.1:5353". Required.
	DNSServer string

	// Logger receives Pebble's log output. Nil discards it.
	Logger *log.Logger
}

// CA is a running in-process Pebble instance.
type CA struct {
	// DirectoryURL is the ACME directory, https://127.0.0.1:PORT/dir.
	DirectoryURL string
	// ManagementURL is the base URL of Pebble's management API,
	// https://127.0.0.1:PORT (GET /roots/0, /intermediates/0,
	// /cert-status-by-serial/SERIAL, ...), served with the same TLS
	// certificate as the ACME API.
	ManagementURL string

	tlsRootsPEM    []byte
	tlsRootsFile   string
	issuerRootsPEM []byte
	tmpDir         string

	servers   []*http.Server
	closeOnce sync.Once
}

// Start launches Pebble in process. See the package documentation for the
// environment variables it sets.
func Start(opts Options) (*CA, error) {
	if opts.DNSServer == "" {
		return nil, errors.New("pebbletest: Options.DNSServer is required")
	}
	if _, _, err := net.SplitHostPort(opts.DNSServer); err != nil {
		return nil, fmt.Errorf("pebbletest: Options.DNSServer %q: %w", opts.DNSServer, err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}

	for k, v := range map[string]string{
		"PEBBLE_VA_NOSLEEP":      "1",
		"PEBBLE_WFE_NONCEREJECT": "0",
		"PEBBLE_AUTHZREUSE":      "0",
		"PEBBLE_VA_ALWAYS_VALID": "0",
	} {
		if err := os.Setenv(k, v); err != nil {
			return nil, fmt.Errorf("pebbletest: setenv %s: %w", k, err)
		}
	}

	tlsCert, tlsRootPEM, err := newServerTLS()
	if err != nil {
		return nil, fmt.Errorf("pebbletest: generating HTTPS certificate: %w", err)
	}

	store := db.NewMemoryStore()
	certAuth := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{
		"default": {Description: "The default profile"},
	})
	validator := va.New(logger, 0, 0, false, opts.DNSServer, store)
	frontEnd := wfe.New(logger, store, validator, certAuth,
		[]string{"pebble.letsencrypt.org"}, false, false, 0, 0)

	var issuerRoots []byte
	for i := 0; i < certAuth.GetNumberOfRootCerts(); i++ {
		if root := certAuth.GetRootCert(i); root != nil {
			issuerRoots = append(issuerRoots, root.PEM()...)
		}
	}
	if len(issuerRoots) == 0 {
		return nil, errors.New("pebbletest: Pebble CA has no root certificate")
	}

	c := &CA{
		tlsRootsPEM:    tlsRootPEM,
		issuerRootsPEM: issuerRoots,
	}

	c.tmpDir, err = os.MkdirTemp("", "pebbletest-")
	if err != nil {
		return nil, fmt.Errorf("pebbletest: %w", err)
	}
	c.tlsRootsFile = filepath.Join(c.tmpDir, "pebble-https-ca.pem")
	if err := os.WriteFile(c.tlsRootsFile, tlsRootPEM, 0o644); err != nil {
		c.Close()
		return nil, fmt.Errorf("pebbletest: %w", err)
	}

	acmeURL, err := c.serve(frontEnd.Handler(), tlsCert, logger)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.DirectoryURL = acmeURL + wfe.DirectoryPath

	c.ManagementURL, err = c.serve(frontEnd.ManagementHandler(), tlsCert, logger)
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// serve starts an HTTPS server for h on a free port of 127.0.0.1 and returns
// its base URL.
func (c *CA) serve(h http.Handler, cert tls.Certificate, logger *log.Logger) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pebbletest: listen: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          logger,
	}
	c.servers = append(c.servers, srv)
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	return "https://" + ln.Addr().String(), nil
}

// Close stops the HTTPS listeners and removes the temporary files. It is
// safe to call more than once.
func (c *CA) Close() {
	c.closeOnce.Do(func() {
		for _, srv := range c.servers {
			_ = srv.Close()
		}
		if c.tmpDir != "" {
			_ = os.RemoveAll(c.tmpDir)
		}
	})
}

// TLSRootsPEM returns the PEM certificate of the CA that signed the ACME
// server's HTTPS certificate. Clients trust it to talk to Pebble.
func (c *CA) TLSRootsPEM() []byte { return append([]byte(nil), c.tlsRootsPEM...) }

// TLSRootsFile returns the path of a file holding TLSRootsPEM, for
// LEGO_CA_CERTIFICATES, REQUESTS_CA_BUNDLE (certbot) or curl --cacert
// (dehydrated). The file is removed by Close.
func (c *CA) TLSRootsFile() string { return c.tlsRootsFile }

// IssuerRootsPEM returns the root certificate(s) that sign issued
// certificates (Pebble's GetRootCert), freshly generated by Start.
func (c *CA) IssuerRootsPEM() []byte { return append([]byte(nil), c.issuerRootsPEM...) }

// VerifyChain parses certPEM (leaf first, then any intermediates, as ACME
// servers deliver it; non-certificate PEM blocks are ignored) and verifies
// the leaf against IssuerRootsPEM for server authentication under every
// name in names. A wildcard name such as "*.example.test" must be present
// as a SAN literally.
func (c *CA) VerifyChain(certPEM []byte, names []string) error {
	var certs []*x509.Certificate
	rest := certPEM
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fmt.Errorf("pebbletest: certificate %d in chain: %w", len(certs), err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return errors.New("pebbletest: no CERTIFICATE block in PEM input")
	}
	if len(names) == 0 {
		return errors.New("pebbletest: VerifyChain needs at least one name")
	}

	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(c.issuerRootsPEM) {
		return errors.New("pebbletest: cannot parse Pebble issuer roots")
	}
	intermediates := x509.NewCertPool()
	for _, cert := range certs[1:] {
		intermediates.AddCert(cert)
	}
	leaf := certs[0]
	var errs []error
	for _, name := range names {
		_, err := leaf.Verify(x509.VerifyOptions{
			DNSName:       name,
			Roots:         roots,
			Intermediates: intermediates,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("pebbletest: verifying certificate (subject %q, SANs [%s], issuer %q, %d intermediate(s)) for %q: %w",
				leaf.Subject.CommonName, strings.Join(leaf.DNSNames, " "), leaf.Issuer.CommonName, len(certs)-1, name, err))
		}
	}
	return errors.Join(errs...)
}

// newServerTLS creates a throwaway CA and a leaf certificate for 127.0.0.1,
// ::1 and localhost signed by it. It returns the leaf (with chain) and the
// CA certificate as PEM.
func newServerTLS() (tls.Certificate, []byte, error) {
	now := time.Now()

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          randSerial(),
		Subject:               pkix.Name{CommonName: fmt.Sprintf("pebbletest HTTPS CA %x", randSerial().Bytes()[:3])},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls.Certificate{}, nil, err
	}

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: randSerial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}

	cert := tls.Certificate{
		Certificate: [][]byte{leafDER},
		PrivateKey:  leafKey,
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return cert, caPEM, nil
}

func randSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}
