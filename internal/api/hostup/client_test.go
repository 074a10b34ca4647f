package hostup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/hostup/hostuptest"
)

const key = "hu-client-test-key-7d2f0b"

var fastRetry = api.Retry{Attempts: 4, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Second, MaxTotal: 10 * time.Second}

func ptr(n int) *int { return &n }

func fakeClient(t *testing.T) (*Client, *hostuptest.Server) {
	t.Helper()
	fake := hostuptest.NewServer()
	t.Cleanup(fake.Close)
	fake.AddKey(key)
	fake.AddZone("example.com",
		hostuptest.Record{Type: "A", Name: "@", Value: "192.0.2.1", TTL: 3600},
		hostuptest.Record{Type: "TXT", Name: "_acme-challenge", Value: "stale", TTL: 60},
		hostuptest.Record{Type: "MX", Name: "@", Value: "mail.example.com", TTL: 3600, Priority: ptr(10)},
	)
	fake.AddZone("example.net")
	c, err := New(key, Options{BaseURL: fake.URL, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

// fixtureServer answers every request with the fixture file and status, and
// keeps the last request body.
func fixtureServer(t *testing.T, status int, file string) (*Client, *bytes.Buffer) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+key {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		got.Reset()
		io.Copy(&got, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	c, err := New(key, Options{BaseURL: srv.URL + "/api/v2/", Retry: api.Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c, &got
}

func TestDecodeDocumentedShapes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		file string
		call func(*Client) (any, error)
		want any
	}{
		{"zones.json", func(c *Client) (any, error) { return c.Zones(ctx) },
			[]Zone{{ID: "zone_01hxa3b4c5d6e7f8g9h0j1k2m3", Name: "example.com", Status: "active", Kind: "linked", RecordCount: 12}}},
		{"zone.json", func(c *Client) (any, error) { l, err := c.Records(ctx, "z", Filter{}); return strip(l), err },
			RecordList{Zone: Zone{ID: "zone_01hxa3b4c5d6e7f8g9h0j1k2m3", Name: "example.com", Status: "active", RecordCount: 3},
				Records: []RawRecord{{Record: Record{ID: "drr_01hxa3b4c5d6e7f8g9h0j1k2m3", Type: "TXT", Name: "_dmarc.example.com", Value: "v=DMARC1; p=none; rua=mailto:dmarc@example.com", TTL: 3600, Status: "active"}}}}},
		{"records-newer.json", func(c *Client) (any, error) { l, err := c.Records(ctx, "z", Filter{}); return strip(l), err },
			RecordList{Zone: Zone{ID: "zone_01hxa3b4c5d6e7f8g9h0j1k2m3", Name: "example.com", Status: "active", RecordCount: 2, RecordLimit: 200},
				Records: []RawRecord{
					{Record: Record{ID: "drr_01hxa3b4c5d6e7f8g9h0j1k2m4", Type: "MX", Name: "example.com", Value: "mail.example.com", TTL: 3600, Priority: ptr(10), Status: "active"}},
					{Record: Record{ID: "drr_01hxa3b4c5d6e7f8g9h0j1k2m5", Type: "SRV", Name: "_sip._tcp.example.com", Value: "sip.example.com", TTL: 3600, Priority: ptr(10), Weight: ptr(60), Port: ptr(5060), Status: "active"}},
					{Record: Record{ID: "drr_01hxa3b4c5d6e7f8g9h0j1k2m6", Type: "TXT", Name: "example.com", Value: "v=spf1 -all", TTL: 3600, Status: "pending"}},
				}}},
		{"records-quirks.json", func(c *Client) (any, error) { l, err := c.Records(ctx, "z", Filter{}); return strip(l), err },
			RecordList{Zone: Zone{ID: "9149", Name: "example.com", RecordCount: 4},
				Records: []RawRecord{
					{Record: Record{ID: "32857634", Type: "TXT", Name: "_acme-challenge.example.com", Value: "txt-value", TTL: 60, Status: "pending"}},
					{Record: Record{ID: "drr_06ezwatrgahtygnvpz8cp995y0", Type: "TXT", Name: "long.example.com", Value: `first "part" second part`, TTL: 300}},
					{Record: Record{ID: "32857656", Type: "MX", Name: "example.com", Value: "10 mail.example.com", TTL: 3600}},
					{Record: Record{ID: "drr_06ezwatrgahtygnvpz8cp995y1", Type: "SOA", Name: "example.com", Value: "primary.ns.hostup.se registry.hostup.se 2025122364 3600 1800 604800 600", TTL: 3600}},
				}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, _ := fixtureServer(t, http.StatusOK, tt.file)
			got, err := tt.call(c)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %s\nwant %s", dump(got), dump(tt.want))
			}
		})
	}
}

// strip drops the raw JSON, which the table does not spell out.
func strip(l RecordList) RecordList {
	for i := range l.Records {
		if len(l.Records[i].Raw) == 0 {
			panic("record without raw JSON")
		}
		l.Records[i].Raw = nil
	}
	return l
}

func dump(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestCreateSendsTheDocumentedBody(t *testing.T) {
	c, sent := fixtureServer(t, http.StatusCreated, "record_create.json")
	rec, err := c.CreateRecord(context.Background(), "zone_1", NewRecord{Type: "txt", Name: "_acme-challenge", Value: "ADw2sEd82DUgXcQ9hNBZThJs7zVJkR5v9JeSbAb9mZY", TTL: 120})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("testdata/record_create-request.json")
	var a, b any
	json.Unmarshal(sent.Bytes(), &a)
	json.Unmarshal(want, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("sent %s, want %s", sent, want)
	}
	if rec.ID != "drr_01hxa3b4c5d6e7f8g9h0j1k2m3" || rec.Status != "pending" || rec.Name != "_acme-challenge.example.com" {
		t.Errorf("created %+v", rec.Record)
	}
}

func TestProblemDocuments(t *testing.T) {
	tests := []struct {
		file, wantCode, wantText string
	}{
		{"error.json", "invalid_request", "HTTP 400: invalid_request: The request body failed validation. (/items/0/domainName: `domainName` is required.) [request req_01hxa3b4c5d6e7f8g9h0j1k2m3]"},
		{"error-legacy.json", "not_found", "HTTP 400: not_found: dns.zone_not_found not found [request 00000000-0000-0000-0000-000000000000]"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, _ := fixtureServer(t, http.StatusBadRequest, tt.file)
			err := c.DeleteRecord(context.Background(), "z", "r")
			if CodeOf(err) != tt.wantCode || !strings.Contains(err.Error(), tt.wantText) || api.StatusOf(err) != 400 {
				t.Fatalf("err = %v (code %q), want %q in it", err, CodeOf(err), tt.wantText)
			}
		})
	}
}

func TestZones(t *testing.T) {
	c, fake := fakeClient(t)
	ctx := context.Background()
	for i := range 1003 {
		fake.AddZone(fmt.Sprintf("zone%04d.example", i))
	}
	all, err := c.Zones(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1005 || all[0].Name != "example.com" || all[1004].Name != "zone1002.example" {
		t.Fatalf("%d zones, first %+v", len(all), all[0])
	}
	if n := fake.Count(hostuptest.EndpointListZones); n != 2 {
		t.Errorf("%d pages fetched, want 2 of up to 1000", n)
	}
	// One small page at a time.
	p, err := c.ListZones(ctx, ZoneQuery{Limit: 2})
	if err != nil || len(p.Zones) != 2 || !p.HasMore || p.NextCursor == "" {
		t.Fatalf("page 1 = %+v, %v", p, err)
	}
	p2, err := c.ListZones(ctx, ZoneQuery{Limit: 2, Cursor: p.NextCursor})
	if err != nil || len(p2.Zones) != 2 || p2.Zones[0].Name != "zone0000.example" {
		t.Fatalf("page 2 = %+v, %v", p2, err)
	}

	findTests := []struct {
		name, wantID string
		wantErr      error
	}{
		{"example.net", fake.ZoneID("example.net"), nil},
		{"Example.NET.", fake.ZoneID("example.net"), nil},
		{"example.org", "", ErrZoneNotFound},
		{"sub.example.com", "", ErrZoneNotFound},
	}
	for _, tt := range findTests {
		z, err := c.FindZone(ctx, tt.name)
		if !errors.Is(err, tt.wantErr) || z.ID != tt.wantID {
			t.Errorf("FindZone(%q) = %+v, %v; want id %q, err %v", tt.name, z, err, tt.wantID, tt.wantErr)
		}
	}
}

func TestRecordFilters(t *testing.T) {
	c, fake := fakeClient(t)
	zid := fake.ZoneID("example.com")
	tests := []struct {
		f    Filter
		want []string // names
	}{
		{Filter{}, []string{"example.com", "_acme-challenge.example.com", "example.com"}},
		{Filter{Type: "txt"}, []string{"_acme-challenge.example.com"}},
		{Filter{Name: "@"}, []string{"example.com", "example.com"}},
		{Filter{Type: "MX", Name: "@"}, []string{"example.com"}},
		{Filter{Type: "TXT", Name: "_acme-challenge"}, []string{"_acme-challenge.example.com"}},
		{Filter{Type: "TXT", Name: "_acme-challenge.example.com"}, []string{"_acme-challenge.example.com"}},
		{Filter{Type: "A", Name: "_acme-challenge"}, nil},
	}
	for _, tt := range tests {
		l, err := c.Records(context.Background(), zid, tt.f)
		if err != nil {
			t.Fatalf("%+v: %v", tt.f, err)
		}
		var names []string
		for _, r := range l.Records {
			names = append(names, r.Name)
		}
		if !reflect.DeepEqual(names, tt.want) || l.Zone.Name != "example.com" {
			t.Errorf("Records(%+v) = %v in %q, want %v", tt.f, names, l.Zone.Name, tt.want)
		}
	}
}

func TestCreateRecord(t *testing.T) {
	txt := NewRecord{Type: "TXT", Name: "_acme-challenge", Value: "token-1", TTL: 120}
	tests := []struct {
		name     string
		setup    func(*hostuptest.Server)
		rec      NewRecord
		wantErr  string
		wantCode string
		limit    bool
		posts    int // POSTs sent
		stored   int // records of that value afterwards
	}{
		{name: "created", rec: txt, posts: 1, stored: 1},
		{name: "MX with its priority", rec: NewRecord{Type: "MX", Name: "@", Value: "mx2.example.com", TTL: 300, Priority: ptr(20)}, posts: 1, stored: 1},
		{name: "SRV with its numbers", rec: NewRecord{Type: "SRV", Name: "_sip._tcp", Value: "sip.example.com", TTL: 300, Priority: ptr(1), Weight: ptr(2), Port: ptr(5060)}, posts: 1, stored: 1},
		{name: "exact duplicate refused with 400 is the existing record", rec: NewRecord{Type: "TXT", Name: "_acme-challenge", Value: "stale", TTL: 300}, posts: 1, stored: 1},
		{name: "exact duplicate refused with 409 too", setup: func(f *hostuptest.Server) { f.SetDuplicateStatus(http.StatusConflict) },
			rec: NewRecord{Type: "MX", Name: "@", Value: "MAIL.example.com", Priority: ptr(10)}, posts: 1, stored: 1},
		{name: "answer lost after the create is not a second record", setup: func(f *hostuptest.Server) { f.FailNext(1, hostuptest.FaultDropResponse) },
			rec: txt, posts: 1, stored: 1},
		{name: "connection dropped before the create is sent again", setup: func(f *hostuptest.Server) { f.FailNext(1, hostuptest.FaultDropConnection) },
			rec: txt, posts: 2, stored: 1},
		{name: "rate limited then created", setup: func(f *hostuptest.Server) { f.FailNext(2, hostuptest.FaultRateLimit) },
			rec: txt, posts: 3, stored: 1},
		{name: "server errors then created", setup: func(f *hostuptest.Server) { f.FailNext(2, hostuptest.FaultServerError) },
			rec: txt, posts: 3, stored: 1},
		{name: "invalid record", rec: NewRecord{Type: "CNAME", Name: "@", Value: "example.net"}, wantErr: "use ALIAS", wantCode: "invalid_request", posts: 1},
		{name: "full name refused by the API", rec: NewRecord{Type: "TXT", Name: "_acme-challenge.example.com", Value: "v"}, wantErr: "send it relative to the zone", wantCode: "invalid_request", posts: 1},
		{name: "zone full", setup: func(f *hostuptest.Server) { f.SetRecordLimit(3) }, rec: txt,
			wantErr: "zone example.com holds 3 records, the most HostUp allows per zone (SOA and NS records not counted)", wantCode: "invalid_request", limit: true, posts: 1},
		{name: "missing write scope", setup: func(f *hostuptest.Server) { f.AddKeyWithScopes(key, "read:dns", "read:domains") }, rec: txt,
			wantErr: "HTTP 403: forbidden: This API key lacks the scope write:dns", wantCode: "forbidden", posts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, fake := fakeClient(t)
			fake.SetPendingFor(0)
			if tt.setup != nil {
				tt.setup(fake)
			}
			zid := fake.ZoneID("example.com")
			got, err := c.CreateRecord(context.Background(), zid, tt.rec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || CodeOf(err) != tt.wantCode || errors.Is(err, ErrRecordLimit) != tt.limit {
					t.Fatalf("err = %v (code %q, limit %v), want %q, code %q, limit %v", err, CodeOf(err), errors.Is(err, ErrRecordLimit), tt.wantErr, tt.wantCode, tt.limit)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if got.ID == "" || !Matches(got.Record, tt.rec, "example.com") || len(got.Raw) == 0 {
					t.Errorf("returned %+v for %+v", got.Record, tt.rec)
				}
			}
			if n := fake.Count(hostuptest.EndpointCreateRecord); n != tt.posts {
				t.Errorf("%d POSTs, want %d", n, tt.posts)
			}
			stored := 0
			for _, r := range fake.Records("example.com") {
				if Matches(Record{ID: r.ID, Type: r.Type, Name: r.Name, Value: r.Value, Priority: r.Priority, Weight: r.Weight, Port: r.Port}, tt.rec, "example.com") {
					stored++
				}
			}
			if stored != tt.stored {
				t.Errorf("%d matching records stored, want %d", stored, tt.stored)
			}
		})
	}
}

func TestDeleteRecord(t *testing.T) {
	for _, numeric := range []bool{false, true} {
		t.Run(fmt.Sprint("numeric ids ", numeric), func(t *testing.T) {
			c, fake := fakeClient(t)
			ctx := context.Background()
			fake.SetNumericIDs(numeric)
			fake.SetQuoteTXT(true)
			zid := fake.AddZone("example.com", hostuptest.Record{Type: "TXT", Name: "_acme-challenge", Value: `a "quoted" value`, TTL: 60})
			l, err := c.Records(ctx, zid, Filter{})
			if err != nil || len(l.Records) != 1 {
				t.Fatalf("Records = %+v, %v", l, err)
			}
			r := l.Records[0]
			if r.Value != `a "quoted" value` {
				t.Errorf("TXT value %q: quotes not stripped", r.Value)
			}
			if strings.HasPrefix(r.ID, "drr_") == numeric || (numeric && !bytes.Contains(r.Raw, []byte(`"id":`+r.ID))) {
				t.Errorf("id %q in %s", r.ID, r.Raw)
			}
			if err := c.DeleteRecord(ctx, zid, r.ID); err != nil {
				t.Fatal(err)
			}
			if n := len(fake.Records("example.com")); n != 0 {
				t.Fatalf("%d records left", n)
			}
			if err := c.DeleteRecord(ctx, zid, r.ID); api.StatusOf(err) != http.StatusNotFound {
				t.Fatalf("second delete: %v, want HTTP 404", err)
			}
		})
	}
}

func TestAuthErrors(t *testing.T) {
	tests := []struct {
		name     string
		key      string
		scopes   []string
		call     func(*Client, string) error
		status   int
		code     string
		wantText []string
	}{
		{"unknown key", "wrong-key-0123456789", nil, func(c *Client, _ string) error { _, err := c.Zones(context.Background()); return err },
			401, "unauthorized", []string{"HTTP 401: unauthorized: Authentication required.", "not allowed from this IP address"}},
		{"no read:domains for the zone list", key, []string{"read:dns", "write:dns"}, func(c *Client, _ string) error { _, err := c.Zones(context.Background()); return err },
			403, "forbidden", []string{"read:domains", "keys used for ACME need read:dns, write:dns, read:domains"}},
		{"no read:dns for records", key, []string{"write:dns", "read:domains"}, func(c *Client, z string) error { _, err := c.Records(context.Background(), z, Filter{}); return err },
			403, "forbidden", []string{"lacks the scope read:dns"}},
		{"no write:dns for deletes", key, []string{"read:dns", "read:domains"}, func(c *Client, z string) error { return c.DeleteRecord(context.Background(), z, "drr_x") },
			403, "forbidden", []string{"lacks the scope write:dns"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := hostuptest.NewServer()
			defer fake.Close()
			zid := fake.AddZone("example.com")
			if tt.key == key {
				fake.AddKeyWithScopes(key, tt.scopes...)
			}
			var logs bytes.Buffer
			c, _ := New(tt.key, Options{BaseURL: fake.URL, Retry: fastRetry, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			err := tt.call(c, zid)
			if api.StatusOf(err) != tt.status || CodeOf(err) != tt.code {
				t.Fatalf("err = %v (code %q), want HTTP %d %s", err, CodeOf(err), tt.status, tt.code)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error()+logs.String(), tt.key) {
				t.Errorf("the key shows in the error or the log: %v\n%s", err, logs.String())
			}
		})
	}
}

func TestRateLimitHonoured(t *testing.T) {
	fake := hostuptest.NewServer()
	t.Cleanup(fake.Close)
	fake.AddZone("example.com")
	fake.AddKey(key)
	// The fake's clock moves only when the client waits: each wait is
	// counted, and nothing sleeps.
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fake.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	var waits []time.Duration
	c, err := New(key, Options{BaseURL: fake.URL, Retry: api.Retry{Attempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Second, MaxTotal: time.Hour},
		Wait: func(_ context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			waits, now = append(waits, d), now.Add(d)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	fake.SetRateLimit(2, 700*time.Millisecond)
	ctx := context.Background()
	for i := range 5 {
		if _, err := c.Zones(ctx); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	// 5 calls at 2 per window need three windows: two waits, each until the
	// window resets (Retry-After: 1 s, at least the 700 ms left).
	if len(waits) != 2 || waits[0] < 700*time.Millisecond || waits[1] < 700*time.Millisecond {
		t.Errorf("waits %v, want two until the window resets", waits)
	}
	if n := fake.CountStatus(http.StatusTooManyRequests); n < 2 || n > 4 {
		t.Errorf("%d answers were 429, want 2 to 4 (one per reset, no hammering)", n)
	}
}

func TestCodesDecide(t *testing.T) {
	tests := []struct {
		name  string
		steps []string // status and body of each answer
		tries int
		ok    bool
		hint  string
	}{
		{"rate_limited under 403 is retried", []string{`403 {"code":"rate_limited","detail":"slow down"}`, `200 {"data":[],"hasMore":false}`}, 2, true, ""},
		{"internal_error under 400 is retried", []string{`400 {"code":"internal_error"}`, `200 {"data":[],"hasMore":false}`}, 2, true, ""},
		{"forbidden is final", []string{`403 {"code":"forbidden","detail":"no"}`}, 1, false, "keys used for ACME need"},
		{"unauthorized under 403 is explained as such", []string{`403 {"code":"unauthorized","detail":"Authentication required."}`}, 1, false, "not allowed from this IP address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				st, body, _ := strings.Cut(tt.steps[min(n, len(tt.steps)-1)], " ")
				n++
				code, _ := strconv.Atoi(st)
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(code)
				io.WriteString(w, body)
			}))
			defer srv.Close()
			c, _ := New(key, Options{BaseURL: srv.URL + "/api/v2/", Retry: fastRetry})
			_, err := c.Zones(context.Background())
			if (err == nil) != tt.ok || n != tt.tries || (tt.hint != "" && !strings.Contains(err.Error(), tt.hint)) {
				t.Fatalf("err = %v after %d tries; want ok %v after %d, hint %q", err, n, tt.ok, tt.tries, tt.hint)
			}
		})
	}
}

func TestRateLimitBeyondBudget(t *testing.T) {
	c, fake := fakeClient(t)
	c.api.Retry = api.Retry{Attempts: 4, BaseDelay: time.Millisecond, MaxDelay: 500 * time.Millisecond}
	fake.FailNext(1, hostuptest.FaultRateLimit)
	_, err := c.Zones(context.Background())
	if api.StatusOf(err) != 429 || CodeOf(err) != "rate_limited" || !strings.Contains(err.Error(), "server asks to retry after 1s, beyond the retry budget") {
		t.Fatalf("err = %v", err)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		key, url, want string
	}{
		{"", "", "API key is missing"},
		{"  ", "", "API key is missing"},
		{"k", "ftp://x", `API URL "ftp://x" is not an http(s) URL`},
		{"k", "cloud.hostup.se", "is not an http(s) URL"},
	}
	for _, tt := range tests {
		if _, err := New(tt.key, Options{BaseURL: tt.url}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%q, %q) err = %v, want %q", tt.key, tt.url, err, tt.want)
		}
	}
	c, err := New("k", Options{})
	if err != nil || c.api.BaseURL.String() != DefaultURL || c.api.Retry != DefaultRetry {
		t.Errorf("defaults: %v %+v", err, c)
	}
}

func TestUnquote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{`"quoted"`, "quoted"},
		{`"one" "two"`, "onetwo"},
		{`"say \"hi\" \\o/"`, `say "hi" \o/`},
		{`"a" b "c"`, `a" b "c`},
		{`"unterminated`, `"unterminated`},
		{`v=DMARC1; rua=mailto:"dmarc"@example.com`, `v=DMARC1; rua=mailto:"dmarc"@example.com`},
		{`""`, ""},
		{`"`, `"`},
	}
	for _, tt := range tests {
		if got := Unquote(tt.in); got != tt.want {
			t.Errorf("Unquote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		have Record
		new  NewRecord
		want bool
	}{
		{Record{Type: "TXT", Name: "_acme-challenge.example.com", Value: "v"}, NewRecord{Type: "txt", Name: "_acme-challenge", Value: "v"}, true},
		{Record{Type: "TXT", Name: "_acme-challenge.example.com", Value: "V"}, NewRecord{Type: "TXT", Name: "_acme-challenge", Value: "v"}, false},
		{Record{Type: "TXT", Name: "example.com", Value: "v"}, NewRecord{Type: "TXT", Name: "@", Value: "v"}, true},
		{Record{Type: "TXT", Name: "example.com", Value: "v"}, NewRecord{Type: "SPF", Name: "", Value: "v"}, true},
		{Record{Type: "CNAME", Name: "www.example.com", Value: "Example.NET"}, NewRecord{Type: "CNAME", Name: "WWW", Value: "example.net."}, true},
		{Record{Type: "MX", Name: "example.com", Value: "mx.example.com", Priority: ptr(10)}, NewRecord{Type: "MX", Name: "@", Value: "mx.example.com", Priority: ptr(10)}, true},
		{Record{Type: "MX", Name: "example.com", Value: "10 mx.example.com"}, NewRecord{Type: "MX", Name: "@", Value: "mx.example.com", Priority: ptr(10)}, true},
		{Record{Type: "MX", Name: "example.com", Value: "mx.example.com", Priority: ptr(20)}, NewRecord{Type: "MX", Name: "@", Value: "mx.example.com", Priority: ptr(10)}, false},
		{Record{Type: "SRV", Name: "_s._tcp.example.com", Value: "t.example.com", Priority: ptr(1), Weight: ptr(2), Port: ptr(3)}, NewRecord{Type: "SRV", Name: "_s._tcp", Value: "t.example.com", Priority: ptr(1), Weight: ptr(2), Port: ptr(4)}, false},
		{Record{Type: "A", Name: "a.example.com", Value: "192.0.2.1"}, NewRecord{Type: "A", Name: "b", Value: "192.0.2.1"}, false},
	}
	for _, tt := range tests {
		if got := Matches(tt.have, tt.new, "example.com."); got != tt.want {
			t.Errorf("Matches(%+v, %+v) = %v, want %v", tt.have, tt.new, got, tt.want)
		}
	}
}
