package providers

import (
	"fmt"
	"strings"

	"github.com/acme-dns-hook/acme-dns-hook/libdns/realtimeregister"
)

var _ = register(&Spec{
	Name:   "realtimeregister",
	Title:  "Realtime Register",
	Prefix: "REALTIMEREGISTER_",
	Vars: []Var{
		{Name: "REALTIMEREGISTER_API_KEY", Secret: true, Help: "API key from the Realtime Register portal (or USERNAME + PASSWORD)"},
		{Name: "REALTIMEREGISTER_USERNAME", Help: "customer/login of an API user, instead of an API key"},
		{Name: "REALTIMEREGISTER_PASSWORD", Secret: true, Help: "that user's password (used to open a session)"},
		{Name: "REALTIMEREGISTER_API_URL", Help: "API root, default https://api.yoursrs.com/v2/"},
		{Name: "REALTIMEREGISTER_OTE", Help: "true: use the test environment https://api.yoursrs-ote.com/v2/"},
		{Name: "REALTIMEREGISTER_ZONE_SERVICE", Help: "BASIC or PREMIUM: which zone to use when a name has both"},
		{Name: "REALTIMEREGISTER_TTL", Help: "TTL of challenge records in seconds (60 to 86400), default 120"},
	},
	Credentials: []string{"REALTIMEREGISTER_API_KEY", "REALTIMEREGISTER_USERNAME"},
	build:       buildRealtimeRegister,
})

func buildRealtimeRegister(env Env, opts Options) (Provider, error) {
	key, err := env.Get("REALTIMEREGISTER_API_KEY")
	if err != nil {
		return nil, err
	}
	user, err := env.Get("REALTIMEREGISTER_USERNAME")
	if err != nil {
		return nil, err
	}
	p := &realtimeregister.Provider{APIKey: key, Username: user, HTTPClient: opts.HTTPClient, Lock: opts.Lock}
	switch {
	case key != "" && (user != "" || env.Has("REALTIMEREGISTER_PASSWORD")):
		return nil, fmt.Errorf("REALTIMEREGISTER_API_KEY and REALTIMEREGISTER_USERNAME/REALTIMEREGISTER_PASSWORD are both set: keep the API key, or the username and password")
	case key == "" && user == "":
		return nil, fmt.Errorf("REALTIMEREGISTER_API_KEY is not set: set it (or REALTIMEREGISTER_API_KEY_FILE) to an API key from the Realtime Register portal, or set REALTIMEREGISTER_USERNAME (customer/login) and REALTIMEREGISTER_PASSWORD")
	case key == "":
		if c, l, ok := strings.Cut(user, "/"); !ok || c == "" || l == "" || strings.Contains(l, "/") {
			return nil, fmt.Errorf("REALTIMEREGISTER_USERNAME=%q is invalid: use customer/login (customer handle, slash, login name), e.g. mycustomer/acme", user)
		}
		if p.Password, err = env.Required("REALTIMEREGISTER_PASSWORD", "the password of "+user); err != nil {
			return nil, err
		}
	}
	if p.APIURL, err = env.Get("REALTIMEREGISTER_API_URL"); err != nil {
		return nil, err
	}
	if p.OTE, err = env.Bool("REALTIMEREGISTER_OTE", false); err != nil {
		return nil, err
	}
	if p.OTE && p.APIURL != "" {
		return nil, fmt.Errorf("REALTIMEREGISTER_OTE and REALTIMEREGISTER_API_URL are both set: keep one (OTE is https://api.yoursrs-ote.com/v2/)")
	}
	svc, err := env.Get("REALTIMEREGISTER_ZONE_SERVICE")
	if err != nil {
		return nil, err
	}
	if p.ZoneService = strings.ToUpper(svc); p.ZoneService != "" && p.ZoneService != "BASIC" && p.ZoneService != "PREMIUM" {
		return nil, fmt.Errorf("REALTIMEREGISTER_ZONE_SERVICE=%q is invalid: use BASIC or PREMIUM", svc)
	}
	if p.TTL, err = env.Seconds("REALTIMEREGISTER_TTL", 60, 86400); err != nil {
		return nil, err
	}
	return p, nil
}
