# tern: build, test, lint, cross-build, fuzz and benchmark entry points.
#
# make stops a target at the first command that fails (multi-line shell loops use set -e),
# so a target fails if any of its commands fails.
#
# Tools can be overridden on the command line or from the environment, for example
#   make test CARGO=~/.cargo/bin/cargo
#   make fuzz FUZZ_SECONDS=300
#   make cross QEMU_AARCH64=/usr/local/bin/qemu-aarch64

CARGO         ?= cargo
# cargo-fuzz needs a nightly toolchain (sanitizers, -Z flags).
CARGO_NIGHTLY ?= $(CARGO) +nightly

# make cross: a static aarch64 Linux build, linked by rust-lld, tests run under qemu.
CROSS_TARGET  := aarch64-unknown-linux-musl
QEMU_AARCH64  ?= qemu-aarch64-static
# Arguments for the test harness of the cross-run unit tests, e.g. `--skip some::test`.
CROSS_TEST_ARGS ?=
# make check-illumos: lib and bins only by default; `ILLUMOS_CHECK_FLAGS=--all-targets`
# also checks tests, benches and examples (needs every dev-dependency to build there).
ILLUMOS_TARGET      ?= x86_64-unknown-illumos
ILLUMOS_CHECK_FLAGS ?=

# make fuzz: seconds per fuzz target; CARGO_FUZZ_FLAGS go to `cargo fuzz build/run`
# (e.g. --sanitizer=none), FUZZ_FLAGS to libFuzzer after `--` (e.g. -jobs=2).
FUZZ_SECONDS     ?= 20
CARGO_FUZZ_FLAGS ?=
FUZZ_FLAGS       ?=
FUZZ_DIR         := fuzz

