package legoconfig

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
)

func envOf(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func TestFromEnv(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyFile, ttlFile := file("key", "k-1234\n"), file("ttl", "600\n")
	defaults := Config{TTL: DefaultTTL, PropagationTimeout: DefaultPropagationTimeout, PollingInterval: DefaultPollingInterval, APITimeout: DefaultAPITimeout}
	interval := func(d time.Duration) Config { c := defaults; c.PollingInterval = d; return c }
	tests := []struct {
		name        string
		env         map[string]string
		want        Config // Records not compared
		httpTimeout time.Duration
		wantErr     string
	}{
		{"defaults", map[string]string{"MIJNHOST_API_KEY": "k"}, defaults, DefaultHTTPTimeout, ""},
		{"lego's names", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_TTL": "300", "MIJNHOST_PROPAGATION_TIMEOUT": "90", "MIJNHOST_POLLING_INTERVAL": "5", "MIJNHOST_HTTP_TIMEOUT": "7"},
			Config{TTL: 300, PropagationTimeout: 90 * time.Second, PollingInterval: 5 * time.Second, APITimeout: DefaultAPITimeout}, 7 * time.Second, ""},
		{"every name as _FILE", map[string]string{"MIJNHOST_API_KEY_FILE": keyFile, "MIJNHOST_TTL_FILE": ttlFile, "MIJNHOST_POLLING_INTERVAL_FILE": ttlFile},
			Config{TTL: 600, PropagationTimeout: DefaultPropagationTimeout, PollingInterval: 600 * time.Second, APITimeout: DefaultAPITimeout}, DefaultHTTPTimeout, ""},
		{"another provider's prefix", map[string]string{"ACME_HOOK_PROVIDER": "hostup", "HOSTUP_API_KEY": "k", "HOSTUP_PROPAGATION_TIMEOUT": "30", "MIJNHOST_PROPAGATION_TIMEOUT": "99"},
			Config{TTL: DefaultTTL, PropagationTimeout: 30 * time.Second, PollingInterval: DefaultPollingInterval, APITimeout: DefaultAPITimeout}, DefaultHTTPTimeout, ""},
		{"no provider", map[string]string{}, Config{}, 0, "no provider selected"},
		{"missing credential", map[string]string{"ACME_HOOK_PROVIDER": "mijnhost"}, Config{}, 0, "mijnhost: MIJNHOST_API_KEY is not set"},
		{"interval: fraction of a second", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_POLLING_INTERVAL": "0.5"}, interval(500 * time.Millisecond), DefaultHTTPTimeout, ""},
		{"interval: Go duration", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_POLLING_INTERVAL": "250ms"}, interval(250 * time.Millisecond), DefaultHTTPTimeout, ""},
		{"interval: duration in seconds", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_POLLING_INTERVAL": "1.5s"}, interval(1500 * time.Millisecond), DefaultHTTPTimeout, ""},
		{"batched presents", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_BATCH_PRESENTS": "true"}, func() Config { c := defaults; c.BatchPresents = true; return c }(), DefaultHTTPTimeout, ""},
		{"interval: words", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_POLLING_INTERVAL": "fast"}, Config{}, 0, `MIJNHOST_POLLING_INTERVAL="fast" is invalid: use seconds (fractions allowed, e.g. 0.5) or a duration such as 500ms, from 10ms to 24h0m0s`},
		{"interval: zero", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_POLLING_INTERVAL": "0"}, Config{}, 0, `MIJNHOST_POLLING_INTERVAL="0" is invalid`},
		{"interval: negative", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_POLLING_INTERVAL": "-1"}, Config{}, 0, `MIJNHOST_POLLING_INTERVAL="-1" is invalid`},
		{"interval: below the floor", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_POLLING_INTERVAL": "1ms"}, Config{}, 0, `MIJNHOST_POLLING_INTERVAL="1ms" is invalid`},
		{"interval: hexadecimal", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_POLLING_INTERVAL": "0x1p-1"}, Config{}, 0, `MIJNHOST_POLLING_INTERVAL="0x1p-1" is invalid`},
		{"interval: infinite", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_POLLING_INTERVAL": "Inf"}, Config{}, 0, `MIJNHOST_POLLING_INTERVAL="Inf" is invalid`},
		{"interval: too long", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_POLLING_INTERVAL": "1e10"}, Config{}, 0, `MIJNHOST_POLLING_INTERVAL="1e10" is invalid`},
		{"batched presents: not a boolean", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_BATCH_PRESENTS": "sometimes"}, Config{}, 0, `MIJNHOST_BATCH_PRESENTS="sometimes" is invalid: use true or false`},
		{"timeout with a unit", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_PROPAGATION_TIMEOUT": "2s"}, Config{}, 0, `MIJNHOST_PROPAGATION_TIMEOUT="2s" is invalid`},
		{"bad HTTP timeout", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_HTTP_TIMEOUT": "0"}, Config{}, 0, `MIJNHOST_HTTP_TIMEOUT="0" is invalid`},
		{"value and file", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_TTL": "300", "MIJNHOST_TTL_FILE": ttlFile}, Config{}, 0, "MIJNHOST_TTL and MIJNHOST_TTL_FILE are both set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := FromEnv(envOf(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want one line with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Records == nil {
				t.Fatal("Records is nil")
			}
			client := reflect.ValueOf(cfg.Records).Elem().FieldByName("HTTPClient").Interface().(*http.Client)
			if client == nil || client.Timeout != tt.httpTimeout {
				t.Errorf("HTTP client %+v, want timeout %v", client, tt.httpTimeout)
			}
			cfg.Records = nil
			if cfg != tt.want {
				t.Errorf("config %+v, want %+v", cfg, tt.want)
			}
		})
	}
}

// ctxKey marks the caller's context, to see it reach the API calls.
type ctxKey struct{}

// recorder is a provider that records each call and the caller's mark.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) record(ctx context.Context, op, zone string, recs []libdns.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	mark, _ := ctx.Value(ctxKey{}).(string)
	_, hasDeadline := ctx.Deadline()
	for _, rec := range recs {
		rr := rec.RR()
		r.calls = append(r.calls, strings.Join([]string{op, zone, rr.Name, rr.Data, rr.TTL.String(), mark, map[bool]string{true: "deadline"}[hasDeadline]}, " "))
	}
	return ctx.Err()
}

func (r *recorder) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	return []libdns.Zone{{Name: "example.test."}, {Name: "sub.example.test."}}, ctx.Err()
}

func (r *recorder) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return recs, r.record(ctx, "append", zone, recs)
}

func (r *recorder) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return recs, r.record(ctx, "delete", zone, recs)
}

func TestProvider(t *testing.T) {
	if _, err := New("legoX", nil, nil); err == nil || err.Error() != "legoX: the configuration is nil" {
		t.Errorf("nil config: %v", err)
	}
	if _, err := New("legoX", &Config{}, nil); err == nil || !strings.HasPrefix(err.Error(), "legoX: Config.Records is nil") {
		t.Errorf("no Records: %v", err)
	}

	rec := &recorder{}
	p, err := New("legoX", &Config{Records: rec, TTL: 60}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if to, iv := p.Timeout(); to != DefaultPropagationTimeout || iv != DefaultPollingInterval || p.Config().APITimeout != DefaultAPITimeout {
		t.Errorf("zero durations: timeout %v, interval %v, API timeout %v; want lego's defaults", to, iv, p.Config().APITimeout)
	}
	ctx := context.WithValue(context.Background(), ctxKey{}, "caller")
	if err := p.Present(ctx, "_acme-challenge.www.sub.example.test.", "v1"); err != nil {
		t.Fatal(err)
	}
	if err := p.CleanUp(ctx, "_acme-challenge.www.sub.example.test.", "v1"); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"append sub.example.test. _acme-challenge.www v1 1m0s caller deadline",
		"delete sub.example.test. _acme-challenge.www v1 0s caller deadline",
	}
	if !reflect.DeepEqual(rec.calls, want) {
		t.Errorf("calls\n%q\nwant\n%q", rec.calls, want)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	err = p.Present(cancelled, "_acme-challenge.example.test.", "v2")
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "legoX: ") {
		t.Errorf("present on a cancelled context: %v", err)
	}
	if err := p.Present(ctx, "_acme-challenge.example.org.", "v3"); err == nil || !strings.HasPrefix(err.Error(), "legoX: no zone of this account holds _acme-challenge.example.org.") {
		t.Errorf("name outside the account: %v", err)
	}
}
