package providers

import (
	"github.com/acme-dns-hook/acme-dns-hook/internal/api/xynta"
	xyntadns "github.com/acme-dns-hook/acme-dns-hook/libdns/xynta"
)

// Xynta is experimental: its DNS calls are known from one public client
// only, not from Xynta's documentation (see libdns/xynta).
//
// Both credentials are secret. The hash is the real credential; the uid is
// an account number, but Xynta's help centre and the project's reference
// treat uid and hash as a pair of secrets, the API client redacts both, and
// keeping the uid out of output costs nothing.
var _ = register(&Spec{
	Name:   "xynta",
	Title:  "Xynta (experimental)",
	Prefix: "XYNTA_",
	Vars: []Var{
		{Name: "XYNTA_UID", Secret: true, Help: "UserID from Mijn Xynta (ACCOUNT > API > API Settings)"},
		{Name: "XYNTA_HASH", Secret: true, Help: "IPHash of the whitelisted IPv4 address this host sends from"},
		{Name: "XYNTA_API_URL", Help: "API endpoint, default " + xynta.DefaultURL},
		{Name: "XYNTA_TTL", Help: "TTL of challenge records in seconds, default 120"},
	},
	Credentials: []string{"XYNTA_UID", "XYNTA_HASH"},
	build: func(env Env, opts Options) (Provider, error) {
		uid, err := env.Required("XYNTA_UID", "the UserID from Mijn Xynta (ACCOUNT > API > API Settings)")
		if err != nil {
			return nil, err
		}
		hash, err := env.Required("XYNTA_HASH", "the IPHash Mijn Xynta shows for the whitelisted IPv4 address of this host")
		if err != nil {
			return nil, err
		}
		ttl, err := env.Seconds("XYNTA_TTL", 1, 86400)
		if err != nil {
			return nil, err
		}
		url, err := env.Get("XYNTA_API_URL")
		if err != nil {
			return nil, err
		}
		return &xyntadns.Provider{UID: uid, Hash: hash, APIURL: url, TTL: ttl, HTTPClient: opts.HTTPClient, Lock: opts.Lock}, nil
	},
})
