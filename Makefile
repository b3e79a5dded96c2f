# bowline's Makefile. `make run` runs the whole system on this machine,
# `make test` runs every test. Tools are built from source into bin/ by
# hack/tools and rebuilt only when their pinned versions change.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
.DEFAULT_GOAL := build

BIN := $(CURDIR)/bin
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# Every fuzz target (func FuzzXxx in a _test.go file) runs briefly in
# `make test`, after its seed corpus passed as part of `go test`; each entry
# is ./package:FuzzName.
FUZZ_TARGETS ?= $(shell hack/fuzz-targets.sh)
FUZZ_TIME ?= 3s
# A fuzz target that stops making progress fails instead of holding CI.
FUZZ_TIMEOUT ?= 3m

# Test timeout for the whole suite.
TEST_TIMEOUT ?= 20m

.PHONY: build
build: ## Build bin/bowline.
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/bowline ./operator

.PHONY: tools
tools: ## Build etcd, kube-apiserver, controller-gen and staticcheck into bin/.
	hack/tools/install.sh etcd ./etcd go.etcd.io/etcd/server/v3
	hack/tools/install.sh kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes
	hack/tools/install.sh controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen sigs.k8s.io/controller-tools
	hack/tools/install.sh staticcheck honnef.co/go/tools/cmd/staticcheck honnef.co/go/tools

GENERATED := schema/v1alpha1/zz_generated.deepcopy.go $(wildcard schema/crds/bases/*.yaml)

.PHONY: generate
generate: tools ## Regenerate deepcopy code and CRD YAML from schema/v1alpha1.
	$(BIN)/controller-gen object:headerFile=hack/boilerplate.go.txt paths=./schema/...
	$(BIN)/controller-gen crd:crdVersions=v1 paths=./schema/... output:crd:dir=./schema/crds/bases

.PHONY: verify-generated
verify-generated: ## Fail when generated files do not match the types.
	@before=$$(cat $(GENERATED) | sha256sum); \
	$(MAKE) --no-print-directory generate >/dev/null; \
	after=$$(cat schema/v1alpha1/zz_generated.deepcopy.go schema/crds/bases/*.yaml | sha256sum); \
	if [ "$$before" != "$$after" ]; then \
		echo "Generated files were stale: make generate has rewritten them; commit the result."; \
		git --no-pager diff --stat -- schema/ || true; \
		exit 1; \
	fi

.PHONY: lint
lint: tools ## gofmt, go vet and staticcheck.
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>&1); if [ -n "$$out" ]; then echo "gofmt wants to reformat:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(BIN)/staticcheck ./...

# The web UI's browser test drives Debian's chromium: it is installed here
# when missing and this is root (or CI with password-less sudo), quietly.
# Without it, the test says why it skips.
.PHONY: browser
browser: ## Install Chromium for the web UI's browser test when missing (root or CI only).
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "$$CHROMIUM" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif [ -n "$$CI" ] && sudo -n true 2>/dev/null; then sudo="sudo -n"; else \
		echo "chromium is missing and cannot be installed here (not root): the web UI's browser test will be skipped"; exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "chromium is missing and there is no apt-get: the web UI's browser test will be skipped"; exit 0; fi; \
	echo "Installing chromium for the web UI's browser test"; \
	if ! { $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends chromium; } >/dev/null; then \
		echo "Could not install chromium: the web UI's browser test will be skipped"; fi

.PHONY: test
test: tools verify-generated lint browser ## Unit, integration (real API server) and end-to-end tests, then brief fuzzing.
	$(GO) test -timeout $(TEST_TIMEOUT) -count=1 ./...
	@$(MAKE) --no-print-directory fuzz

.PHONY: test-faults
test-faults: tools ## Only the fault tests (docs/reliability.md); make test runs them too.
	$(GO) test -timeout 10m -count=1 ./test/faults/

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZ_TIME.
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZ_TIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZ_TIME) -timeout $(FUZZ_TIMEOUT) $$pkg; \
	done

.PHONY: bench
# The webhook benchmarks deliver at a fixed rate, so their length is set in
# deliveries (30 s at 200 a second; 30 s at 100 comments a second) rather than
# left to -benchtime's default. The headline is the hard case: 200
# deliveries a second, every one starting a run, none lost (the benchmark
# fails otherwise); it runs first and is repeated last. The plan of a pull
# request is measured over 20 pushes, since setting it up (Kubernetes'
# configuration in the sandbox forge) takes longer than one push. The web
# UI's runs page is rendered 1,000 times over 10,000 runs, for its p99.
RATE_BENCH := WebhookToProwJob|APIServerCreate|CommentToLabel|PlanPosted|RunsPage
HEADLINE_BENCH := ^BenchmarkWebhookToProwJob$$/^every-delivery-starts-a-run$$
BENCH_LINES := '^(Benchmark|ok|FAIL|---)'

bench: tools ## Run the benchmarks and print the headline figures.
	@echo "Headline: webhook to ProwJob at 200 deliveries a second, every delivery starting a run (lost must be 0)"
	$(GO) test -run '^$$' -bench '$(HEADLINE_BENCH)' -benchtime 6000x -count=1 -timeout 30m ./automation/plugins/trigger/ | tee bin/bench.txt | grep -E $(BENCH_LINES)
	$(GO) test -run '^$$' -bench '^BenchmarkWebhookToProwJob$$/^mixed' -benchtime 6000x -count=1 -timeout 30m ./automation/plugins/trigger/ | tee -a bin/bench.txt | grep -E $(BENCH_LINES)
	$(GO) test -run '^$$' -bench '^BenchmarkAPIServerCreate$$' -benchtime 6000x -count=1 -timeout 30m ./automation/plugins/trigger/ | tee -a bin/bench.txt | grep -E $(BENCH_LINES)
	$(GO) test -run '^$$' -bench . -skip '$(RATE_BENCH)' -benchmem -count=1 -timeout 30m ./... | tee -a bin/bench.txt | grep -E $(BENCH_LINES)
	$(GO) test -run '^$$' -bench CommentToLabel -benchtime 3000x -count=1 -timeout 30m ./automation/plugins/approve/ | tee -a bin/bench.txt | grep -E $(BENCH_LINES)
	$(GO) test -run '^$$' -bench PlanPosted -benchtime 20x -count=1 -timeout 30m ./automation/configreview/ | tee -a bin/bench.txt | grep -E $(BENCH_LINES)
	$(GO) test -run '^$$' -bench RunsPage -benchtime 1000x -benchmem -count=1 -timeout 30m ./web/ui/ | tee -a bin/bench.txt | grep -E $(BENCH_LINES)
	@echo; echo "Headline (webhook to ProwJob, 200 deliveries a second, every one starting a run):"
	@grep -E '^BenchmarkWebhookToProwJob/every-delivery-starts-a-run' bin/bench.txt

.PHONY: run
run: build tools ## Run the whole system on this machine (bowline up).
	$(BIN)/bowline up $(UP_FLAGS)

.PHONY: help
help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "%-18s %s\n", $$1, $$2}'
