# pyfront: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYFRONT_IMAGE ?= pyfront:dev
RUST_TARGET := x86_64-unknown-linux-gnu
BINARY := target/$(RUST_TARGET)/release/pyfront
# How to run a BuildKit build on the engine DOCKER_HOST points at; the test
# harness env files set it per engine (docker build / docker buildx build).
PYFRONT_BUILD ?= docker build

.PHONY: binary image demo test unit e2e harness-up harness-down lint fmt bench leakscan bench-installers

# A static binary: the frontend image is FROM scratch.
binary:
	RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --target $(RUST_TARGET)

# The frontend image, tagged $(PYFRONT_IMAGE), in the daemon DOCKER_HOST names.
image: binary
	@ctx=$$(mktemp -d) && cp $(BINARY) $$ctx/pyfront && \
	  $(PYFRONT_BUILD) -q -f Dockerfile.frontend -t $(PYFRONT_IMAGE) $$ctx >/dev/null && \
	  rm -rf $$ctx && echo "built $(PYFRONT_IMAGE) ($$(stat -c %s $(BINARY)) byte binary)"

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

# The leak scanner of issue 4: every installer and failure mode, then every
# surface a canary token could reach (LLB, output, image, cache, data root),
# per engine, on a harness of its own (/tmp/pyfront-leaks); any hit fails.
leakscan:
	bash tests/leakscan.sh
