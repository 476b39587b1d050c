# imaboot — see README.md. Every target that boots a VM first runs
# scripts/setup-host (Debian packages and test kernels; idempotent).

GO      ?= go
BIN     ?= bin
PREFIX  ?= /usr
DESTDIR ?=
export CGO_ENABLED = 0

CMDS := $(notdir $(wildcard cmd/*))

.PHONY: all build setup test unit demo bench install clean

all: build

build:
	$(GO) build -trimpath -ldflags='-s -w' -o $(BIN)/ $(addprefix ./cmd/,$(CMDS))

setup:
	scripts/setup-host

# The whole suite: host unit tests and the VM tests on both kernels.
test: setup
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 60m ./...

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

clean:
	rm -rf $(BIN) out
