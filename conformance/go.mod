module github.com/acme-dns-hook/acme-dns-hook/conformance

go 1.26.0

require (
	github.com/acme-dns-hook/acme-dns-hook v0.0.0
	github.com/libdns/libdns v1.2.0-alpha.1
)

replace github.com/acme-dns-hook/acme-dns-hook => ../
