package xynta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/xynta/xyntatest"
)

const (
	uid  = "uid-40917"
	hash = "hash-f00dfacecafe1234"
)

var fastRetry = api.Retry{Attempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

var exampleNL = Domain{Name: "example.nl", Domain: "example", Tld: "nl"}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fakeClient(t *testing.T) (*Client, *xyntatest.Server) {
	t.Helper()
	fake := xyntatest.NewServer()
	t.Cleanup(fake.Close)
	fake.AddCredentials(uid, hash)
	var recs []json.RawMessage
	if err := json.Unmarshal(fixture(t, "example.nl.json"), &recs); err != nil {
		t.Fatal(err)
	}
	fake.AddDomain("example.nl", recs...)
	fake.AddDomain("example.co.uk", xyntatest.Record{Name: "@", Type: "A", Value: "192.0.2.1", TTL: 300}.JSON())
	c, err := New(uid, hash, Options{BaseURL: fake.URL, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

// canned serves body with code to every request and records the last one.
func canned(t *testing.T, code int, body string) (*Client, *http.Request, *[]byte) {
	t.Helper()
	var last http.Request
	var lastBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last = *r
		lastBody, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := New(uid, hash, Options{BaseURL: srv.URL + "/", Retry: api.Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c, &last, &lastBody
}

func TestRequestShape(t *testing.T) {
	const ok = `{"0":{"status":"success","results":[{"dns_zone":{"records":[]}}]}}`
	kept := json.RawMessage(`{"name":"@", "type":"A","value":"192.0.2.10","ttl":3600,"id":4711}`)
	tests := []struct {
		name string
		call func(*Client) error
		want url.Values
	}{
		{"list", func(c *Client) error { _, err := c.Domains(context.Background()); return err },
			url.Values{"a": {"list"}}},
		{"show-dns-zone", func(c *Client) error {
			_, err := c.ShowDNSZone(context.Background(), Domain{Name: "example.co.uk", Domain: "example", Tld: "co.uk"})
			return err
		}, url.Values{"a": {"show-dns-zone"}, "Domain": {"example"}, "Tld": {"co.uk"}}},
		{"edit-dns-zone", func(c *Client) error {
			return c.EditDNSZone(context.Background(), exampleNL, []json.RawMessage{kept, EncodeRecord(Record{Name: "_acme-challenge", Type: "TXT", Value: "a&b<c>", TTL: 120})})
		}, url.Values{"a": {"edit-dns-zone"}, "Domain": {"example"}, "Tld": {"nl"},
			// The kept record goes out byte for byte (its space included), the new one unescaped.
			"DNSZone": {`{"records":[{"name":"@", "type":"A","value":"192.0.2.10","ttl":3600,"id":4711},{"name":"_acme-challenge","type":"TXT","value":"a&b<c>","ttl":120}]}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			answer := ok
			if tt.name == "list" {
				answer = `{"0":{"status":"success","results":[]}}`
			}
			c, last, body := canned(t, 200, answer)
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			if last.Method != http.MethodPost || last.URL.Path != "/" || last.URL.RawQuery != "" {
				t.Errorf("request %s %s", last.Method, last.URL)
			}
			if ct := last.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type %q", ct)
			}
			got, err := url.ParseQuery(string(*body))
			if err != nil {
				t.Fatal(err)
			}
			want := url.Values{"uid": {uid}, "hash": {hash}, "m": {"domains"}, "t": {""}, "test": {""}}
			for k, v := range tt.want {
				want[k] = v
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("form\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestAgainstTheFake(t *testing.T) {
	c, fake := fakeClient(t)
	ctx := context.Background()
	ds, err := c.Domains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Domain{{Name: "example.co.uk", Domain: "example", Tld: "co.uk"}, exampleNL}
	if !reflect.DeepEqual(ds, want) {
		t.Fatalf("Domains = %+v", ds)
	}
	d, ok := SplitName("_acme-challenge.www.example.co.uk.", ds)
	if !ok || d != want[0] {
		t.Fatalf("SplitName = %+v, %v", d, ok)
	}
	recs, err := c.ShowDNSZone(ctx, d)
	if err != nil || len(recs) != 1 || recs[0].Record != (Record{Name: "@", Type: "A", Value: "192.0.2.1", TTL: 300}) {
		t.Fatalf("ShowDNSZone = %+v, %v", recs, err)
	}

	recs, err = c.ShowDNSZone(ctx, exampleNL)
	if err != nil {
		t.Fatal(err)
	}
	if recs[2].Record != (Record{Name: "@", Type: "MX", Value: "10 mail.example.nl.", TTL: 3600}) || string(recs[2].Raw) != `{"name":"@","type":"MX","value":"10 mail.example.nl.","ttl":3600,"id":4711}` {
		t.Fatalf("MX read as %+v %s", recs[2].Record, recs[2].Raw)
	}
	raws := []json.RawMessage{}
	for _, r := range recs {
		raws = append(raws, r.Raw)
	}
	raws = append(raws, EncodeRecord(Record{Name: "_acme-challenge", Type: "TXT", Value: "token", TTL: 120}))
	if err := c.EditDNSZone(ctx, exampleNL, raws); err != nil {
		t.Fatal(err)
	}
	stored := fake.Records("example.nl")
	if len(stored) != len(raws) {
		t.Fatalf("stored %d records, want %d", len(stored), len(raws))
	}
	for i := range raws {
		if !bytes.Equal(stored[i], raws[i]) {
			t.Errorf("record %d stored as %s, sent %s", i, stored[i], raws[i])
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(*xyntatest.Server)
		call      func(*Client) error
		wantIs    error
		wantTexts []string
		wantEdits int // edit-dns-zone requests that reached the fake
	}{
		{"domain not in the account", nil,
			func(c *Client) error {
				_, err := c.ShowDNSZone(context.Background(), Domain{Name: "example.org", Domain: "example", Tld: "org"})
				return err
			}, nil, []string{`a=show-dns-zone example.org: status "not-found-domain"`}, 0},
		{"not authorized from IPv4", func(f *xyntatest.Server) { f.AddCredentials(uid, "another-hash-0000") },
			func(c *Client) error { _, err := c.Domains(context.Background()); return err },
			ErrNotAuthorized, []string{`status "not-authorized"`, "bound to one whitelisted IP address", "IPv4", "connects over IPv4 only"}, 0},
		{"server error after retries", func(f *xyntatest.Server) { f.FailNext(10, xyntatest.FaultServerError) },
			func(c *Client) error { _, err := c.Domains(context.Background()); return err },
			nil, []string{"a=list: POST /: HTTP 500", `status "error"`, "(after 3 tries)"}, 0},
		{"empty zone never sent", nil,
			func(c *Client) error { return c.EditDNSZone(context.Background(), exampleNL, nil) },
			ErrEmptyZone, []string{"a=edit-dns-zone example.nl: refusing to send an empty DNS zone"}, 0},
		{"record that is not an object never sent", nil,
			func(c *Client) error {
				return c.EditDNSZone(context.Background(), exampleNL, []json.RawMessage{json.RawMessage(`"x"`)})
			}, nil, []string{"record 0 is not a JSON object"}, 0},
		{"zone refused by the fake", nil,
			func(c *Client) error {
				return c.EditDNSZone(context.Background(), exampleNL, []json.RawMessage{json.RawMessage(`{"name":"www.example.nl.","type":"A","value":"192.0.2.1","ttl":60}`)})
			}, nil, []string{`status "invalid-dns-zone"`, "fully qualified"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, fake := fakeClient(t)
			if tt.setup != nil {
				tt.setup(fake)
			}
			err := tt.call(c)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error is not %v: %v", tt.wantIs, err)
			}
			for _, w := range tt.wantTexts {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if n := fake.Count(xyntatest.EndpointEditZone); n != tt.wantEdits {
				t.Errorf("%d edit-dns-zone requests, want %d", n, tt.wantEdits)
			}
		})
	}
}

func TestTransientFailuresAreRetried(t *testing.T) {
	for _, f := range []xyntatest.Fault{xyntatest.FaultRateLimit, xyntatest.FaultServerError, xyntatest.FaultBadGatewayHTML, xyntatest.FaultDropConnection} {
		t.Run(f.String(), func(t *testing.T) {
			c, fake := fakeClient(t)
			fake.FailNext(2, f)
			err := c.EditDNSZone(context.Background(), exampleNL, []json.RawMessage{xyntatest.Record{Name: "@", Type: "A", Value: "192.0.2.7", TTL: 60}.JSON()})
			if err != nil {
				t.Fatal(err)
			}
			if got := fake.Records("example.nl"); len(got) != 1 {
				t.Fatalf("stored %s", got)
			}
		})
	}
}

// TestTolerantReading covers answers the fake never gives but the reference
// leaves open ([UNKNOWN]).
func TestTolerantReading(t *testing.T) {
	tests := []struct {
		name, body string
		want       []Record // nil with wantErr
		wantErr    string
	}{
		{"reference shape", `{"0":{"status":"success","results":[{"dns_zone":{"records":[{"name":"@","type":"A","value":"192.0.2.10","ttl":3600}]}}]}}`,
			[]Record{{Name: "@", Type: "A", Value: "192.0.2.10", TTL: 3600}}, ""},
		{"top-level array", `[{"status":"success","results":[{"dns_zone":{"records":[{"name":"www","type":"cname","value":"example.nl."}]}}]}]`,
			[]Record{{Name: "www", Type: "CNAME", Value: "example.nl."}}, ""},
		{"results an object", `{"0":{"status":"success","results":{"dns_zone":{"records":[]}}}}`, []Record{}, ""},
		{"results an object keyed by index", `{"0":{"status":"success","results":{"0":{"dns_zone":{"records":[{"name":"@","type":"A","value":"192.0.2.1","ttl":1}]}}}}}`,
			[]Record{{Name: "@", Type: "A", Value: "192.0.2.1", TTL: 1}}, ""},
		{"dns_zone a JSON string", `{"0":{"status":"success","results":[{"dns_zone":"{\"records\":[{\"name\":\"@\",\"type\":\"TXT\",\"value\":\"v\",\"ttl\":\"60\"}]}"}]}}`,
			[]Record{{Name: "@", Type: "TXT", Value: "v", TTL: 60}}, ""},
		{"capitalised keys, numeric value", `{"0":{"status":"Success","results":[{"dns_zone":{"records":[{"Name":"@","Type":"MX","Value":10,"TTL":null}]}}]}}`,
			[]Record{{Name: "@", Type: "MX", Value: "10"}}, ""},
		{"no records list", `{"0":{"status":"success","results":[{"dns_zone":{}}]}}`, nil, "dns_zone has no records list"},
		{"records null", `{"0":{"status":"success","results":[{"dns_zone":{"records":null}}]}}`, nil, "dns_zone has no records list"},
		{"no dns_zone", `{"0":{"status":"success","results":[{}]}}`, nil, "results[0] has no dns_zone"},
		{"no results", `{"0":{"status":"success","results":[]}}`, nil, "the answer has no results"},
		{"no element 0", `{"status":"success"}`, nil, "the answer has no status"},
		{"not JSON", `<html>maintenance</html>`, nil, "the answer has no status: <html>maintenance</html>"},
		{"status not success", `{"0":{"status":"not-found-c-something","results":[]}}`, nil, `a=show-dns-zone example.nl: status "not-found-c-something": {"0":`},
		{"record without name", `{"0":{"status":"success","results":[{"dns_zone":{"records":[{"type":"A","value":"192.0.2.1"}]}}]}}`, nil, "record 0: record without name or type"},
		{"record not an object", `{"0":{"status":"success","results":[{"dns_zone":{"records":["@ A 192.0.2.1"]}}]}}`, nil, "record 0: not a JSON object"},
		{"ttl not a number", `{"0":{"status":"success","results":[{"dns_zone":{"records":[{"name":"@","type":"A","value":"192.0.2.1","ttl":"1h"}]}}]}}`, nil, `ttl "1h" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := canned(t, 200, tt.body)
			recs, err := c.ShowDNSZone(context.Background(), exampleNL)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := []Record{}
			for _, r := range recs {
				got = append(got, r.Record)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("records %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTolerantDomainList(t *testing.T) {
	nl := Domain{Name: "example.nl", Domain: "example", Tld: "nl"}
	uk := Domain{Name: "example.co.uk", Domain: "example", Tld: "co.uk"}
	tests := []struct {
		name, results string
		want          []Domain
		wantErr       string
	}{
		{"Domain and Tld", `[{"Domain":"example","Tld":"nl"},{"Domain":"example","Tld":"co.uk","Status":"active"}]`, []Domain{nl, uk}, ""},
		{"lower-case keys, dotted tld", `[{"domain":"Example","tld":".NL"}]`, []Domain{nl}, ""},
		{"Domain is the whole name", `[{"Domain":"example.co.uk","Tld":"co.uk"}]`, []Domain{uk}, ""},
		{"whole names", `["example.nl","example.co.uk."]`, []Domain{nl, uk}, ""},
		{"DomainName field", `[{"Identifier":7,"DomainName":"example.co.uk"}]`, []Domain{uk}, ""},
		{"object keyed by id", `{"12":{"Domain":"example","Tld":"nl"},"13":"example.co.uk"}`, []Domain{nl, uk}, ""},
		{"none", `[]`, []Domain{}, ""},
		{"null", `null`, []Domain{}, ""},
		{"unreadable element", `[{"id":7}]`, nil, "a=list: element 0: no domain name in it"},
		{"split that is no name", `[{"Domain":"example.com","Tld":"nl"}]`, nil, "do not make a domain name"},
		{"name without extension", `["localhost"]`, nil, "not a domain name with an extension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := canned(t, 200, `{"0":{"status":"success","results":`+tt.results+`}}`)
			ds, err := c.Domains(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(ds, tt.want) {
				t.Fatalf("Domains = %+v, %v; want %+v", ds, err, tt.want)
			}
		})
	}
}

func TestNotAuthorizedForms(t *testing.T) {
	tests := []struct {
		name string
		code int
		body string
	}{
		{"status on HTTP 200", 200, `{"0":{"status":"not-authorized","results":[]}}`},
		{"status on HTTP 401", 401, `{"0":{"status":"not-authorized","results":[]}}`},
		{"HTTP 403 without a body", 403, ``},
		{"British spelling", 200, `{"0":{"status":"not-authorised"}}`},
		{"status on HTTP 400", 400, `{"0":{"status":"not-authorized"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := canned(t, tt.code, tt.body)
			_, err := c.Domains(context.Background())
			if !errors.Is(err, ErrNotAuthorized) || !strings.Contains(err.Error(), "IPv4") || !strings.Contains(err.Error(), "bound to one whitelisted IP address") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// TestSecretsNeverShown makes the server echo the request in every way an
// answer could, and checks that neither uid nor hash reaches an error text
// or a log line.
func TestSecretsNeverShown(t *testing.T) {
	tests := []struct {
		name string
		code int
		body func(form string) string
	}{
		{"status error echoing the form", 200, func(f string) string { return `{"0":{"status":"failed","results":[],"request":"` + f + `"}}` }},
		{"not authorized echoing the form", 200, func(f string) string { return `{"0":{"status":"not-authorized","echo":"` + f + `"}}` }},
		{"HTTP 500 echoing the form", 500, func(f string) string { return "error in " + f }},
		{"status echoing the form", 200, func(f string) string { return `{"0":{"status":"bad ` + f + `"}}` }},
		{"HTTP 400 with the envelope", 400, func(f string) string { return `{"0":{"status":"bad ` + f + `"}}` }},
		{"unreadable list element", 200, func(f string) string { return `{"0":{"status":"success","results":[{"x":"` + f + `"}]}}` }},
		{"bad records", 200, func(f string) string {
			return `{"0":{"status":"success","results":[{"dns_zone":{"records":"` + f + `"}}]}}`
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				f, _ := url.ParseQuery(string(b))
				w.WriteHeader(tt.code)
				io.WriteString(w, tt.body(f.Get("uid")+" "+f.Get("hash")+" "+string(b)))
			}))
			defer srv.Close()
			var logs bytes.Buffer
			c, err := New(uid, hash, Options{BaseURL: srv.URL, Retry: fastRetry,
				Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			if err != nil {
				t.Fatal(err)
			}
			for _, call := range []func() error{
				func() error { _, err := c.Domains(context.Background()); return err },
				func() error { _, err := c.ShowDNSZone(context.Background(), exampleNL); return err },
			} {
				err := call()
				if err == nil {
					t.Fatal("no error")
				}
				for _, s := range []string{uid, hash, url.QueryEscape(hash)} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error shows %q: %v", s, err)
					}
					if strings.Contains(logs.String(), s) {
						t.Errorf("log shows %q: %s", s, logs.String())
					}
				}
				if !strings.Contains(err.Error(), "[REDACTED]") {
					t.Errorf("the echo was not shown redacted: %v", err)
				}
			}
		})
	}
}

func TestIPv4Only(t *testing.T) {
	fake := xyntatest.NewServer()
	defer fake.Close()
	fake.AddCredentials(uid, hash)
	fake.AddDomain("example.nl", xyntatest.Record{Name: "@", Type: "A", Value: "192.0.2.1", TTL: 60}.JSON())
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	srv := &http.Server{Handler: fake}
	go srv.Serve(ln)
	defer srv.Close()
	v6 := "http://" + ln.Addr().String() + "/"

	tests := []struct {
		name     string
		base     string
		hc       *http.Client
		wantErr  string
		wantAuth bool
	}{
		{"IPv4 endpoint", fake.URL, nil, "", false},
		{"IPv4 endpoint, caller's client without transport", fake.URL, &http.Client{Timeout: 5 * time.Second}, "", false},
		{"IPv6 endpoint is never dialled", v6, nil, "connecting over IPv4 only (the Xynta hash is bound to an IPv4 address)", false},
		{"IPv6 endpoint, caller's client without transport", v6, &http.Client{Timeout: 5 * time.Second}, "connecting over IPv4 only", false},
		{"IPv6 through the caller's own transport", v6, &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
			"uses a caller-supplied HTTP transport, which must connect over IPv4", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(uid, hash, Options{BaseURL: tt.base, HTTPClient: tt.hc, Retry: api.Retry{Attempts: 1}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Domains(context.Background())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.Is(err, ErrNotAuthorized) != tt.wantAuth {
				t.Fatalf("err = %v, want %q (not authorized: %v)", err, tt.wantErr, tt.wantAuth)
			}
		})
	}
}

func TestIPv4Client(t *testing.T) {
	own := &http.Client{Transport: &http.Transport{}}
	if got, forced := IPv4Client(own); got != own || forced {
		t.Errorf("a client with its own transport was replaced")
	}
	jar := &cookieJar{}
	base := &http.Client{Timeout: 7 * time.Second, Jar: jar}
	got, forced := IPv4Client(base)
	if !forced || got == base || got.Timeout != 7*time.Second || got.Jar != jar || got.Transport == nil || base.Transport != nil {
		t.Errorf("IPv4Client(%+v) = %+v, %v", base, got, forced)
	}
	d := got.Transport.(*http.Transport).DialContext
	for _, network := range []string{"tcp6", "udp"} {
		if _, err := d(context.Background(), network, "127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "only IPv4 is allowed") {
			t.Errorf("dial %s: %v", network, err)
		}
	}
}

type cookieJar struct{}

func (*cookieJar) SetCookies(*url.URL, []*http.Cookie) {}
func (*cookieJar) Cookies(*url.URL) []*http.Cookie     { return nil }

func TestSplit(t *testing.T) {
	account := []Domain{
		{Name: "example.nl", Domain: "example", Tld: "nl"},
		{Name: "example.co.uk", Domain: "example", Tld: "co.uk"},
		{Name: "sub.example.nl", Domain: "sub", Tld: "example.nl"}, // not realistic, but the longest suffix wins
	}
	tests := []struct {
		name string
		want string // Domain/Tld, "" for none
	}{
		{"example.nl", "example/nl"},
		{"_acme-challenge.example.nl.", "example/nl"},
		{"_ACME-Challenge.WWW.Example.Co.UK.", "example/co.uk"},
		{"x.sub.example.nl", "sub/example.nl"},
		{"co.uk", ""},
		{"badexample.nl", ""},
		{"example.org", ""},
	}
	for _, tt := range tests {
		d, ok := SplitName(tt.name, account)
		got := ""
		if ok {
			got = d.Domain + "/" + d.Tld
		}
		if got != tt.want {
			t.Errorf("SplitName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	splits := []struct{ in, want string }{
		{"example.nl", "example/nl"},
		{"Example.CO.UK.", "example/co.uk"},
		{"nl", "error"},
		{".nl", "error"},
		{"example..nl", "error"},
		{"", "error"},
	}
	for _, s := range splits {
		d, err := SplitDomain(s.in)
		got := d.Domain + "/" + d.Tld
		if err != nil {
			got = "error"
		}
		if got != s.want {
			t.Errorf("SplitDomain(%q) = %q, want %q", s.in, got, s.want)
		}
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		uid, hash, base, wantErr string
		wantPath                 string
	}{
		{"", hash, "", "uid and hash are both required", ""},
		{uid, " ", "", "uid and hash are both required", ""},
		{uid, hash, "api.xynta.com", "is not an http(s) URL", ""},
		{uid, hash, "https://api.xynta.com/?x=1", "is not an http(s) URL without query", ""},
		{uid, hash, "", "", "/"},
		{uid, hash, "http://127.0.0.1:8080", "", "/"},
		{uid, hash, "https://example.test/xynta/api/", "", "/xynta/api/"},
	}
	for _, tt := range tests {
		c, err := New(tt.uid, tt.hash, Options{BaseURL: tt.base})
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New(%q, %q, %q) err = %v, want %q", tt.uid, tt.hash, tt.base, err, tt.wantErr)
			}
			continue
		}
		if err != nil || c.path != tt.wantPath || !strings.HasSuffix(c.api.BaseURL.JoinPath(c.path).String(), tt.wantPath) {
			t.Errorf("New(%q): %v, path %q", tt.base, err, c.path)
		}
	}
}

func TestEncodeRecord(t *testing.T) {
	got := string(EncodeRecord(Record{Name: "_acme-challenge.sub", Type: "TXT", Value: `a "b" <c> & d`, TTL: 120}))
	want := `{"name":"_acme-challenge.sub","type":"TXT","value":"a \"b\" <c> & d","ttl":120}`
	if got != want {
		t.Fatalf("EncodeRecord = %s\nwant %s", got, want)
	}
}
