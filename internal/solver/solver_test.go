package solver

import (
	"context"
	"strings"
	"testing"

	"github.com/libdns/libdns"
)

func TestChallengeFromClients(t *testing.T) {
	tests := []struct {
		name string
		got  Challenge
		want Challenge
	}{
		// base64url(SHA-256("token.thumbprint")), as RFC 8555 section 8.4 defines the value.
		{"RAW key authorization", FromKeyAuth("*.Example.com", "token.thumbprint"), Challenge{"_acme-challenge.Example.com.", "61rBZ_4knHblO0MNoxFsXZ_eTFUHum0B6IVRbhvUn5I"}},
		{"certbot/dehydrated domain", ForDomain("*.example.com.", " digest "), Challenge{"_acme-challenge.example.com.", "digest"}},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, tt.got, tt.want)
		}
	}
}

// accountOnly lists zones and fails every write, to prove validation comes first.
type accountOnly struct{ writes int }

func (a *accountOnly) ListZones(context.Context) ([]libdns.Zone, error) {
	return []libdns.Zone{{Name: "example.com."}, {Name: "sub.example.com."}}, nil
}
func (a *accountOnly) AppendRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	a.writes++
	return nil, nil
}
func (a *accountOnly) DeleteRecords(context.Context, string, []libdns.Record) ([]libdns.Record, error) {
	a.writes++
	return nil, nil
}

func TestInvalidChallengesWriteNothing(t *testing.T) {
	tests := []struct {
		ch   Challenge
		want string
	}{
		{Challenge{"", "v"}, "is not a domain name"},
		{Challenge{"_acme-challenge..example.com", "v"}, "is not a domain name"},
		{Challenge{"_acme-challenge.example.com", ""}, "TXT value for _acme-challenge.example.com is empty"},
		{Challenge{"_acme-challenge.example.com", strings.Repeat("x", 300)}, "is not a DNS-01 digest"},
		{Challenge{"_acme-challenge.example.org", "v"}, "no zone of this account holds _acme-challenge.example.org."},
	}
	for _, tt := range tests {
		p := &accountOnly{}
		s := &Solver{Provider: p}
		err := s.Present(context.Background(), Challenge{"_acme-challenge.example.com", "ok"}, tt.ch)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.ch, err, tt.want)
		}
		if p.writes != 0 {
			t.Errorf("%+v: %d writes despite invalid input", tt.ch, p.writes)
		}
	}
}

func TestZonePicksLongest(t *testing.T) {
	s := &Solver{Provider: &accountOnly{}}
	for name, want := range map[string]string{
		"_acme-challenge.www.sub.example.com": "sub.example.com.",
		"_acme-challenge.example.com.":        "example.com.",
		"_acme-challenge.notsub.example.com.": "example.com.",
	} {
		if got, err := s.Zone(context.Background(), name); err != nil || got != want {
			t.Errorf("Zone(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
}
