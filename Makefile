# Strata: the two commands of the quick start are `make demo` and `make test`.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin
APT_PACKAGES := libvips-dev libjpeg62-turbo-dev libsndfile1-dev libsamplerate0-dev libchromaprint-dev libsqlite3-dev libcld2-dev pkg-config
DEMO_DIR ?= strata-demo

.PHONY: deps build release demo test pyenv bench-ingest clean

# Installs the Debian packages Strata builds against (only those missing; needs root or sudo).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	swift build

release: deps
	swift build -c release

# Generates an example project with realistic flaws and runs Strata on it end to end.
demo: release
	.build/release/strata demo $(DEMO_DIR)

# Python peers for the tests (Tests/python/requirements.txt), re-created when the requirements change.
PYENV := $(CURDIR)/.build/pyenv
pyenv: $(PYENV)/.stamp
$(PYENV)/.stamp: Tests/python/requirements.txt
	rm -rf $(PYENV)
	python3 -m venv $(PYENV)
	$(PYENV)/bin/pip install -q --disable-pip-version-check -r Tests/python/requirements.txt
	touch $@

# Unit, integration and end-to-end tests (the e2e tests drive the built strata binary).
test: deps pyenv
	swift build --build-tests
	export STRATA_PYTHON=$(PYENV)/bin/python; \
	set -o pipefail; swift test --skip-build --disable-swift-testing 2>&1 | tee .build/test.log
	@awk '/Executed [0-9]+ tests?, with/ { line = $$0 } END { if (line == "") exit 1; n = line; sub(/.*Executed /, "", n); sub(/ test.*/, "", n); \
	  f = line; sub(/.* and /, "", f); sub(/ failure.*/, "", f); s = 0; if (line ~ /skipped/) { s = line; sub(/.*with /, "", s); sub(/ test.*/, "", s) } \
	  printf "%d passed, %d failed, %d skipped\n", n - f - s, f, s }' .build/test.log

bench-ingest: release
	bash bench/ingest/run.sh

clean:
	rm -rf .build $(DEMO_DIR)
