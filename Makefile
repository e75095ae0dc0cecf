# Plain verbs; each recipe is a one-liner a person can read.
# Binaries are static (CGO_ENABLED=0) and reproducible (-trimpath), as the snap ships them.
export CGO_ENABLED := 0
GO         ?= go
GOFLAGS_B  := -trimpath -buildvcs=false
ETCD_VER   := $(shell $(GO) list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3 | sed 's/^v//')
HOOKS      := install configure post-refresh
BIN_FILES  := bin/etcd bin/etcdctl bin/etcdutl bin/etcdctl-upstream bin/snapsim $(addprefix bin/hooks/,$(HOOKS))

.PHONY: build prime test test-unit test-integration demo lint clean FORCE

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

test: test-unit test-integration

test-unit:
	$(GO) test ./internal/... ./configs/... ./snap/... && cd tests/snapsim && $(GO) test ./...

# Real daemons, real etcdctl, network namespaces (root) through snapsim.
test-integration: prime
	CHARMED_ETCD_ROOT=$(CURDIR) $(GO) test -count=1 -timeout 30m -v ./tests/integration/...

demo: prime
	$(GO) run ./tests/demo -repo $(CURDIR)

lint:
	gofmt -l . | (! grep .) && $(GO) vet ./... && $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf bin prime

FORCE:
