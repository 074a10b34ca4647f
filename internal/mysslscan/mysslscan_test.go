package mysslscan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/myssl"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/myssl/myssltest"
	_ "github.com/acme-dns-hook/acme-dns-hook/internal/providers" // registers the DNS providers
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

const key = "myssl_k_scan-test-51be"

func envOf(kv map[string]string) settings.Env {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func TestFromEnv(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte(key+"\n"), 0o600)
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{"key only", map[string]string{"MYSSL_API_KEY": key}, Config{APIKey: key}, ""},
		{"everything, key from a file", map[string]string{"MYSSL_API_KEY_FILE": keyFile, "MYSSL_API_URL": "http://127.0.0.1:9/api/v1/", "MYSSL_MIN_GRADE": "a+",
			"MYSSL_WAIT": "30", "MYSSL_SCAN_TYPE": "FULL", "MYSSL_MONITOR": "yes"},
			Config{APIKey: key, APIURL: "http://127.0.0.1:9/api/v1/", MinGrade: "A+", Wait: 30, ScanType: "full", Monitor: true}, ""},
		{"no key", map[string]string{"MYSSL_MIN_GRADE": "A"}, Config{}, "MYSSL_API_KEY is not set: set it (or MYSSL_API_KEY_FILE) to an API key from MySSL"},
		{"not a MySSL key", map[string]string{"MYSSL_API_KEY": "sk-0123456789"}, Config{}, "MYSSL_API_KEY is invalid: MySSL API keys start with myssl_k_"},
		{"bad grade", map[string]string{"MYSSL_API_KEY": key, "MYSSL_MIN_GRADE": "A-"}, Config{}, `MYSSL_MIN_GRADE="A-" is invalid: use A+ or A or B or C or D or F`},
		{"bad wait", map[string]string{"MYSSL_API_KEY": key, "MYSSL_WAIT": "2h"}, Config{}, `MYSSL_WAIT="2h" is invalid`},
		{"bad URL", map[string]string{"MYSSL_API_KEY": key, "MYSSL_API_URL": "myssl.info"}, Config{}, `MYSSL_API_URL="myssl.info" is invalid`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnv(envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "sk-0123456789") {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || *c != tt.want {
				t.Fatalf("FromEnv = %+v, %v; want %+v", c, err, tt.want)
			}
		})
	}
	if !InEnv(envOf(map[string]string{"MYSSL_API_KEY_FILE": keyFile})) || InEnv(envOf(map[string]string{"MYSSL_MIN_GRADE": "A"})) {
		t.Error("InEnv")
	}
	if s := Secrets(envOf(map[string]string{"MYSSL_API_KEY": key, "MYSSL_API_URL": "http://x/"})); !slices.Equal(s, []string{key}) {
		t.Errorf("Secrets = %q", s)
	}
	for _, c := range []struct {
		c    Config
		want time.Duration
	}{{Config{}, 0}, {Config{MinGrade: "B"}, DefaultWait}, {Config{Wait: 5, MinGrade: "B"}, 5 * time.Second}} {
		if got := c.c.WaitBudget(); got != c.want {
			t.Errorf("%+v: WaitBudget %v, want %v", c.c, got, c.want)
		}
	}
}

