# bds-script: build the guests (RustPython, and CPython 3.11, for wasm32-wasip1), the worker and
# the CLI, all in release (one profile: CI builds wasmtime and each guest once), then pre-build
# the compiled, pre-initialised guests so no test or user pays for it.
CARGO ?= cargo
NPM ?= npm
GUEST := target/wasm32-wasip1/release/bds_guest.wasm
LOCKED ?= --locked
# The addon's TypeScript declarations are written while napi's macros expand. Every cargo
# command sees the same folder, so switching between them never rebuilds the addon crate.
export NAPI_TYPE_DEF_TMP_FOLDER := $(CURDIR)/target/napi-typedefs
NODE_DEPS := napi-binding/node_modules/.package-lock.json

.PHONY: all guest cpython-wasi guest-cpython build addon addon-dts ui chromium oracle studio test demo bench bench-addon bench-ui lint bless clean-cache

all: build

guest:
	@rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
	cd worker/guest && $(CARGO) build --release --target wasm32-wasip1 --ignore-rust-version --target-dir ../../target $(LOCKED)

# CPython 3.11 for wasm32-wasi, as static libraries, and its compiled stdlib (target/cpython-wasi):
# from Debian's clang-16, wasi-libc and python3.11 source, installed when missing (~5 min once).
cpython-wasi:
	bash worker/guest-cpython/build-cpython.sh target/cpython-wasi

guest-cpython: cpython-wasi
	@rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1 || rustup target add wasm32-wasip1
	cd worker/guest-cpython && $(CARGO) build --release --target wasm32-wasip1 --target-dir ../../target $(LOCKED)

build: guest guest-cpython
	$(CARGO) build --release --workspace --bins $(LOCKED)
	./target/release/bds-worker prepare
	./target/release/bds-worker --guest-kind cpython prepare

# The Node-API addon (target/release/bds.node, beside bds-worker) and its generated
# declarations (target/release/index.d.ts; the tests compare them with napi-binding/index.d.ts).
addon: build $(NODE_DEPS)
	cd napi-binding && node scripts/build.mjs

# After changing the addon's API: regenerate napi-binding/index.d.ts, then commit it.
addon-dts: build $(NODE_DEPS)
	cd napi-binding && node scripts/build.mjs --write

# `npm install` (which follows the lockfile) rather than `npm ci`: npm leaves the other
# platforms' optional packages of @napi-rs/cli's lzma dependency out of the lockfile, and
# `npm ci` then refuses it.
$(NODE_DEPS): napi-binding/package.json napi-binding/package-lock.json
	cd napi-binding && $(NPM) install --no-audit --no-fund

# The script editor panel (napi-binding/ui/dist: the bundle, its styles, the studio's page).
ui: $(NODE_DEPS)
	cd napi-binding && node ui/build.mjs

# The CPython oracle's packages (fixtures/requirements.txt: markdown-it-py, segno), installed
# with pip when missing.
oracle:
	@python3 -c "import markdown_it, segno" 2>/dev/null || python3 -m pip install -q -r fixtures/requirements.txt

# The browser the panel's tests drive: Debian's chromium (apt-get as root when it is missing).
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && apt-get install -y chromium; } || { echo "the UI tests need chromium: apt-get install -y chromium, or CHROMIUM=/path/to/chrome"; exit 1; }

# The panel in a browser, on target/studio-project (or STUDIO_PROJECT), with the real engine.
STUDIO_PROJECT ?= target/studio-project
studio: addon ui
	node napi-binding/studio/server.js $(STUDIO_PROJECT)

# Every suite runs on both guests: RustPython, then CPython (`BDS_GUEST`, which the worker and
# the CLI read when nothing else chooses).
test: build addon ui chromium oracle
	$(CARGO) test --release --workspace $(LOCKED)
	BDS_GUEST=cpython $(CARGO) test --release --workspace $(LOCKED)
	BDS_CHROMIUM=$(CHROMIUM) node --test napi-binding/test/*.test.js
	BDS_GUEST=cpython BDS_CHROMIUM=$(CHROMIUM) node --test napi-binding/test/*.test.js

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

bench: build bench-addon
	$(CARGO) bench -p bds-benches $(LOCKED)

# The editor panel in chromium: open → ready, Ctrl+Enter → preview painted (kbd, toc).
bench-ui: addon ui chromium
	BDS_CHROMIUM=$(CHROMIUM) node benches/ui.mjs

# Warm calls from JavaScript through the addon, against the engine alone in the same run.
bench-addon: addon
	node benches/addon.mjs

# Re-bless the golden fixtures from CPython (the oracle), then read `git diff fixtures/`.
bless:
	python3 fixtures/bless.py

lint:
	$(CARGO) fmt --all -- --check
	cd worker/guest && $(CARGO) fmt -- --check
	cd worker/guest-cpython && $(CARGO) fmt -- --check
	$(CARGO) clippy --release --workspace --all-targets $(LOCKED) -- -D warnings

clean-cache:
	rm -rf target/wasm32-wasip1/release/bds-cache
