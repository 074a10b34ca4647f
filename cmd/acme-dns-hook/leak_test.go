package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/apitest"
	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
	"github.com/acme-dns-hook/acme-dns-hook/internal/zone"
)

// leaky is a provider whose every write fails with an error that shows its
// key in every form a careless API client could let through: as is,
// JSON-escaped, percent-encoded, in Basic credentials, and cut short. It
// stands for a provider package that forgets to redact, so that the tests
// below see what the binary itself removes, in its error path and in
// serve's replies.
type leaky struct {
	APIKey      string                                                           `json:"api_key,omitempty"`
	HTTPClient  *http.Client                                                     `json:"-"`
	Lock        func(ctx context.Context, key string) (unlock func(), err error) `json:"-"`
	GroupWindow time.Duration                                                    `json:"-"`
	ZoneList    zone.ZoneListStore                                               `json:"-"`
}

var leakyDescriptor = &settings.Descriptor{
	Name: "leakytest", Title: "Leaky (test)", Env: "LEAKYTEST_",
	Settings: []settings.Setting{{Key: "api_key", Secret: true, Required: true, Help: "a key"}},
	New:      func() any { return new(leaky) },
}

func init() { settings.Register(leakyDescriptor) }

// leakyKey has characters that JSON, URLs and HTML escape.
const leakyKey = `Lk3y/"sQ+&<x>=Zp9v7Tq8wX3mR5`

func (p *leaky) fail() error {
	j, _ := json.Marshal(p.APIKey)
	return fmt.Errorf("the API said: invalid key %s; {\"key\":%s}; key=%s; Authorization: Basic %s; key %s…",
		p.APIKey, j, url.QueryEscape(p.APIKey), base64.StdEncoding.EncodeToString([]byte("user:"+p.APIKey)), p.APIKey[:len(p.APIKey)*2/3])
}

func (p *leaky) GetRecords(context.Context, string) ([]libdns.Record, error) { return nil, nil }
func (p *leaky) AppendRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	return nil, p.fail()
}
func (p *leaky) SetRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	return nil, p.fail()
}
func (p *leaky) DeleteRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	return nil, p.fail()
}
func (p *leaky) ListZones(context.Context) ([]libdns.Zone, error) {
	return []libdns.Zone{{Name: "example.test."}}, nil
}

func leakyEnv(t *testing.T, extra ...string) []string {
	return append([]string{"ACME_HOOK_PROVIDER=leakytest", "LEAKYTEST_API_KEY=" + leakyKey, "ACME_HOOK_WAIT=false",
		"ACME_HOOK_FOLLOW_CNAME=false", "ACME_HOOK_LOCK_DIR=" + t.TempDir()}, extra...)
}

const goodValue = "LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ"

// TestErrorPathNeverShowsSecrets: whatever a provider's error holds, the
// one line the binary prints shows no form or piece of a secret.
func TestErrorPathNeverShowsSecrets(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"present", "_acme-challenge.example.test.", goodValue}, envFunc(leakyEnv(t)), &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "the API said") {
		t.Fatalf("exit %d, stderr %q; want exit 1 with the provider's error", code, stderr.String())
	}
	if leaks := apitest.Leaks(stdout.String()+stderr.String(), leakyKey); len(leaks) > 0 {
		t.Errorf("the output shows the key: %q\n%s", leaks, stderr.String())
	}
}

// lineWriter sends each line written to it on a channel.
type lineWriter struct {
	pw *io.PipeWriter
}

func newLineWriter() (*lineWriter, <-chan string) {
	pr, pw := io.Pipe()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return &lineWriter{pw}, lines
}

func (l *lineWriter) Write(p []byte) (int, error) { return l.pw.Write(p) }

// TestServeRepliesNeverShowSecrets runs serve as the binary does and has
// it present through the leaky provider: neither the reply nor serve's log
// shows a form or piece of the provider's key or of serve's password.
func TestServeRepliesNeverShowSecrets(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lw, lines := newLineWriter()
	env := leakyEnv(t, "ACME_HOOK_SERVE_USERNAME="+serveUser, "ACME_HOOK_SERVE_PASSWORD="+servePass)
	done := make(chan int)
	go func() { done <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}, envFunc(env), io.Discard, lw) }()
	var base string
	for base == "" {
		select {
		case l := <-lines:
			if _, addr, ok := strings.Cut(l, " on http://"); ok {
				base = "http://" + addr
			}
		case code := <-done:
			t.Fatalf("serve exited %d before serving", code)
		}
	}
	req, _ := http.NewRequest("POST", base+"/present", strings.NewReader(`{"fqdn":"_acme-challenge.example.test.","value":"`+goodValue+`"}`))
	req.SetBasicAuth(serveUser, servePass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	logLine := <-lines
	cancel()
	<-done
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "the API said") {
		t.Fatalf("reply %d %s; want 502 with the provider's error", resp.StatusCode, body)
	}
	if leaks := apitest.Leaks(string(body)+"\n"+logLine, leakyKey, servePass); len(leaks) > 0 {
		t.Errorf("reply or log shows a secret: %q\nreply: %s\nlog: %s", leaks, body, logLine)
	}
}
