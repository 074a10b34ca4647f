GO ?= go

# The modules, each tested on its own (GOWORK=off) with the versions its
# own go.mod selects, as its users build it. go.work joins them for editing.
MODULES := . caddymodule certmagicsolver legoprovider legov5provider conformance e2e

.PHONY: test demo build tools clients k8s vet fmt-check bench fuzz reliability

## build: the acme-dns-hook binary in bin/
build:
	GOWORK=off $(GO) build -o bin/acme-dns-hook ./cmd/acme-dns-hook

## test: every test of every module, with the race detector: unit tests,
## libdns's conformance suite, and the end-to-end runs with Pebble and real
## ACME clients (lego CLI built here; certbot and dehydrated installed by
## `make clients` when missing); then the cert-manager webhook's tests
## (tag k8s) against etcd, kube-apiserver, kubectl and helm from `make k8s`.
test: fmt-check vet tools clients k8s
	@set -e; for m in $(MODULES); do \
		echo "== go test $$m"; \
		(cd $$m && GOWORK=off $(GO) test -race -count=1 -timeout 40m ./...); \
	done
	@echo "== go test certmanager (tag k8s)"
	cd certmanager && GOWORK=off $(K8S_ENV) $(GO) test -race -count=1 -tags k8s -timeout 40m ./...

# The cert-manager module is tested on its own, with the k8s tag: its
# cert-manager conformance, full-chain, two-replica and chart tests need the
# Kubernetes binaries (a missing one fails the run saying `make k8s`).
K8S_ENV = TEST_ASSET_ETCD=$(CURDIR)/bin/k8s/etcd TEST_ASSET_KUBE_APISERVER=$(CURDIR)/bin/k8s/kube-apiserver \
	TEST_ASSET_KUBECTL=$(CURDIR)/bin/k8s/kubectl HELM=$(CURDIR)/bin/k8s/helm

## demo: the main job end to end on the built-in local stack
demo: build tools
	$(GO) run ./e2e/cmd/demo -hook bin/acme-dns-hook -lego bin/lego

## bench: certificates through every solver on the local stack (lego's
## library and CLI, certmagic, the Caddy shape), against lego's built-in
## mijn.host provider; rewrites BENCHMARKS.md and its chart. Takes about 40
## minutes on 2 cores (lego's client waits); `go run ./e2e/cmd/bench -quick`
## is a smoke run. Needs bin/lego. Not part of `make test`.
bench: tools
	$(GO) run ./e2e/cmd/bench -go $(GO)

## tools: the ACME client CLIs the end-to-end tests run, at pinned versions
tools: bin/lego

bin/lego: tools/go.mod tools/go.sum
	cd tools && GOWORK=off $(GO) build -o ../bin/lego github.com/go-acme/lego/v4/cmd/lego

## k8s: the Kubernetes binaries the cert-manager webhook's tests run, built
## from the module proxy at the versions pinned in tools/etcd, tools/kube and
## tools/helm (wrapper modules: a go.mod and a tools.go, no code of theirs)
## into bin/k8s/. Each is rebuilt only when missing or when its wrapper's
## go.mod or go.sum changes. Cold (empty build cache) this took 12 minutes
## on 2 busy cores and 3 GB of build cache; warm, nothing. See CONTRIBUTING.md.
K8S_BIN := bin/k8s
k8s: $(K8S_BIN)/etcd $(K8S_BIN)/kube-apiserver $(K8S_BIN)/kubectl $(K8S_BIN)/helm

$(K8S_BIN)/etcd: tools/etcd/go.mod tools/etcd/go.sum
	cd tools/etcd && GOWORK=off $(GO) build -trimpath -ldflags "-s -w" -o ../../$@ go.etcd.io/etcd/server/v3
	@touch $@

# kube-apiserver and kubectl report the version of k8s.io/kubernetes in
# tools/kube/go.mod (as Kubernetes' own build sets it), not v0.0.0-master.
K8S_VERSION_LDFLAGS = v=$$(GOWORK=off $(GO) list -m -f '{{.Version}}' k8s.io/kubernetes) && \
	major=$$(echo $$v | cut -d. -f1 | tr -d v) && minor=$$(echo $$v | cut -d. -f2) && \
	ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$$v -X k8s.io/component-base/version.gitMajor=$$major -X k8s.io/component-base/version.gitMinor=$$minor"

$(K8S_BIN)/kube-apiserver: tools/kube/go.mod tools/kube/go.sum
	cd tools/kube && $(K8S_VERSION_LDFLAGS) && \
		GOWORK=off $(GO) build -trimpath -ldflags "$$ldflags" -o ../../$@ k8s.io/kubernetes/cmd/kube-apiserver
	@touch $@

$(K8S_BIN)/kubectl: tools/kube/go.mod tools/kube/go.sum
	cd tools/kube && $(K8S_VERSION_LDFLAGS) && \
		GOWORK=off $(GO) build -trimpath -ldflags "$$ldflags" -o ../../$@ k8s.io/kubernetes/cmd/kubectl
	@touch $@

# helm's version, and the Kubernetes version it assumes for `helm template`
# and `helm lint` (that of its client-go), set as helm's own Makefile does.
$(K8S_BIN)/helm: tools/helm/go.mod tools/helm/go.sum
	cd tools/helm && v=$$(GOWORK=off $(GO) list -m -f '{{.Version}}' helm.sh/helm/v3) && \
		kminor=$$(GOWORK=off $(GO) list -m -f '{{.Version}}' k8s.io/client-go | cut -d. -f2) && \
		GOWORK=off $(GO) build -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$$v \
			-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$$kminor \
			-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$$kminor" \
			-o ../../$@ helm.sh/helm/v3/cmd/helm
	@touch $@

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
	cd certmanager && GOWORK=off $(GO) vet -tags k8s ./...

fmt-check:
	@out="$$(gofmt -l . )"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
