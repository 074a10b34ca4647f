// Command caddy is the standard Caddy v2 server with this project's DNS
// provider modules (dns.providers.<name>) built in, for users who want
// DNS-01 certificates from Caddy without xcaddy:
//
//	go install github.com/acme-dns-hook/acme-dns-hook/cmd/caddy@latest
//
// It is exactly what `xcaddy build --with github.com/acme-dns-hook/acme-dns-hook/caddymodule`
// produces: every standard Caddy module plus ours, and Caddy's own command line.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/acme-dns-hook/acme-dns-hook/caddymodule"
)

func main() {
	caddycmd.Main()
}
