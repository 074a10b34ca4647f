package providers

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/libdns/libdns"

	"github.com/acme-dns-hook/acme-dns-hook/internal/settings"
)

// account is an in-memory provider account: its zones, and a log of the
// calls it got ("append zone name…").
type account struct {
	zones   []string
	listErr error

	mu    sync.Mutex
	calls []string
}

func (a *account) ListZones(context.Context) ([]libdns.Zone, error) {
	var out []libdns.Zone
	for _, z := range a.zones {
		out = append(out, libdns.Zone{Name: z})
	}
	return out, a.listErr
}

func (a *account) log(kind, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	line := kind + " " + zone
	for _, r := range recs {
		line += " " + r.RR().Name
	}
	a.calls = append(a.calls, line)
	if !slices.Contains(a.zones, zone) {
		return nil, errors.New("no such zone " + zone)
	}
	return recs, nil
}

func (a *account) GetRecords(_ context.Context, zone string) ([]libdns.Record, error) {
	return a.log("get", zone, nil)
}
func (a *account) AppendRecords(_ context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return a.log("append", zone, recs)
}
func (a *account) SetRecords(_ context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return a.log("set", zone, recs)
}
func (a *account) DeleteRecords(_ context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return a.log("delete", zone, recs)
}

func descriptor(t *testing.T, name string) *settings.Descriptor {
	t.Helper()
	d, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSetZoneFor(t *testing.T) {
	a := &account{zones: []string{"example.test.", "Example.NET"}}
	b := &account{zones: []string{"sub.example.test.", "example.org.", "shared.test."}}
	c := &account{zones: []string{"shared.test."}}
	set := NewSet(Account{descriptor(t, "mijnhost"), a}, Account{descriptor(t, "hostup"), b}, Account{descriptor(t, "realtimeregister"), c})
	tests := []struct {
		name, zone, title, wantErr string
	}{
		{"_acme-challenge.example.test.", "example.test.", "mijn.host", ""},
		{"_acme-challenge.www.sub.example.test", "sub.example.test.", "HostUp", ""},
		{"sub.example.test.", "sub.example.test.", "HostUp", ""},
		{"_acme-challenge.NOTsub.example.test.", "example.test.", "mijn.host", ""},
		{"_acme-challenge.example.net", "example.net.", "mijn.host", ""},
		{"_acme-challenge.www.example.org.", "example.org.", "HostUp", ""},
		{"_acme-challenge.example.com.", "", "", "no account holds _acme-challenge.example.com. (mijn.host zones: example.net. example.test.; HostUp zones: example.org. shared.test. sub.example.test.; Realtime Register zones: shared.test.)"},
		{"_acme-challenge.shared.test.", "", "", "zone shared.test. of _acme-challenge.shared.test. is in several accounts (HostUp, Realtime Register)"},
	}
	for _, tt := range tests {
		z, title, err := set.ZoneFor(context.Background(), tt.name)
		if tt.wantErr != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("ZoneFor(%s) = %q, %q, %v; want error %q", tt.name, z, title, err, tt.wantErr)
			}
			continue
		}
		if err != nil || z != tt.zone || title != tt.title {
			t.Errorf("ZoneFor(%s) = %q, %q, %v; want %q at %s", tt.name, z, title, err, tt.zone, tt.title)
		}
	}
}

func TestSetOneAccountKeepsItsMessages(t *testing.T) {
	a := &account{zones: []string{"example.test."}}
	set := NewSet(Account{descriptor(t, "mijnhost"), a})
	_, _, err := set.ZoneFor(context.Background(), "_acme-challenge.example.org")
	if want := "no zone of this account holds _acme-challenge.example.org. (account zones: example.test.)"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	// Calls go straight to the one account, which reports its own errors.
	if _, err := set.AppendRecords(context.Background(), "example.org.", nil); err == nil || err.Error() != "no such zone example.org." {
		t.Errorf("err = %v", err)
	}
}

func TestSetRoutesCalls(t *testing.T) {
	a := &account{zones: []string{"example.test."}}
	b := &account{zones: []string{"sub.example.test.", "example.org."}}
	set := NewSet(Account{descriptor(t, "mijnhost"), a}, Account{descriptor(t, "hostup"), b})
	ctx := context.Background()
	txt := []libdns.Record{libdns.TXT{Name: "_acme-challenge", Text: "v"}}
	set.AppendRecords(ctx, "example.test.", txt)
	set.AppendRecords(ctx, "sub.example.test.", txt)
	set.DeleteRecords(ctx, "example.org.", txt)
	set.SetRecords(ctx, "example.test.", txt)
	set.GetRecords(ctx, "example.org.")
	if want := []string{"append example.test. _acme-challenge", "set example.test. _acme-challenge"}; !slices.Equal(a.calls, want) {
		t.Errorf("first account got %q, want %q", a.calls, want)
	}
	if want := []string{"append sub.example.test. _acme-challenge", "delete example.org. _acme-challenge", "get example.org."}; !slices.Equal(b.calls, want) {
		t.Errorf("second account got %q, want %q", b.calls, want)
	}
	if _, err := set.AppendRecords(ctx, "example.com.", txt); err == nil || !strings.HasPrefix(err.Error(), "no account holds example.com.") {
		t.Errorf("zone of no account: %v", err)
	}
	zs, err := set.ListZones(ctx)
	if err != nil || len(zs) != 3 || zs[0].Name != "example.org." || zs[2].Name != "sub.example.test." {
		t.Errorf("ListZones = %v, %v", zs, err)
	}
	// An account whose listing fails could hold the name: nothing is
	// written, and the error names the account.
	b.listErr = errors.New("API key rejected")
	if _, err := set.AppendRecords(ctx, "example.test.", txt); err == nil || !strings.Contains(err.Error(), "HostUp: API key rejected") {
		t.Errorf("failing listing: %v", err)
	}
	if len(a.calls) != 2 {
		t.Errorf("written despite a failing listing: %q", a.calls)
	}
}
