package mijnhost

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api"
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/mijnhost/mijnhosttest"
)

const key = "client-test-key-81d3"

func fakeClient(t *testing.T) (*Client, *mijnhosttest.Server) {
	t.Helper()
	fake := mijnhosttest.NewServer()
	t.Cleanup(fake.Close)
	fake.AddKey(key)
	fake.AddDomain("example.com", mijnhosttest.Record{Type: "TXT", Name: "@", Value: `a "quoted" value`, TTL: 300})
	c, err := New(key, Options{BaseURL: fake.URL, Retry: api.Retry{Attempts: 3, BaseDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

func TestRecordsRoundTripRaw(t *testing.T) {
	c, fake := fakeClient(t)
	ctx := context.Background()
	recs, err := c.Records(ctx, "example.com.") // a trailing dot is stripped from the path
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Name != "example.com." || recs[0].Value != `a "quoted" value` || recs[0].TTL != 300 {
		t.Fatalf("Records = %+v", recs)
	}
	raws := []json.RawMessage{recs[0].Raw, EncodeRecord(Record{Type: "TXT", Name: "_acme-challenge.example.com.", Value: "v", TTL: 60})}
	if err := c.ReplaceRecords(ctx, "example.com", raws); err != nil {
		t.Fatal(err)
	}
	if got := fake.Records("example.com"); len(got) != 2 || got[1].Name != "_acme-challenge.example.com." {
		t.Fatalf("stored %+v", got)
	}
	if err := c.PatchRecord(ctx, "example.com", Record{Type: "TXT", Name: "_acme-challenge", Value: "w", TTL: 60}); err != nil {
		t.Fatal(err)
	}
	if got := fake.Records("example.com"); got[1].Value != "w" {
		t.Fatalf("after PATCH %+v", got)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(*mijnhosttest.Server)
		call       func(*Client) error
		wantStatus int
		wantText   string
	}{
		{"domain not in account is 400", nil, func(c *Client) error { _, err := c.Records(context.Background(), "example.org"); return err }, 400, "HTTP 400"},
		{"string status body", func(f *mijnhosttest.Server) { f.SetStringStatus(true) }, func(c *Client) error { _, err := c.Records(context.Background(), "example.org"); return err }, 400, "HTTP 400"},
		{"spurious 400 retried a bounded number of times", func(f *mijnhosttest.Server) { f.FailNext(10, mijnhosttest.FaultSpuriousBadRequest) },
			func(c *Client) error { _, err := c.Domains(context.Background()); return err }, 400, "not managed by mijn.host (after 3 tries)"},
		{"empty zone refused by the API", nil, func(c *Client) error { return c.ReplaceRecords(context.Background(), "example.com", nil) }, 400, "HTTP 400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, fake := fakeClient(t)
			if tt.setup != nil {
				tt.setup(fake)
			}
			err := tt.call(c)
			if api.StatusOf(err) != tt.wantStatus || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("err = %v, want HTTP %d and %q", err, tt.wantStatus, tt.wantText)
			}
		})
	}
}

// TestTolerantDecoding covers shapes the fake never sends but the reference
// allows: a 200 whose body says error, and a TTL as a string.
func TestTolerantDecoding(t *testing.T) {
	tests := []struct {
		name, body, wantErr string
		wantTTL             int
	}{
		{"ttl as string", `{"status":200,"status_description":"ok","data":{"domain":"example.com","records":[{"type":"txt","name":"example.com.","value":"v","ttl":"300"}]}}`, "", 300},
		{"body status error on HTTP 200", `{"status":"error","status_description":"You have no access to this resource"}`, "body status error: You have no access to this resource", 0},
		{"numeric error status on HTTP 200", `{"status":400,"status_description":"nope"}`, "body status 400: nope", 0},
		{"record without name", `{"status":200,"data":{"records":[{"type":"TXT","value":"v","ttl":1}]}}`, "record without type or name", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c, _ := New(key, Options{BaseURL: srv.URL + "/api/v2/"})
			recs, err := c.Records(context.Background(), "example.com")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(recs) != 1 || recs[0].TTL != tt.wantTTL || recs[0].Type != "TXT" {
				t.Fatalf("Records = %+v, %v", recs, err)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(" ", Options{}); err != ErrMissingKey {
		t.Errorf("empty key: %v", err)
	}
	if _, err := New("k", Options{BaseURL: "mijn.host/api"}); err == nil || !strings.Contains(err.Error(), "is not an http(s) URL") {
		t.Errorf("bad URL: %v", err)
	}
}
