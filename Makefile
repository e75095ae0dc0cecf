# Plain verbs; each recipe is a one-liner a person can read.
# Binaries are static (CGO_ENABLED=0) and reproducible (-trimpath), as the snap ships them.
export CGO_ENABLED := 0
GO         ?= go
GOFLAGS_B  := -trimpath -buildvcs=false
ETCD_VER   := $(shell $(GO) list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3 | sed 's/^v//')
HOOKS      := install configure post-refresh
BIN_FILES  := bin/etcd bin/etcdctl bin/etcdutl bin/etcdctl-upstream bin/snapsim $(addprefix bin/hooks/,$(HOOKS))

SNAP_FILE  := charmed-etcd_$(ETCD_VER)_$(shell $(GO) env GOARCH).snap

.PHONY: build prime test test-unit test-integration test-privileges demo snap spread-sim lifecycle lint clean FORCE

build: $(BIN_FILES)

bin/etcd bin/etcdctl: FORCE
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
	$(GO) test ./internal/... ./configs/... ./snap/... ./tests/spreadcheck/... && cd tests/snapsim && $(GO) test ./...

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

demo: prime
	$(GO) run ./tests/demo -repo $(CURDIR)

lint:
	gofmt -l . | (! grep .) && $(GO) vet ./... && $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf bin prime charmed-etcd_*.snap

FORCE:
