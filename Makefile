# Plain verbs; each recipe is a one-liner a person can read.
# Binaries are static (CGO_ENABLED=0) and reproducible (-trimpath), as the snap ships them.
export CGO_ENABLED := 0
# go1.26.8 has reachable crypto/x509 and crypto/tls vulnerabilities (make vuln):
# build and test with go1.27.3, which the go command fetches from the module proxy.
export GOTOOLCHAIN := go1.27.3
GO         ?= go
GOFLAGS_B  := -trimpath -buildvcs=false
ETCD_VER   := $(shell $(GO) list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3 | sed 's/^v//')
HOOKS      := install configure post-refresh
BIN_FILES  := bin/etcd bin/etcdctl bin/check bin/etcdutl bin/etcdctl-upstream bin/snapsim $(addprefix bin/hooks/,$(HOOKS))

SNAP_FILE  := charmed-etcd_$(ETCD_VER)_$(shell $(GO) env GOARCH).snap

.PHONY: build prime test test-unit test-integration test-privileges demo snap spread-sim lifecycle cis vuln snapd-test bench bench-smoke lint clean FORCE

build: $(BIN_FILES)

bin/etcd bin/etcdctl bin/check: FORCE
	$(GO) build $(GOFLAGS_B) -o $@ ./cmd/$(notdir $@)
bin/etcdutl: FORCE
	$(GO) build $(GOFLAGS_B) -o $@ go.etcd.io/etcd/etcdutl/v3
# A plain upstream etcdctl, as a user of the walkthrough has it: no snap defaults.
bin/etcdctl-upstream: FORCE
	$(GO) build $(GOFLAGS_B) -o $@ go.etcd.io/etcd/etcdctl/v3
bin/hooks/%: FORCE
	$(GO) build $(GOFLAGS_B) -o $@ ./hooks/$*
bin/snapsim: FORCE
	cd tests/snapsim && $(GO) build $(GOFLAGS_B) -o ../../bin/snapsim ./cmd/snapsim

prime: build
	$(GO) run ./snap/local/prime -bin bin -configs configs -o prime -version $(ETCD_VER)

test: test-unit test-integration test-privileges spread-sim

test-unit:
	$(GO) test ./internal/... ./configs/... ./snap/... ./tests/spreadcheck/... && cd tests/snapsim && $(GO) test ./... && cd ../vuln && $(GO) test ./...

# Real daemons, real etcdctl, network namespaces (root) through snapsim.
test-integration: prime
	CHARMED_ETCD_ROOT=$(CURDIR) $(GO) test -count=1 -timeout 30m -v ./tests/integration/...

# Users, modes, confinement limits and refresh with real hooks and daemons (root).
test-privileges: prime
	$(GO) test -count=1 -v ./tests/privileges/...

# The snap as snapcraft builds it (static, stripped), packed and checked.
snap: GOFLAGS_B += -ldflags=-s
snap: prime
	command -v snap >/dev/null && command -v unsquashfs >/dev/null || apt-get install -y --no-install-recommends snapd squashfs-tools
	snap pack --check-skeleton prime
	snap pack prime .
	$(GO) run ./snap/local/check -prime prime -snapcraft snapcraft.yaml -snap $(SNAP_FILE)

# The spread tasks against snapsim (root).
spread-sim: prime
	tests/spread/run-sim.sh

# Live TLS lifecycle under load on fresh 3-member labs (root): one line per scenario.
lifecycle: prime
	$(GO) run ./tests/lifecycle -repo $(CURDIR)

# CIS etcd items 2.1-2.7, file modes and pprof on one member with full TLS (snapsim, 127.0.0.1).
cis: prime
	$(GO) run ./tests/security/cis -repo $(CURDIR)

# govulncheck on the shipped binaries against an offline database built from golang.org/x/vulndb.
VULNDB := v0.0.0-20261105234957-e22db6528018
vuln: build
	cd tests/vuln && $(GO) run ./builddb -version $(VULNDB) -o $(CURDIR)/bin/vulndb
	cd tests/vuln && rc=0; for b in etcd etcdctl etcdutl check hooks/install hooks/configure hooks/post-refresh; do echo "== bin/$$b"; $(GO) tool govulncheck -db file://$(CURDIR)/bin/vulndb -mode binary $(CURDIR)/bin/$$b || rc=1; done; exit $$rc

# The built snap under real snapd, in a container of our own image (root, Docker): tests/snapd/FINDINGS.md
snapd-test:
	tests/snapd/run.sh

# Upstream's etcd and etcd's benchmark tool, same etcd and Go versions, from tests/bench's own module.
bin/etcd-upstream: FORCE
	cd tests/bench && $(GO) build $(GOFLAGS_B) -o ../../$@ go.etcd.io/etcd/server/v3
bin/benchmark: FORCE
	cd tests/bench && $(GO) build $(GOFLAGS_B) -o ../../$@ go.etcd.io/etcd/v3/tools/benchmark

# Ours next to upstream etcd, A/B interleaved (about 10 minutes): BENCHMARKS.md and docs/bench/*.png.
bench: prime bin/etcd-upstream bin/benchmark
	cd tests/bench && $(GO) run ./cmd/bench -repo $(CURDIR) -report $(CURDIR)/BENCHMARKS.md -plots $(CURDIR)/docs/bench

# The same harness once with tiny totals, as a Go test (about 30 s after the builds); not part of make test.
bench-smoke: prime bin/etcd-upstream bin/benchmark
	cd tests/bench && CHARMED_ETCD_ROOT=$(CURDIR) $(GO) test -count=1 ./...

demo: prime
	$(GO) run ./tests/demo -repo $(CURDIR)

lint:
	gofmt -l . | (! grep .) && $(GO) vet ./... && $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf bin prime charmed-etcd_*.snap

FORCE:
