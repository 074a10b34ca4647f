package legoprovider

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-acme/lego/v4/challenge/dns01"
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
		{"defaults", map[string]string{"MIJNHOST_API_KEY": "k-1234"}, "",
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
		{"no provider", map[string]string{}, "no provider selected", nil},
		{"missing key", map[string]string{"ACME_HOOK_PROVIDER": "mijnhost"}, "MIJNHOST_API_KEY is not set", nil},
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
	if _, err := NewDNSProviderConfig(&Config{}); err == nil || !strings.Contains(err.Error(), "Config.Records is nil") {
		t.Errorf("empty config: %v", err)
	}
}

// failing is an account of one zone whose writes fail.
type failing struct{}

func (failing) ListZones(context.Context) ([]libdns.Zone, error) {
	return []libdns.Zone{{Name: "example.test."}}, nil
}

func (failing) AppendRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	return nil, errors.New("HTTP 500: the API broke")
}

func (failing) DeleteRecords(_ context.Context, _ string, recs []libdns.Record) ([]libdns.Record, error) {
	return recs, nil
}

// TestPreCheckReportsFailedBatch: with batched presents, a failed write
// reaches lego as the error of the check PreCheck wraps, which stops lego
// at once; other challenges go to the wrapped check.
func TestPreCheckReportsFailedBatch(t *testing.T) {
	p, err := NewDNSProviderConfig(&Config{Records: failing{}, BatchPresents: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Present("example.test", "token", "keyauth"); err != nil {
		t.Fatalf("batched present: %v", err)
	}
	if to, iv := p.Timeout(); to != iv {
		t.Errorf("Timeout after the failed write: %v, %v; want one polling interval", to, iv)
	}
	info := dns01.GetChallengeInfo("example.test", "keyauth")
	checked := 0
	check := func(string, string) (bool, error) { checked++; return true, nil }
	stop, err := p.PreCheck(nil)("example.test", info.EffectiveFQDN, info.Value, check)
	if !stop || err == nil || err.Error() != "legoprovider: writing the batched challenge records: adding TXT _acme-challenge.example.test.: HTTP 500: the API broke" || checked != 0 {
		t.Errorf("check of the failed challenge: %v, %v, checked %d", stop, err, checked)
	}
	if stop, err := p.PreCheck(nil)("other.test", "_acme-challenge.other.test.", "v", check); !stop || err != nil || checked != 1 {
		t.Errorf("check of another challenge: %v, %v, checked %d", stop, err, checked)
	}
}
