# Strata: the two commands of the quick start are `make demo` and `make test`.
SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin
APT_PACKAGES := libvips-dev libjpeg62-turbo-dev libsndfile1-dev libsamplerate0-dev libchromaprint-dev libsqlite3-dev libcld2-dev libzstd-dev libsnappy-dev pkg-config
# What only the tests need: a browser for the web-app and report tests, Slurm for the Slurm executor's tests.
TEST_APT_PACKAGES := chromium chromium-driver slurmctld slurmd slurm-client munge
DEMO_DIR ?= strata-demo

.PHONY: deps test-deps build release demo test pyenv bench-ingest bench-slurm slurm-start slurm-stop bench-label-server clean fuzz

# Installs the Debian packages Strata builds against (only those missing; needs root or sudo).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# Installs what only the tests need; package scripts are kept from starting Slurm and munge with their stock config
# (scripts/slurm/start.sh starts a one-node cluster; see docs/slurm.md).
test-deps: deps
	@missing=""; for p in $(TEST_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); policy=0; \
	  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' | $$SUDO tee /usr/sbin/policy-rc.d >/dev/null; $$SUDO chmod +x /usr/sbin/policy-rc.d; policy=1; }; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	  [ $$policy = 1 ] && $$SUDO rm -f /usr/sbin/policy-rc.d; true; \
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
test: test-deps pyenv
	swift build --build-tests
	export STRATA_PYTHON=$(PYENV)/bin/python; \
	set -o pipefail; swift test --skip-build --disable-swift-testing 2>&1 | tee .build/test.log
	@awk '/Executed [0-9]+ tests?, with/ { line = $$0 } END { if (line == "") exit 1; n = line; sub(/.*Executed /, "", n); sub(/ test.*/, "", n); \
	  f = line; sub(/.* and /, "", f); sub(/ failure.*/, "", f); s = 0; if (line ~ /skipped/) { s = line; sub(/.*with /, "", s); sub(/ test.*/, "", s) } \
	  printf "%d passed, %d failed, %d skipped\n", n - f - s, f, s }' .build/test.log

bench-ingest: release
	bash bench/ingest/run.sh

# A one-node Slurm cluster for the Slurm executor's tests and benchmark (needs root; see docs/slurm.md).
slurm-start:
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO bash scripts/slurm/start.sh

slurm-stop:
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO bash scripts/slurm/stop.sh

bench-slurm: release slurm-start
	bash bench/slurm/run.sh

bench-label-server: release
	bash bench/label-server/run.sh

clean:
	rm -rf .build $(DEMO_DIR)

# libFuzzer targets for the parsers of untrusted input (Fuzz/): SECONDS each, default 60.
FUZZ_SECONDS ?= 60
fuzz:
	bash Fuzz/run.sh $(FUZZ_SECONDS)
