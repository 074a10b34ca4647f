module github.com/acme-dns-hook/acme-dns-hook/conformance

go 1.26.0

require (
	github.com/acme-dns-hook/acme-dns-hook v0.0.0
	github.com/libdns/libdns v1.2.0-alpha.1
)

require (
	github.com/miekg/dns v1.1.73 // indirect
	golang.org/x/net v0.57.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)

replace github.com/acme-dns-hook/acme-dns-hook => ../
