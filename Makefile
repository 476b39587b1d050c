# imaboot — see README.md. Every target that boots a VM first runs
# scripts/setup-host (Debian packages and test kernels; idempotent).

GO      ?= go
BIN     ?= bin
PREFIX  ?= /usr
DESTDIR ?=
export CGO_ENABLED = 0

CMDS := $(notdir $(wildcard cmd/*))

# staticcheck, installed by scripts/setup-host (go install at this version).
STATICCHECK ?= $(shell $(GO) env GOPATH)/bin/staticcheck

# Every parser of untrusted input has a fuzz target (PACKAGE:TARGET); make
# test runs each for FUZZTIME.
FUZZ := imasigs:FuzzParse deb:FuzzRead initagent:FuzzParseConfig initagent:FuzzParseCmdline \
	dpkglabel:FuzzDatabase relabel:FuzzParseLabel keyload/tpm:FuzzParseBlob keyload:FuzzParseCertificates \
	blockdev:FuzzRecognise policygen:FuzzParse debarchive:FuzzParse
FUZZTIME ?= 3s

.PHONY: all build setup test unit lint fuzz demo bench install deb clean

all: build

build:
	$(GO) build -trimpath -ldflags='-s -w' -o $(BIN)/ $(addprefix ./cmd/,$(CMDS))

setup:
	scripts/setup-host

# The whole suite: lint, fuzzing, host unit tests and the VM tests on both
# kernels.
test: setup lint fuzz
	$(GO) test -count=1 -timeout 60m ./...

# go.mod as go mod tidy leaves it, go vet and staticcheck clean.
lint:
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(STATICCHECK) ./...

# Each fuzz target for FUZZTIME (seed inputs also run in every go test).
fuzz:
	@set -e; for t in $(FUZZ); do \
		echo "fuzz $${t%%:*} $${t##*:} ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(FUZZTIME) ./$${t%%:*} >/dev/null || \
			{ $(GO) test -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(FUZZTIME) ./$${t%%:*}; exit 1; }; \
	done

# Host unit tests only (no VM, no downloads).
unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /integration)

demo: setup
	$(GO) run ./integration/demo

bench: setup build
	scripts/bench

# Binaries, the dracut module and the initramfs-tools files, where each
# tool looks (see README: Adopting imaboot).
install: build
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" BIN="$(BIN)" scripts/install

# The Debian package (out/imaboot_VERSION_ARCH.deb): the same tree as
# make install with PREFIX=/usr, plus its maintainer scripts (packaging/deb).
# VERSION= and MAINTAINER= override the defaults (see scripts/mkdeb).
deb: build
	BIN="$(BIN)" OUT=out scripts/mkdeb $(if $(VERSION),VERSION="$(VERSION)") $(if $(MAINTAINER),MAINTAINER="$(MAINTAINER)")

clean:
	rm -rf $(BIN) out
