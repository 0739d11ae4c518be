# blocklab: `make demo` and `make test` are all a newcomer needs (both bootstrap setup).
VENV    := .venv
PY      := $(VENV)/bin/python
BL      := $(VENV)/bin/blocklab
STAMP   := $(VENV)/.blocklab-installed
DEMO    ?= $(shell test -f scenarios/ru/2025-12.yaml && echo ru/2025-12 || echo basics/open)
JOBS    ?= 2
# Labs mostly wait (on time-outs, on servers): four at a time keep two cores busy.
LABS    ?= 4

.PHONY: setup demo test unit integration kernel-test bench fuzz clean

# Idempotent: installs Debian packages, starts Open vSwitch, builds .venv (scripts/setup.sh).
setup:
	@bash scripts/setup.sh

demo: setup
	@$(BL) run $(DEMO)

# The whole suite: unit tests (pure) then integration tests (root, real labs, in parallel).
# Integration tests run four labs at a time; the machine-snapshot ones run alone at the end;
# then the kernel lane (below), which says in one line why when it cannot run.
test: setup
	@$(PY) -m pytest -q -p no:cacheprovider -n $(JOBS) tests/unit
	@$(PY) -m pytest -q -p no:cacheprovider -n $(LABS) -m "not serial" tests/integration
	@$(PY) -m pytest -q -p no:cacheprovider -m serial tests/integration
	@bash scripts/kernel-lane/host.sh

unit: setup
	@$(PY) -m pytest -q tests/unit

integration: setup
	@$(PY) -m pytest -q -n $(LABS) -m "not serial" tests/integration
	@$(PY) -m pytest -q -m serial tests/integration

# The kernel lane: the tests marked `kernel` inside a guest on Debian's own kernel (OVS kernel
# datapath, netem), booted by virtme-ng over this root filesystem (scripts/kernel-lane/).
kernel-test: setup
	@bash scripts/kernel-lane/host.sh

# The performance suite (bench/): JSON, a Markdown table and PNG plots in $(BENCH_OUT).
# BENCH_ARGS=--quick for a small version of everything (~90 s).
BENCH_OUT ?= bench-results
BENCH_ARGS ?=
bench: setup
	@$(BL) bench --out $(BENCH_OUT) $(BENCH_ARGS)

# Fuzz every parser with atheris (libFuzzer) for FUZZ_SECONDS each (tests/fuzz/run.py):
# installs atheris into the venv on first use; prints executions per target.
FUZZ_SECONDS ?= 30
fuzz: setup
	@$(PY) -c "import atheris" 2>/dev/null || $(PY) -m pip install -q atheris
	@FUZZ_SECONDS=$(FUZZ_SECONDS) $(PY) tests/fuzz/run.py

clean:
	@test ! -x $(BL) || $(BL) clean
	rm -rf .pytest_cache .hypothesis build *.egg-info
