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
# ... and of the platform crate (fib_install: 1M routes into a network namespace's table and
# out again; needs root and ip(8)).
PLATFORM_BENCHES ?= $(sort $(basename $(notdir $(wildcard platform/benches/*.rs))))

TARGET_DIR    := $(or $(CARGO_TARGET_DIR),target)
CROSS_OUT     := $(TARGET_DIR)/cross-artifacts

# Settings for the cross target, passed through the environment so that they hold even
# without .cargo/config.toml (which sets the same for plain `cargo` commands).
CROSS_ENV := CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld \
             CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUNNER=$(QEMU_AARCH64)

# make install / uninstall. PREFIX is where the programs go (ternd in PREFIX/sbin, ternctl and
# tern-load in PREFIX/bin); DESTDIR stages the whole tree elsewhere (packaging, tests). The
# configuration is always /etc/tern/tern.toml (under DESTDIR), installed from CONFIG_SRC only
# if there is none yet. The programs are taken from BIN_DIR, where `cargo build --release
# --bins` puts them; NO_BUILD=1 skips that build. INSTALL_OS picks the service files: Linux
# (systemd unit and sysusers.d entry) or SunOS (SMF manifest and method); the paths they name
# under /usr/local/ are rewritten for PREFIX.
PREFIX           ?= /usr/local
DESTDIR          ?=
BIN_DIR          ?= $(TARGET_DIR)/release
NO_BUILD         ?=
INSTALL_OS       ?= $(shell uname -s)
CONFIG_SRC       ?= etc/tern/tern.toml
SYSTEMD_UNIT_DIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
SYSUSERS_DIR     ?= $(PREFIX)/lib/sysusers.d
DOC_DIR          ?= $(PREFIX)/share/doc/tern
SMF_MANIFEST_DIR := /lib/svc/manifest/network/routing
SMF_METHOD_DIR   := /lib/svc/method
PYTHON           ?= python3
# make run: the configuration ternd runs with (the example binds 127.0.0.1:179, keeps its
# state in /var/lib/tern and its socket in /run/tern: run it as root).
RUN_CONFIG       ?= etc/tern/tern.toml

# Shell functions for the install recipe. `put MODE SRC DST` copies SRC to DST and
# `put_prefix MODE SRC DST` copies it with /usr/local/ rewritten to PREFIX/; both write a
# temporary file beside DST and rename it, so that a running ternd's executable is replaced,
# not overwritten in place (which fails with ETXTBSY).
INSTALL_FUNCS := \
	put() { mkdir -p "$$(dirname "$$3")"; rm -f "$$3.new"; cp "$$2" "$$3.new"; \
		chmod "$$1" "$$3.new"; mv -f "$$3.new" "$$3"; echo "installed $$3"; }; \
	put_prefix() { mkdir -p "$$(dirname "$$3")"; rm -f "$$3.new"; \
		sed 's|/usr/local/|$(PREFIX)/|g' "$$2" > "$$3.new"; \
		chmod "$$1" "$$3.new"; mv -f "$$3.new" "$$3"; echo "installed $$3"; }

.DEFAULT_GOAL := build
.PHONY: help build test lint fmt-check clippy check-illumos cross fuzz fuzz-tool bench clean \
        install uninstall check-service check-install run demo

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
	@echo 'make demo           two ternd on 127.0.0.1 and 127.0.0.2 peer, announce a prefix with'
	@echo '                    ternctl, show summaries and routes, and stop (start here)'
	@echo 'make run            ternd in the foreground with RUN_CONFIG=$(RUN_CONFIG)'
	@echo 'make install        release build, then install into $$(DESTDIR)$(PREFIX) (PREFIX,'
	@echo '                    DESTDIR), /etc/tern/tern.toml if absent, and the $(INSTALL_OS)'
	@echo '                    service files (NO_BUILD=1: install BIN_DIR=$(BIN_DIR) as is)'
	@echo 'make uninstall      remove what install put (not the config, not the state)'
	@echo 'make check-service  systemd-analyze verify the unit; xmllint, smf/check.py and'
	@echo '                    smf/method-test.sh for the SMF manifest and method'
	@echo 'make check-install  etc/install-test.sh: install/uninstall into a temporary DESTDIR'

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
	$(if $(PLATFORM_BENCHES),$(CARGO) bench -p tern-platform $(addprefix --bench ,$(PLATFORM_BENCHES)))

clean:
	$(CARGO) clean
	if [ -f $(FUZZ_DIR)/Cargo.toml ]; then cd $(FUZZ_DIR) && $(CARGO) clean; fi

# The first thing to run: two daemons peer on loopback (port 10179, no root needed), one
# announces a prefix with ternctl, both show their summary and routes, both stop.
demo:
	$(CARGO) build --release --bins
	etc/demo/demo.sh $(TARGET_DIR)/release

run:
	$(CARGO) build --release --bins
	$(TARGET_DIR)/release/ternd --config $(RUN_CONFIG)

# Installs the release binaries, README, example config (never over an existing one) and the
# service files for INSTALL_OS. See the variables above; etc/README.md and smf/README.md
# say what to do next (create the tern user, enable the service).
install:
ifneq ($(NO_BUILD),1)
	$(CARGO) build --release --bins
endif
	@set -e; \
	for b in ternd ternctl tern-load; do \
		test -x "$(BIN_DIR)/$$b" || { echo "make install: $(BIN_DIR)/$$b is missing: run" \
			"'$(CARGO) build --release --bins' or set BIN_DIR" >&2; exit 1; }; \
	done; \
	test -f "$(CONFIG_SRC)" || { echo "make install: $(CONFIG_SRC) is missing" >&2; exit 1; }; \
	case "$(INSTALL_OS)" in Linux|SunOS) ;; *) \
		echo "make install: no service files for INSTALL_OS=$(INSTALL_OS) (Linux or SunOS)" >&2; \
		exit 1;; \
	esac; \
	$(INSTALL_FUNCS); \
	put 0755 "$(BIN_DIR)/ternd" "$(DESTDIR)$(PREFIX)/sbin/ternd"; \
	put 0755 "$(BIN_DIR)/ternctl" "$(DESTDIR)$(PREFIX)/bin/ternctl"; \
	put 0755 "$(BIN_DIR)/tern-load" "$(DESTDIR)$(PREFIX)/bin/tern-load"; \
	put 0644 README.md "$(DESTDIR)$(DOC_DIR)/README.md"; \
	if [ -e "$(DESTDIR)/etc/tern/tern.toml" ]; then \
		echo "kept the existing $(DESTDIR)/etc/tern/tern.toml (example: $(CONFIG_SRC))"; \
	else \
		put 0644 "$(CONFIG_SRC)" "$(DESTDIR)/etc/tern/tern.toml"; \
	fi; \
	case "$(INSTALL_OS)" in \
	Linux) \
		put_prefix 0644 etc/systemd/tern.service "$(DESTDIR)$(SYSTEMD_UNIT_DIR)/tern.service"; \
		put_prefix 0644 etc/systemd/tern.sysusers "$(DESTDIR)$(SYSUSERS_DIR)/tern.conf"; \
		put 0644 etc/README.md "$(DESTDIR)$(DOC_DIR)/systemd.md"; \
		echo "next: systemd-sysusers $(SYSUSERS_DIR)/tern.conf; systemctl daemon-reload;" \
			"systemctl enable --now tern (see $(DOC_DIR)/systemd.md)";; \
	SunOS) \
		put_prefix 0444 smf/tern.xml "$(DESTDIR)$(SMF_MANIFEST_DIR)/tern.xml"; \
		put_prefix 0555 smf/tern "$(DESTDIR)$(SMF_METHOD_DIR)/tern"; \
		put 0644 smf/README.md "$(DESTDIR)$(DOC_DIR)/smf.md"; \
		echo "next: create user tern and /var/lib/tern, then svccfg import" \
			"$(SMF_MANIFEST_DIR)/tern.xml; svcadm enable tern (see $(DOC_DIR)/smf.md)";; \
	esac

# Removes what install put, except /etc/tern/tern.toml (the operator's) and the state.
uninstall:
	rm -f "$(DESTDIR)$(PREFIX)/sbin/ternd" "$(DESTDIR)$(PREFIX)/bin/ternctl" \
		"$(DESTDIR)$(PREFIX)/bin/tern-load" "$(DESTDIR)$(DOC_DIR)/README.md"
ifeq ($(INSTALL_OS),SunOS)
	rm -f "$(DESTDIR)$(SMF_MANIFEST_DIR)/tern.xml" "$(DESTDIR)$(SMF_METHOD_DIR)/tern" \
		"$(DESTDIR)$(DOC_DIR)/smf.md"
else
	rm -f "$(DESTDIR)$(SYSTEMD_UNIT_DIR)/tern.service" "$(DESTDIR)$(SYSUSERS_DIR)/tern.conf" \
		"$(DESTDIR)$(DOC_DIR)/systemd.md"
endif
	rmdir "$(DESTDIR)$(DOC_DIR)" 2>/dev/null || true
	@echo "kept $(DESTDIR)/etc/tern/tern.toml and the state directory (/var/lib/tern)"

# The service files, without building or installing anything: the systemd unit through
# `systemd-analyze verify` (etc/systemd/verify.sh), the SMF manifest through xmllint
# (well-formed), smf/check.py (structure the service_bundle DTD requires, and tern's own
# contract) and xmllint --dtdvalid against the DTD check.py enforces, and the SMF method
# script under stand-ins (smf/method-test.sh). Needs systemd-analyze (package systemd) and
# xmllint (libxml2-utils); ksh (package ksh) lets the method run under ksh93 as on illumos.
check-service:
	sh etc/systemd/verify.sh
	@command -v xmllint >/dev/null || { echo "xmllint not found: apt-get install libxml2-utils" >&2; exit 1; }
	xmllint --noout smf/tern.xml
	$(PYTHON) smf/check.py smf/tern.xml
	@set -e; dtd=$$(mktemp); trap 'rm -f "$$dtd"' EXIT; \
	$(PYTHON) smf/check.py --emit-dtd > "$$dtd"; \
	echo "xmllint --noout --dtdvalid <smf/check.py --emit-dtd> smf/tern.xml"; \
	out=$$(xmllint --noout --dtdvalid "$$dtd" smf/tern.xml 2>&1) || { echo "$$out" >&2; exit 1; }
	sh smf/method-test.sh

# make install and make uninstall into a temporary DESTDIR with stand-in binaries.
check-install:
	sh etc/install-test.sh
