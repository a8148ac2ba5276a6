# bds-script: build the guest (RustPython for wasm32-wasip1), the worker and the CLI, all in
# release (one profile: CI builds wasmtime and RustPython once), then pre-build the compiled,
# pre-initialised guest so no test or user pays for it.
CARGO ?= cargo
GUEST := target/wasm32-wasip1/release/bds_guest.wasm
LOCKED ?= --locked

.PHONY: all guest build test demo bench lint bless clean-cache

all: build

guest:
	@rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
	cd worker/guest && $(CARGO) build --release --target wasm32-wasip1 --ignore-rust-version --target-dir ../../target $(LOCKED)

build: guest
	$(CARGO) build --release --workspace --bins $(LOCKED)
	./target/release/bds-worker prepare

test: build
	$(CARGO) test --release --workspace $(LOCKED)

# The main job on the bundled default scripts: each macro rendered for a sample post, with its
# HTML and timings (startup, call, time inside the worker).
demo: build
	@for s in toc youtube kbd; do \
		echo "== default-scripts/$$s.py with fixtures/samples/$$s-context.json"; \
		./target/release/bds run default-scripts/$$s.py --context fixtures/samples/$$s-context.json || exit 1; \
	done

bench: build
	$(CARGO) bench -p bds-benches $(LOCKED)

# Re-bless the golden fixtures from CPython (the oracle), then read `git diff fixtures/`.
bless:
	python3 fixtures/bless.py

lint:
	$(CARGO) fmt --all -- --check
	cd worker/guest && $(CARGO) fmt -- --check
	$(CARGO) clippy --release --workspace --all-targets $(LOCKED) -- -D warnings

clean-cache:
	rm -rf target/wasm32-wasip1/release/bds-cache