// TestNotADNSProvider checks that MySSL stays out of the DNS providers'
// registry while its help and table come from its descriptor.
func TestNotADNSProvider(t *testing.T) {
	if len(settings.All()) == 0 {
		t.Fatal("no DNS provider registered: the test sees nothing")
	}
	for _, d := range settings.All() {
		if d == Descriptor || d.Name == "myssl" {
			t.Fatalf("MySSL is registered as a DNS provider")
		}
	}
	for _, want := range []string{"MYSSL_API_KEY", "MYSSL_API_URL", "MYSSL_MIN_GRADE", "MYSSL_WAIT", "MYSSL_SCAN_TYPE", "MYSSL_MONITOR"} {
		if !strings.Contains(Help(), want) || !strings.Contains(Table(), "`"+want+"`") {
			t.Errorf("help or table lacks %s", want)
		}
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{"Example.COM", "example.com:443", ""},
		{"example.com.", "example.com:443", ""},
		{"www.example.com:8443", "www.example.com:8443", ""},
		{"example.com:0", "", "port must be a number from 1 to 65535"},
		{"example.com:https", "", "port must be a number"},
		{"*.example.com", "", "wildcard name"},
		{"exa mple.com", "", "not a DNS name"},
		{"", "", "not a DNS name"},
		{"bücher.example", "xn--bcher-kva.example:443", ""},
	}
	for _, tt := range tests {
		got, err := ParseTarget(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseTarget(%q) = %v, %v; want %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("ParseTarget(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	targets, skipped := Targets([]string{"example.com", "*.example.com", "WWW.example.com", "example.com", " "})
	if len(targets) != 2 || targets[0].String() != "example.com:443" || targets[1].String() != "www.example.com:443" || len(skipped) != 1 {
		t.Errorf("Targets = %v, skipped %q", targets, skipped)
	}
}

func TestCertificateNames(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{"example.test", "*.example.test", "www.example.test"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "fullchain.pem")
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("x")})
	os.WriteFile(f, append(keyPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...), 0o600)
	names, err := CertificateNames(f)
	if err != nil || !slices.Equal(names, tmpl.DNSNames) {
		t.Errorf("CertificateNames = %v, %v", names, err)
	}
	if _, err := CertificateNames(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("no error for a missing file")
	}
}

// world is a fake MySSL and a scanner on it that polls at once.
type world struct {
	fake *myssltest.Server
	s    *Scanner
	mu   sync.Mutex
	logs []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	f := myssltest.NewServer()
	t.Cleanup(f.Close)
	f.AddKey(key)
	f.SetPlan(myssltest.Business) // polling at once would exceed the Free plan's 10 a minute
	c, err := myssl.New(key, myssl.Options{BaseURL: f.URL, Retry: api.Retry{Attempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Second, MaxTotal: 2 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{fake: f}
	w.s = &Scanner{Client: c, Interval: time.Millisecond, Wait: time.Minute, Log: func(l string) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.logs = append(w.logs, l)
	}}
	return w
}

func (w *world) log() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.logs, "\n")
}

func targets(t *testing.T, names ...string) []Target {
	t.Helper()
	var out []Target
	for _, n := range names {
		tg, err := ParseTarget(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tg)
	}
	return out
}

var expiry = time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)

func TestScanWithStatusPath(t *testing.T) {
	w := newWorld(t)
	w.fake.SetPlan(myssltest.Plan{Name: "one at a time", PerMinute: 1000, Daily: 1000, Concurrent: 1})
	w.fake.SetScanStatus(true)
	w.fake.SetAutoFinish(2)
	w.fake.SetResult("a.example.com", myssltest.Result{Grade: "A+", Score: 100, Expiry: expiry, Issuer: "R3"})
	w.fake.SetResult("b.example.com", myssltest.Result{Grade: "C", Score: 60, Expiry: expiry, Issuer: "R3"})
	rs := w.s.Scan(context.Background(), targets(t, "a.example.com", "b.example.com:8443"))
	if len(rs) != 2 {
		t.Fatalf("%d results", len(rs))
	}
	if got, want := rs[0].Line(), `a.example.com:443 grade=A+ score=100 expires=2030-06-15T12:00:00Z issuer="R3" source=scan-status scan=12345`; got != want {
		t.Errorf("line\n%s\nwant\n%s", got, want)
	}
	if got, want := rs[1].Line(), `b.example.com:8443 grade=C score=60 expires=2030-06-15T12:00:00Z issuer="R3" source=scan-status scan=12346`; got != want {
		t.Errorf("line\n%s\nwant\n%s", got, want)
	}
	if err := rs[0].Check("A"); err != nil {
		t.Errorf("A+ against A: %v", err)
	}
	if err := rs[1].Check("B"); err == nil || !strings.Contains(err.Error(), "b.example.com:8443: graded C, below the minimum B") {
		t.Errorf("C against B: %v", err)
	}
	// One scan at a time: the second started after the first was read finished.
	if w.fake.MaxRunning() != 1 || w.fake.CountStatus(429) != 0 || len(w.fake.Scans()) != 2 {
		t.Errorf("max %d running, %d refused, %d scans", w.fake.MaxRunning(), w.fake.CountStatus(429), len(w.fake.Scans()))
	}
}