# make bench: one `--bench NAME` per entry; by default every benches/NAME.rs.
BENCHES       ?= $(sort $(basename $(notdir $(wildcard benches/*.rs))))

TARGET_DIR    := $(or $(CARGO_TARGET_DIR),target)
CROSS_OUT     := $(TARGET_DIR)/cross-artifacts

# Settings for the cross target, passed through the environment so that they hold even
# without .cargo/config.toml (which sets the same for plain `cargo` commands).
CROSS_ENV := CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld \
             CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUNNER=$(QEMU_AARCH64)

.DEFAULT_GOAL := build
.PHONY: help build test lint fmt-check clippy check-illumos cross fuzz fuzz-tool bench clean

help:
	@echo 'make build          cargo build --workspace --all-targets'
	@echo 'make test           cargo test --workspace (unit, integration and doc tests)'
	@echo 'make lint           rustfmt --check and clippy -D warnings on all targets'
	@echo 'make check-illumos  cargo check --workspace --target $(ILLUMOS_TARGET)'
	@echo 'make cross          static $(CROSS_TARGET) release build (rust-lld) and'
	@echo '                    unit tests run under $(QEMU_AARCH64)'
	@echo 'make fuzz           every cargo-fuzz target for FUZZ_SECONDS=$(FUZZ_SECONDS) s each'
	@echo '                    (nightly toolchain and g++; installs cargo-fuzz if missing)'
	@echo 'make bench          cargo bench for: $(BENCHES)'
	@echo 'make clean          cargo clean (and fuzz/target)'

build:
	$(CARGO) build --workspace --all-targets

# --no-fail-fast: run every test binary and report all failures (still fails at the end).
test:
	$(CARGO) test --workspace --no-fail-fast

lint: fmt-check clippy

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

check-illumos:
	$(CARGO) check --workspace --target $(ILLUMOS_TARGET) $(ILLUMOS_CHECK_FLAGS)

# 1. release build of the workspace for the target (static, linked by rust-lld);
# 2. build the unit tests (lib and bin targets) for the target, without running them;
# 3. check with file(1) that every executable produced is a statically linked aarch64 ELF;
# 4. run the unit tests under qemu user-mode emulation (cargo's target runner).
# Integration tests and doc tests are not cross-run: they belong to the host `make test`.
# The tests see TERN_TEST_EMULATOR=<runner> in their environment: qemu-user does not
# translate every socket option (qemu 7.2 rejects IP_MINTTL with ENOPROTOOPT and TCP_MD5SIG
# with EINVAL), so a test of such an option can skip itself when that variable is set.
cross:
	@command -v $(QEMU_AARCH64) >/dev/null || { echo "$(QEMU_AARCH64) not found: apt-get install qemu-user-static (or run .ci/run)" >&2; exit 1; }
	@command -v file >/dev/null || { echo "file not found: apt-get install file" >&2; exit 1; }
	@mkdir -p $(CROSS_OUT)
	$(CROSS_ENV) $(CARGO) build --workspace --release --target $(CROSS_TARGET) \
		--message-format=json-render-diagnostics > $(CROSS_OUT)/release.json
	$(CROSS_ENV) $(CARGO) test --workspace --lib --bins --target $(CROSS_TARGET) --no-run \
		--message-format=json-render-diagnostics > $(CROSS_OUT)/tests.json
	.ci/check-static-elf 'ARM aarch64' $(CROSS_OUT)/release.json $(CROSS_OUT)/tests.json
	TERN_TEST_EMULATOR=$(QEMU_AARCH64) $(CROSS_ENV) \
		$(CARGO) test --workspace --lib --bins --target $(CROSS_TARGET) --no-fail-fast -- $(CROSS_TEST_ARGS)

# Installs cargo-fuzz (with the default toolchain) if it is missing; running it needs the
# nightly toolchain, which is checked for but not installed here.
fuzz-tool:
	@command -v cargo-fuzz >/dev/null 2>&1 || test -x "$${CARGO_HOME:-$$HOME/.cargo}/bin/cargo-fuzz" || { \
		echo 'cargo-fuzz is missing; installing it: $(CARGO) install --locked cargo-fuzz'; \
		$(CARGO) install --locked cargo-fuzz; }
	@$(CARGO_NIGHTLY) --version >/dev/null 2>&1 || { \
		echo 'cargo-fuzz needs a nightly toolchain: rustup toolchain install nightly' >&2; exit 1; }
	@command -v c++ >/dev/null 2>&1 || command -v $${CXX:-g++} >/dev/null 2>&1 || { \
		echo 'libfuzzer-sys compiles libFuzzer (C++): apt-get install g++' >&2; exit 1; }

# Builds every fuzz target once, then runs each for FUZZ_SECONDS on its corpus
# fuzz/corpus/TARGET (where libFuzzer saves new inputs; created if missing) plus, read-only,
# the checked-in seeds fuzz/seeds/TARGET if there are any. A target that finds a crash
# (libFuzzer exits non-zero and saves the input under fuzz/artifacts/TARGET/) does not stop
# the others; `make fuzz` fails at the end, naming the targets that failed.
fuzz: fuzz-tool
	@test -f $(FUZZ_DIR)/Cargo.toml || { echo "no $(FUZZ_DIR)/Cargo.toml: there are no fuzz targets yet" >&2; exit 1; }
	cd $(FUZZ_DIR) && $(CARGO_NIGHTLY) fuzz build $(CARGO_FUZZ_FLAGS)
	@set -e; cd $(FUZZ_DIR); \
	targets="$$($(CARGO_NIGHTLY) fuzz list)"; \
	if [ -z "$$targets" ]; then echo "cargo fuzz list: no fuzz targets" >&2; exit 1; fi; \
	failed=""; \
	for t in $$targets; do \
		corpus="$$PWD/corpus/$$t"; mkdir -p "$$corpus"; \
		seeds=""; if [ -d "$$PWD/seeds/$$t" ]; then seeds="$$PWD/seeds/$$t"; fi; \
		echo "=== fuzz target $$t: $(FUZZ_SECONDS) s"; \
		echo "$(CARGO_NIGHTLY) fuzz run $(CARGO_FUZZ_FLAGS) $$t $$corpus $$seeds -- -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS)"; \
		$(CARGO_NIGHTLY) fuzz run $(CARGO_FUZZ_FLAGS) $$t $$corpus $$seeds -- -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) \
			|| failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "=== fuzz FAILED:$$failed (inputs under $(FUZZ_DIR)/artifacts/)" >&2; exit 1; fi; \
	echo "=== fuzz: all targets ran $(FUZZ_SECONDS) s without a crash"

bench:
	$(CARGO) bench $(addprefix --bench ,$(BENCHES))

clean:
	$(CARGO) clean
	if [ -f $(FUZZ_DIR)/Cargo.toml ]; then cd $(FUZZ_DIR) && $(CARGO) clean; fi
