package legov5provider

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v5/challenge/dns01"
	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/legoconfig"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(*testing.T, *DNSProvider)
	}{
		{"lego's variable names", map[string]string{"MIJNHOST_API_KEY": "k-1234", "MIJNHOST_TTL": "300", "MIJNHOST_PROPAGATION_TIMEOUT": "90", "MIJNHOST_POLLING_INTERVAL": "5"}, "",
			func(t *testing.T, p *DNSProvider) {
				if to, iv := p.Timeout(); to.Seconds() != 90 || iv.Seconds() != 5 || p.p.Config().TTL != 300 {
					t.Errorf("timeout %v interval %v ttl %d", to, iv, p.p.Config().TTL)
				}
			}},
		{"lego v5's defaults", map[string]string{"MIJNHOST_API_KEY": "k-1234"}, "",
			func(t *testing.T, p *DNSProvider) {
				if to, iv := p.Timeout(); to != dns01.DefaultPropagationTimeout || iv != legoconfig.DefaultPollingInterval || legoconfig.LegoPollingInterval != dns01.DefaultPollingInterval || p.p.Config().TTL != dns01.DefaultTTL {
					t.Errorf("timeout %v interval %v ttl %d", to, iv, p.p.Config().TTL)
				}
			}},
		{"fractional polling interval", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_POLLING_INTERVAL": "0.5", "MIJNHOST_BATCH_PRESENTS": "true"}, "",
			func(t *testing.T, p *DNSProvider) {
				if _, iv := p.Timeout(); iv != 500*time.Millisecond || !p.p.Config().BatchPresents {
					t.Errorf("interval %v, batch %v", iv, p.p.Config().BatchPresents)
				}
			}},
		{"bad polling interval", map[string]string{"MIJNHOST_API_KEY": "k", "MIJNHOST_POLLING_INTERVAL": "soon"}, `MIJNHOST_POLLING_INTERVAL="soon" is invalid: use seconds (fractions allowed, e.g. 0.5) or a duration such as 500ms`, nil},
		{"no provider", map[string]string{}, "legov5provider: no provider selected", nil},
		{"missing key", map[string]string{"ACME_HOOK_PROVIDER": "mijnhost"}, "legov5provider: mijnhost: MIJNHOST_API_KEY is not set", nil},
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
	if _, err := NewDNSProviderConfig(&Config{}); err == nil || !strings.Contains(err.Error(), "legov5provider: Config.Records is nil") {
		t.Errorf("empty config: %v", err)
	}
	if _, err := NewDNSProviderConfig(nil); err == nil || err.Error() != "legov5provider: the configuration is nil" {
		t.Errorf("nil config: %v", err)
	}
}

// ctxKey marks lego's context, to see it reach the API calls.
type ctxKey struct{}

// zoneOf is an account holding one zone; it records what lego's context
// carried into each write.
type zoneOf struct{ marks []any }

func (z *zoneOf) ListZones(ctx context.Context) ([]libdns.Zone, error) {
	return []libdns.Zone{{Name: "example.test."}}, ctx.Err()
}

func (z *zoneOf) AppendRecords(ctx context.Context, _ string, recs []libdns.Record) ([]libdns.Record, error) {
	z.marks = append(z.marks, ctx.Value(ctxKey{}))
	return recs, ctx.Err()
}

func (z *zoneOf) DeleteRecords(ctx context.Context, _ string, recs []libdns.Record) ([]libdns.Record, error) {
	z.marks = append(z.marks, ctx.Value(ctxKey{}))
	return recs, ctx.Err()
}

func TestContextReachesTheAPI(t *testing.T) {
	t.Setenv("LEGO_DISABLE_CNAME_SUPPORT", "true") // no DNS server here to follow CNAMEs on
	z := &zoneOf{}
	p, err := NewDNSProviderConfig(&Config{Records: z})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := any(p).(interface{ Sequential() time.Duration }); ok {
		t.Fatal("the provider must not be sequential")
	}
	ctx := context.WithValue(context.Background(), ctxKey{}, "lego's")
	if err := p.Present(ctx, "example.test", "token", "token.thumbprint"); err != nil {
		t.Fatal(err)
	}
	if err := p.CleanUp(ctx, "example.test", "token", "token.thumbprint"); err != nil {
		t.Fatal(err)
	}
	if len(z.marks) != 2 || z.marks[0] != "lego's" || z.marks[1] != "lego's" {
		t.Errorf("contexts of the API calls carried %v, want lego's twice", z.marks)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Present(cancelled, "example.test", "token", "token.thumbprint"); !errors.Is(err, context.Canceled) {
		t.Errorf("Present on a cancelled context: %v", err)
	}
}

// failing is an account whose writes fail.
type failing struct{ zoneOf }

func (f *failing) AppendRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	return nil, errors.New("HTTP 500: the API broke")
}

// TestPreCheckReportsFailedBatch: with batched presents, a failed write
// reaches lego as the error of the check PreCheck wraps, which stops lego
// at once; other challenges go to the wrapped check.
func TestPreCheckReportsFailedBatch(t *testing.T) {
	p, err := NewDNSProviderConfig(&Config{Records: &failing{}, BatchPresents: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := p.Present(ctx, "example.test", "token", "keyauth"); err != nil {
		t.Fatalf("batched present: %v", err)
	}
	p.Timeout()
	info := dns01.GetChallengeInfo(ctx, "example.test", "keyauth")
	checked := 0
	check := func(context.Context, string, string) (bool, error) { checked++; return true, nil }
	stop, err := p.PreCheck(nil)(ctx, "example.test", info.EffectiveFQDN, info.Value, check)
	if !stop || err == nil || err.Error() != "legov5provider: writing the batched challenge records: adding TXT _acme-challenge.example.test.: HTTP 500: the API broke" || checked != 0 {
		t.Errorf("check of the failed challenge: %v, %v, checked %d", stop, err, checked)
	}
	if stop, err := p.PreCheck(nil)(ctx, "other.test", "_acme-challenge.other.test.", "v", check); !stop || err != nil || checked != 1 {
		t.Errorf("check of another challenge: %v, %v, checked %d", stop, err, checked)
	}
}
