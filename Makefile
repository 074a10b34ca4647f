GO ?= go

# The modules, each tested on its own (GOWORK=off) with the versions its
# own go.mod selects, as its users build it. go.work joins them for editing.
MODULES := . caddymodule legoprovider legov5provider conformance e2e

.PHONY: test demo build tools clients vet fmt-check bench fuzz reliability

## build: the acme-dns-hook binary in bin/
build:
	GOWORK=off $(GO) build -o bin/acme-dns-hook ./cmd/acme-dns-hook

## test: every test of every module, with the race detector: unit tests,
## libdns's conformance suite, and the end-to-end runs with Pebble and real
## ACME clients (lego CLI built here; certbot and dehydrated installed by
## `make clients` when missing).
test: fmt-check vet tools clients
	@set -e; for m in $(MODULES); do \
		echo "== go test $$m"; \
		(cd $$m && GOWORK=off $(GO) test -race -count=1 -timeout 40m ./...); \
	done

## demo: the main job end to end on the built-in local stack
demo: build tools
	$(GO) run ./e2e/cmd/demo -hook bin/acme-dns-hook -lego bin/lego

## bench: certificates through every solver on the local stack, against lego's
## built-in mijn.host provider; rewrites BENCHMARKS.md and its chart. Takes
## about 40 minutes (lego's client waits); `go run ./e2e/cmd/bench -quick`
## is a smoke run. Not part of `make test`.
bench:
	$(GO) run ./e2e/cmd/bench -go $(GO)

## tools: the ACME client CLIs the end-to-end tests run, at pinned versions
tools: bin/lego

bin/lego: tools/go.mod tools/go.sum
	cd tools && GOWORK=off $(GO) build -o ../bin/lego github.com/go-acme/lego/v4/cmd/lego

## clients: certbot and dehydrated from Debian's packages, when missing
clients:
	@if ! command -v certbot >/dev/null || ! command -v dehydrated >/dev/null; then \
		SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO="sudo"; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends certbot dehydrated curl openssl >/dev/null; \
	fi

## fuzz: each fuzz target for FUZZTIME (default 1m): name validation, the
## zone engine's merge, the providers' record encodings; then the property
## test of random operations with injected faults on every provider's fake,
## PROPERTY_OPS long. `make test` runs the committed seed corpora
## (testdata/fuzz) as ordinary tests, and the property test 30 operations long.
FUZZTIME ?= 1m
PROPERTY_OPS ?= 300
FUZZ_TARGETS := ./internal/dnsname:FuzzName ./internal/dnsname:FuzzValue ./internal/zone:FuzzMerge \
	./internal/api/mijnhost:FuzzRecordRoundTrip ./internal/api/xynta:FuzzRecordRoundTrip \
	./internal/api/realtimeregister:FuzzTXTRoundTrip
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; echo "== fuzz $$pkg $$name"; \
		GOWORK=off $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done
	GOWORK=off $(GO) test -count=1 -run TestKitPropertyRandomOps ./internal/providertest -property.ops=$(PROPERTY_OPS)

## reliability: every provider under each fault class, hook processes
## killed at random points and swept, concurrent processes with different
## environments, bad input, fuzzing and the property test; rewrites
## RELIABILITY.md. Takes about ten minutes. Not part of `make test`.
reliability:
	$(GO) run ./e2e/cmd/reliability

vet:
	@set -e; for m in $(MODULES); do (cd $$m && GOWORK=off $(GO) vet ./...); done

fmt-check:
	@out="$$(gofmt -l . )"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
