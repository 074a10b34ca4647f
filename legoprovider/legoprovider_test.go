package legoprovider

import (
	"strings"
	"testing"

	"github.com/go-acme/lego/v4/challenge/dns01"
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
				if to, iv := p.Timeout(); to != dns01.DefaultPropagationTimeout || iv != dns01.DefaultPollingInterval || p.p.Config().TTL != dns01.DefaultTTL {
					t.Errorf("timeout %v interval %v ttl %d", to, iv, p.p.Config().TTL)
				}
			}},
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
