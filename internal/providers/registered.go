package providers

// The registered providers: importing a provider's package registers its
// descriptor. Adding a provider is one line here.
import (
	_ "github.com/acme-dns-hook/acme-dns-hook/libdns/hostup"
	_ "github.com/acme-dns-hook/acme-dns-hook/libdns/mijnhost"
	_ "github.com/acme-dns-hook/acme-dns-hook/libdns/realtimeregister"
	_ "github.com/acme-dns-hook/acme-dns-hook/libdns/xynta"
)
