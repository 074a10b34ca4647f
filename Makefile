GO ?= go

.PHONY: test demo vet fmt-check

## test: every test, with the race detector, plus libdns's conformance suite
test: fmt-check vet
	$(GO) test -race -count=1 ./...
	cd conformance && $(GO) test -race -count=1 ./...

## demo: the main job end to end on the built-in local stack
demo:
	$(GO) run ./internal/cmd/demo

vet:
	$(GO) vet ./...
	cd conformance && $(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l . )"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
