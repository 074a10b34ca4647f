GO ?= go

.PHONY: test demo build tools vet fmt-check bench

## build: the acme-dns-hook binary in bin/
build:
	$(GO) build -o bin/acme-dns-hook ./cmd/acme-dns-hook

## test: every test, with the race detector, plus libdns's conformance suite.
## The end-to-end tests also need certbot and dehydrated on PATH
## (Debian: apt-get install certbot dehydrated); the lego CLI is built here.
test: fmt-check vet tools
	$(GO) test -race -count=1 -timeout 30m ./...
	cd conformance && $(GO) test -race -count=1 ./...

## demo: the main job end to end on the built-in local stack
demo: build tools
	$(GO) run ./internal/cmd/demo -hook bin/acme-dns-hook -lego bin/lego

## bench: certificates through every solver on the local stack, against lego's
## built-in mijn.host provider; rewrites BENCHMARKS.md and its chart. Takes
## about 40 minutes (lego's client waits); `go run ./internal/cmd/bench -quick`
## is a smoke run. Not part of `make test`.
bench:
	$(GO) run ./internal/cmd/bench -go $(GO)

## tools: the ACME client CLIs the end-to-end tests run, at pinned versions
tools: bin/lego

bin/lego: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../bin/lego github.com/go-acme/lego/v4/cmd/lego

vet:
	$(GO) vet ./...
	cd conformance && $(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l . )"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