func TestScanFromDomainListing(t *testing.T) {
	w := newWorld(t)
	w.fake.SetAutoFinish(1)
	old := myssltest.Result{Grade: "F", Score: 10, Expiry: time.Now().Add(-time.Hour), Issuer: "Old CA"}
	w.fake.AddScannedDomain("example.com", 443, old, time.Now().Add(-24*time.Hour))
	w.fake.AddDomain("www.example.com", 443) // never scanned
	w.fake.SetResult("example.com", myssltest.Result{Grade: "A", Score: 92, Expiry: expiry, Issuer: "Pebble Intermediate"})
	w.fake.SetResult("www.example.com", myssltest.Result{Grade: "B", Score: 80, Expiry: expiry, Issuer: "Pebble Intermediate"})
	rs := w.s.Scan(context.Background(), targets(t, "example.com", "www.example.com"))
	for i, want := range []string{
		`example.com:443 grade=A score=92 expires=2030-06-15T12:00:00Z issuer="Pebble Intermediate" source=domain-listing scan=12345`,
		`www.example.com:443 grade=B score=80 expires=2030-06-15T12:00:00Z issuer="Pebble Intermediate" source=domain-listing scan=12346`,
	} {
		if got := rs[i].Line(); got != want {
			t.Errorf("line\n%s\nwant\n%s", got, want)
		}
	}
	if n := w.fake.Count(myssltest.EndpointGetScan); n != 1 {
		t.Errorf("%d reads of the missing status path, want 1 (then the listing only)", n)
	}
	if !strings.Contains(w.log(), "MySSL has no scan-status path (GET /api/v1/scans/{id} answered 404)") {
		t.Errorf("the switch of source is not logged:\n%s", w.log())
	}
	// Scans of monitored domains go by their id.
	if sc := w.fake.Scans(); sc[0].DomainID == "" || sc[1].DomainID == "" {
		t.Errorf("scans %+v", sc)
	}
}

func TestScanUnreadable(t *testing.T) {
	w := newWorld(t)
	rs := w.s.Scan(context.Background(), targets(t, "a.example.com", "b.example.com"))
	if rs[0].ScanID == "" || rs[0].Finished || rs[0].Err == nil || !strings.Contains(rs[0].Err.Error(), "not among the monitored domains") {
		t.Errorf("first: %+v", rs[0])
	}
	// Its end cannot be seen, so the second does not start (one at a time).
	if rs[1].ScanID != "" || rs[1].Err == nil || !strings.Contains(rs[1].Err.Error(), "not scanned: an earlier scan was not seen to finish") {
		t.Errorf("second: %+v", rs[1])
	}
	if n := len(w.fake.Scans()); n != 1 {
		t.Errorf("%d scans, want 1", n)
	}
	if err := rs[0].Check(""); err == nil {
		t.Error("an unreadable result passes without a minimum grade")
	}
	// With two at once allowed, both start.
	w = newWorld(t)
	w.fake.SetPlan(myssltest.Pro)
	w.s.Parallel = 2
	rs = w.s.Scan(context.Background(), targets(t, "a.example.com", "b.example.com"))
	if rs[1].ScanID == "" || len(w.fake.Scans()) != 2 {
		t.Errorf("parallel 2: %+v", rs)
	}
}

func TestScanMonitor(t *testing.T) {
	for _, on := range []bool{true, false} {
		w := newWorld(t)
		w.s.Monitor = true
		w.fake.SetCreateDomain(on)
		rs := w.s.Scan(context.Background(), targets(t, "new.example.com"))
		if on {
			if rs[0].Err != nil || rs[0].Source != SourceDomains || rs[0].Grade != myssltest.DefaultResult.Grade || !slices.Equal(w.fake.Monitored(), []string{"new.example.com:443"}) {
				t.Errorf("create on: %+v, monitored %v", rs[0], w.fake.Monitored())
			}
			continue
		}
		if !strings.Contains(w.log(), "new.example.com:443: not added to the monitored domains: POST /api/v1/domains answered 404") ||
			rs[0].ScanID == "" || w.fake.Scans()[0].Hostname != "new.example.com" {
			t.Errorf("create off: %+v\n%s", rs[0], w.log())
		}
	}
}

