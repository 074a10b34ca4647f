GO ?= go

.PHONY: test demo build tools vet fmt-check

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

## tools: the ACME client CLIs the end-to-end tests run, at pinned versions
tools: bin/lego

bin/lego: tools/go.mod tools/go.sum
	cd tools && $(GO) build -o ../bin/lego github.com/go-acme/lego/v4/cmd/lego

vet:
	$(GO) vet ./...
	cd conformance && $(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l . )"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
