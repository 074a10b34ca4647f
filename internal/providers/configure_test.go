package providers

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

type zoneListStore struct{}

func (zoneListStore) Load(string) ([]string, bool) { return nil, false }
func (zoneListStore) Store(string, []string)       {}

// TestConfigure: every registered provider takes every option, and a
// provider type lacking a field an option needs is refused naming the
// field, with nothing set.
func TestConfigure(t *testing.T) {
	all := Options{
		HTTPClient:  &http.Client{},
		Lock:        func(context.Context, string) (func(), error) { return func() {}, nil },
		GroupWindow: -1,
		ZoneList:    zoneListStore{},
	}
	for _, d := range All() {
		if _, err := Configure(d.New(), all); err != nil {
			t.Errorf("%s: %v", d.Name, err)
		}
	}
	type partial struct {
		HTTPClient *http.Client
		Lock       func(context.Context, string) (func(), error)
	}
	p := &partial{}
	_, err := Configure(p, Options{HTTPClient: all.HTTPClient, GroupWindow: time.Second})
	if err == nil || !strings.Contains(err.Error(), "no field GroupWindow of type time.Duration") {
		t.Errorf("err = %v, want the missing GroupWindow named", err)
	}
	if p.HTTPClient != nil {
		t.Errorf("HTTPClient was set although Configure failed")
	}
}
