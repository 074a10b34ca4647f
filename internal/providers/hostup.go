package providers

import (
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/hostup"
	libhostup "github.com/acme-dns-hook/acme-dns-hook/libdns/hostup"
)

var _ = register(&Spec{
	Name:   "hostup",
	Title:  "HostUp",
	Prefix: "HOSTUP_",
	Vars: []Var{
		{Name: "HOSTUP_API_KEY", Secret: true, Help: "API key from the HostUp control panel with the scopes read:dns, write:dns, read:domains"},
		{Name: "HOSTUP_API_URL", Help: "API root, default " + hostup.DefaultURL},
		{Name: "HOSTUP_TTL", Help: "TTL of challenge records in seconds (60 to 86400), default 120"},
	},
	Credentials: []string{"HOSTUP_API_KEY"},
	build: func(env Env, opts Options) (Provider, error) {
		key, err := env.Required("HOSTUP_API_KEY", "an API key from the HostUp control panel with the scopes read:dns, write:dns and read:domains")
		if err != nil {
			return nil, err
		}
		ttl, err := env.Seconds("HOSTUP_TTL", 60, 86400)
		if err != nil {
			return nil, err
		}
		url, err := env.Get("HOSTUP_API_URL")
		if err != nil {
			return nil, err
		}
		return &libhostup.Provider{APIKey: key, APIURL: url, TTL: ttl, HTTPClient: opts.HTTPClient, Lock: opts.Lock}, nil
	},
})
