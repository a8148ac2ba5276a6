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

# The main job on the bundled default scripts: expand the macros of a sample post (a project in
# target/demo-project seeded with the defaults), print the HTML, the diagnostics and the timings;
# then again, answered from the result cache. The sample has one unknown macro on purpose, so
# `bds expand` reports it and exits 1; any other failure stops make.
DEMO := target/demo-project
demo: build
	@./target/release/bds init $(DEMO) > /dev/null
	@for run in first again; do \
		echo "== bds expand fixtures/samples/post.md ($$run)"; \
		./target/release/bds expand fixtures/samples/post.md --post fixtures/samples/post.json \
			--site fixtures/samples/site.json --project $(DEMO); \
		status=$$?; [ $$status -le 1 ] || exit $$status; \
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