func TestScanNoWait(t *testing.T) {
	w := newWorld(t)
	w.fake.SetScanStatus(true)
	w.s.Wait = 0
	rs := w.s.Scan(context.Background(), targets(t, "example.com"))
	if rs[0].Finished || rs[0].Err != nil || rs[0].Line() != "example.com:443 scan=12345 status=pending (result not waited for)" {
		t.Errorf("%+v: %s", rs[0], rs[0].Line())
	}
	if n := w.fake.Count(myssltest.EndpointGetScan); n != 0 {
		t.Errorf("%d reads of a result not waited for", n)
	}
	if err := rs[0].Check(""); err != nil {
		t.Errorf("Check without a minimum: %v", err)
	}
	if err := rs[0].Check("A"); err == nil || !strings.Contains(err.Error(), "no grade could be read, and at least A is required") {
		t.Errorf("Check with a minimum: %v", err)
	}
}

func TestScanFailures(t *testing.T) {
	t.Run("failed scan", func(t *testing.T) {
		w := newWorld(t)
		w.fake.SetScanStatus(true)
		w.fake.SetResult("down.example.com", myssltest.Result{Fail: "connection refused"})
		rs := w.s.Scan(context.Background(), targets(t, "down.example.com", "up.example.com"))
		if rs[0].Err == nil || !strings.Contains(rs[0].Err.Error(), "scan 12345 failed: connection refused") || !rs[0].Finished {
			t.Errorf("%+v", rs[0])
		}
		if rs[1].Err != nil || rs[1].Grade == "" {
			t.Errorf("the next scan: %+v", rs[1])
		}
	})
	t.Run("still pending at the end of the wait", func(t *testing.T) {
		w := newWorld(t)
		w.fake.SetScanStatus(true)
		w.fake.SetAutoFinish(-1)
		ctx, cancel := context.WithCancel(context.Background())
		w.s.Log = func(l string) {
			if strings.Contains(l, "started") {
				cancel() // the wait ends once the scan started
			}
		}
		rs := w.s.Scan(ctx, targets(t, "slow.example.com"))
		if rs[0].Err == nil || !strings.Contains(rs[0].Err.Error(), "stopped waiting (context canceled): scan 12345 is still pending") {
			t.Errorf("%+v", rs[0])
		}
	})
	t.Run("daily limit", func(t *testing.T) {
		w := newWorld(t)
		w.fake.FailNext(1, myssltest.FaultDailyLimit)
		rs := w.s.Scan(context.Background(), targets(t, "example.com"))
		if !errors.Is(rs[0].Err, myssl.ErrDailyLimit) || !strings.Contains(rs[0].Line(), "midnight UTC") {
			t.Errorf("%s", rs[0].Line())
		}
	})
	t.Run("revoked key", func(t *testing.T) {
		w := newWorld(t)
		w.fake.RevokeKey(key)
		rs := w.s.Scan(context.Background(), targets(t, "example.com"))
		if line := rs[0].Line(); !strings.Contains(line, "HTTP 401: Invalid API key") || strings.Contains(line, key) || len(w.fake.Scans()) != 0 {
			t.Errorf("%s", line)
		}
	})
}

func TestFresh(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	accepted := t0.Add(500 * time.Millisecond) // MySSL's times are whole seconds
	tests := []struct {
		last, before time.Time
		want         bool
	}{
		{t0, time.Time{}, true},                           // first scan, in the second it started
		{t0.Add(time.Minute), t0.Add(-time.Hour), true},   // newer than the last one
		{time.Time{}, time.Time{}, false},                 // never scanned
		{t0.Add(-time.Second), time.Time{}, false},        // older than this scan
		{t0.Add(time.Minute), t0.Add(time.Minute), false}, // the one seen before it started
	}
	for _, tt := range tests {
		if got := fresh(tt.last, tt.before, accepted); got != tt.want {
			t.Errorf("fresh(%v, %v) = %v", tt.last, tt.before, got)
		}
	}
}

func TestLineQuotesServerText(t *testing.T) {
	r := Result{Target: Target{"example.com", 443}, Finished: true, Grade: "A\x1b[2J", Issuer: "Evil\nCA", ScanID: "1 2"}
	if l := r.Line(); strings.ContainsAny(l, "\x1b\n") || !strings.Contains(l, `grade="A\x1b[2J"`) || !strings.Contains(l, `scan="1 2"`) {
		t.Errorf("line shows server text raw: %q", l)
	}
	if err := r.Check("B"); err == nil || !strings.Contains(err.Error(), "cannot be compared") {
		t.Errorf("Check: %v", err)
	}
}
