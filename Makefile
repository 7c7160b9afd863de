# pyfront: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYFRONT_IMAGE ?= pyfront:dev
RUST_TARGET := x86_64-unknown-linux-gnu
# Where `cargo build` (the binary target) puts it: CARGO_TARGET_DIR, if set.
BINARY := $(or $(CARGO_TARGET_DIR),target)/$(RUST_TARGET)/release/pyfront
# How to run a BuildKit build on the engine DOCKER_HOST points at; the test
# harness env files set it per engine (docker build / docker buildx build).
PYFRONT_BUILD ?= docker build
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
REVISION := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
# Where the image's source lives (org.opencontainers.image.source).
PYFRONT_SOURCE ?= https://gitlab.example.com/platform/pyfront
# The published name; `make release-image` writes an OCI layout for it.
RELEASE_IMAGE ?= registry.example.com/platform/pyfront
RELEASE_PLATFORMS ?= linux/amd64
IMAGE_ARGS = --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) --build-arg SOURCE=$(PYFRONT_SOURCE)

.PHONY: binary image release-image demo test unit e2e harness-up harness-down lint fmt bench leakscan bench-installers bench-hermetic bench-corpus

# A static binary: the frontend image is FROM scratch.
binary:
	RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --target $(RUST_TARGET)

# The frontend image, tagged $(PYFRONT_IMAGE), in the daemon DOCKER_HOST names.
image: binary
	@ctx=$$(mktemp -d) && cp $(BINARY) $$ctx/pyfront && \
	  $(PYFRONT_BUILD) -q $(IMAGE_ARGS) -f Dockerfile.frontend -t $(PYFRONT_IMAGE) $$ctx >/dev/null && \
	  rm -rf $$ctx && echo "built $(PYFRONT_IMAGE) ($$(stat -c %s $(BINARY)) byte binary)"

# The release: an OCI image layout (dist/pyfront-VERSION-oci.tar, an image index, so
# more platforms slot in when their binaries exist) named RELEASE_IMAGE:VERSION, with
# version, revision and source labels. Needs buildx (the harness's d13 engine:
# `. /tmp/pyfront-harness/env-d13.sh`). Publish it with `skopeo copy
# oci-archive:dist/pyfront-VERSION-oci.tar docker://RELEASE_IMAGE:VERSION`, or load it
# into a containerd-store daemon with `docker load -i`.
release-image: binary
	@mkdir -p dist && ctx=$$(mktemp -d) && cp $(BINARY) $$ctx/pyfront && \
	  docker buildx build --progress=quiet $(IMAGE_ARGS) --platform $(RELEASE_PLATFORMS) \
	    --provenance=false -f Dockerfile.frontend \
	    --output type=oci,dest=dist/pyfront-$(VERSION)-oci.tar,name=$(RELEASE_IMAGE):$(VERSION) $$ctx && \
	  rm -rf $$ctx && echo "wrote dist/pyfront-$(VERSION)-oci.tar ($(RELEASE_IMAGE):$(VERSION), $(RELEASE_PLATFORMS), revision $(REVISION))"

# Brings up a local engine, base images and a private index, then builds the
# example app twice with a rotated token and shows the install step reused.
demo:
	bash examples/demo/run-demo.sh

# Everything: unit tests, then the end-to-end suite on both engines.
test:
	bash tests/run-all.sh

unit:
	cargo test --locked

harness-up:
	bash tests/harness/up.sh

harness-down:
	bash tests/harness/down.sh

lint:
	cargo fmt --check
	cargo clippy --locked --all-targets -- -D warnings

fmt:
	cargo fmt

# pyfront against the hand-written Dockerfile, both engines, on a harness of its own
# (ROUNDS=N to change the rounds); prints a table and writes bench/RESULTS.md.
bench:
	bash bench/run

# pip vs Poetry vs uv on one ~37-package lock, cold/warm/lock-changed, both engines, on
# bench/run's harness (ROUNDS=N, BENCH_ENGINES=d12); writes bench/INSTALLERS.md.
bench-installers:
	bash bench/installers

# The hermetic install (issue 12) before vs after: two frontend images (BENCH_BEFORE=<rev>,
# default 5b6535c, built in a temporary git worktree; the working tree), pip/Poetry/uv on
# bench/installers's lock, cold and warm, rounds interleaved, on bench/run's harness
# (ROUNDS=N, BENCH_ENGINES=d12); writes bench/HERMETIC.md.
bench-hermetic:
	bash bench/hermetic

# Issue 11's table: every project shape of tests/corpus on both engines (init, check,
# cold build, runs, cached after a token rotation and an app change, cold time, image
# size), on bench/run's harness (BENCH_ENGINES=d12, BENCH_SHAPES=...); writes bench/CORPUS.md.
bench-corpus:
	bash bench/corpus

# The leak scanner of issue 4: every installer and failure mode, then every
# surface a canary token could reach (LLB, output, image, cache, data root),
# per engine, on a harness of its own (/tmp/pyfront-leaks); any hit fails.
leakscan:
	bash tests/leakscan.sh
