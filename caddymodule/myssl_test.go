package caddymodule

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/acme-dns-hook/acme-dns-hook/internal/api/myssl/myssltest"
)

const mysslKey = "myssl_k_caddy-unit-77f0"

func newHandler(t *testing.T) *MySSL {
	t.Helper()
	info, err := caddy.GetModule(mysslID)
	if err != nil {
		t.Fatal(err)
	}
	return info.New().(*MySSL)
}

func TestMySSLCaddyfile(t *testing.T) {
	tests := []struct {
		name, input, want, wantErr string
	}{
		{"short form", `myssl {env.MYSSL_API_KEY}`, `{"api_key":"{env.MYSSL_API_KEY}"}`, ""},
		{"block", "myssl {\n\tapi_key " + mysslKey + "\n\tmin_grade b\n\twait 2m\n\tscan_type full\n\tmonitor true\n}",
			`{"api_key":"` + mysslKey + `","min_grade":"B","wait":120,"scan_type":"full","monitor":true}`, ""},
		{"no key", "myssl {\n\tmin_grade A\n}", "", "events.handlers.myssl: api_key is not set: set it to an API key from MySSL"},
		{"not a MySSL key", `myssl sk-123456`, "", "events.handlers.myssl: api_key is invalid: MySSL API keys start with myssl_k_"},
		{"bad grade", "myssl " + mysslKey + " {\n\tmin_grade A-\n}", "", `min_grade "A-" is invalid: use A+ or A or B or C or D or F`},
		{"a DNS provider's setting", "myssl {env.K} {\n\tttl 60\n}", "", "unrecognized subdirective 'ttl' (known: api_key, api_url, min_grade, wait, scan_type, monitor)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(t)
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tt.input))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "sk-123456") {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(h); string(got) != tt.want {
				t.Errorf("JSON %s, want %s", got, tt.want)
			}
		})
	}
	if err := newHandler(t).UnmarshalJSON([]byte(`{"api_key":"k","ttl":60}`)); err == nil {
		t.Error("unknown JSON key accepted")
	}
}

// TestMySSLHandler provisions the handler against the fake and emits
// events: one scan per obtained name, none for a wildcard or another
// event, and Cleanup ends the worker.
func TestMySSLHandler(t *testing.T) {
	f := myssltest.NewServer()
	defer f.Close()
	f.AddKey(mysslKey)
	f.SetScanStatus(true)
	t.Setenv("MYSSL_TEST_KEY", mysslKey)

	h := newHandler(t)
	if err := h.UnmarshalJSON([]byte(`{"api_key":"{env.MYSSL_TEST_KEY}","api_url":"` + f.URL + `","min_grade":"B"}`)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if h.Config.APIKey != mysslKey {
		t.Fatalf("placeholder not expanded: %q", h.Config.APIKey)
	}
	emit := func(name string, data map[string]any) {
		e, err := caddy.NewEvent(ctx, name, data)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Handle(ctx, e); err != nil {
			t.Errorf("Handle: %v", err)
		}
	}
	emit("cert_obtaining", map[string]any{"identifier": "early.example.com"})
	emit("cert_obtained", map[string]any{"identifier": "*.example.com"})
	emit("cert_obtained", map[string]any{"identifier": "a.example.com", "renewal": false})
	emit("cert_obtained", map[string]any{"identifier": "b.example.com", "renewal": true})
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	defer wcancel()
	if err := f.WaitScans(wctx, 2); err != nil {
		t.Fatal(err)
	}
	if err := h.Cleanup(); err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, s := range f.Scans() {
		hosts = append(hosts, s.Hostname)
		if s.Key != mysslKey {
			t.Errorf("scan with key %q", s.Key)
		}
	}
	if strings.Join(hosts, ",") != "a.example.com,b.example.com" {
		t.Errorf("scans of %v", hosts)
	}
	if f.MaxRunning() > 1 {
		t.Errorf("%d scans at once", f.MaxRunning())
	}
}
