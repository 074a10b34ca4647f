package providers

import "github.com/acme-dns-hook/acme-dns-hook/libdns/mijnhost"

var _ = register(&Spec{
	Name:   "mijnhost",
	Title:  "mijn.host",
	Prefix: "MIJNHOST_",
	Vars: []Var{
		{Name: "MIJNHOST_API_KEY", Secret: true, Help: "API key from the mijn.host panel (API Access)"},
		{Name: "MIJNHOST_API_URL", Help: "API root, default " + "https://mijn.host/api/v2/"},
		{Name: "MIJNHOST_TTL", Help: "TTL of challenge records in seconds, default 120"},
	},
	Credentials: []string{"MIJNHOST_API_KEY"},
	build: func(env Env, opts Options) (Provider, error) {
		key, err := env.Required("MIJNHOST_API_KEY", "the API key from the mijn.host panel (API Access)")
		if err != nil {
			return nil, err
		}
		ttl, err := env.Seconds("MIJNHOST_TTL", 1, 86400)
		if err != nil {
			return nil, err
		}
		url, err := env.Get("MIJNHOST_API_URL")
		if err != nil {
			return nil, err
		}
		return &mijnhost.Provider{APIKey: key, APIURL: url, TTL: ttl, HTTPClient: opts.HTTPClient, Lock: opts.Lock}, nil
	},
})
