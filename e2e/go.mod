module github.com/acme-dns-hook/acme-dns-hook/e2e

go 1.26.0

require (
	github.com/acme-dns-hook/acme-dns-hook v0.0.0-00010101000000-000000000000
	github.com/acme-dns-hook/acme-dns-hook/certmagicsolver v0.0.0-00010101000000-000000000000
	github.com/acme-dns-hook/acme-dns-hook/legoprovider v0.0.0-00010101000000-000000000000
	github.com/acme-dns-hook/acme-dns-hook/legov5provider v0.0.0-00010101000000-000000000000
	github.com/caddyserver/caddy/v2 v2.11.9
	github.com/caddyserver/certmagic v0.25.6
	github.com/go-acme/lego/v4 v4.34.0
	github.com/go-acme/lego/v5 v5.6.0
	github.com/letsencrypt/pebble/v2 v2.10.1
	github.com/libdns/libdns v1.1.1
	github.com/mholt/acmez/v3 v3.1.7
	github.com/miekg/dns v1.1.73
	go.uber.org/zap v1.28.0
)

require (
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_golang v1.24.1 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.71.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/quic-go/qpack v0.6.0 // indirect
	github.com/quic-go/quic-go v0.63.0 // indirect
	golang.org/x/term v0.47.0 // indirect
	golang.org/x/time v0.16.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

require (
	github.com/acme-dns-hook/acme-dns-hook/caddymodule v0.0.0-00010101000000-000000000000
	github.com/caddyserver/zerossl v0.1.6 // indirect
	github.com/cenkalti/backoff/v5 v5.0.3 // indirect
	github.com/go-jose/go-jose/v4 v4.1.6 // indirect
	github.com/klauspost/cpuid/v2 v2.4.0 // indirect
	github.com/letsencrypt/challtestsrv v1.4.2 // indirect
	github.com/zeebo/blake3 v0.2.4 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.uber.org/zap/exp v0.3.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	software.sslmate.com/src/go-pkcs12 v0.7.4 // indirect
)

replace (
	github.com/acme-dns-hook/acme-dns-hook => ../
	github.com/acme-dns-hook/acme-dns-hook/caddymodule => ../caddymodule
	github.com/acme-dns-hook/acme-dns-hook/certmagicsolver => ../certmagicsolver
	github.com/acme-dns-hook/acme-dns-hook/legoprovider => ../legoprovider
	github.com/acme-dns-hook/acme-dns-hook/legov5provider => ../legov5provider
)
