# rot13d — see README.md. `make` builds, `make test` runs every test against
# both builds (what .ci/run calls), `make bench` prints the benchmark table.

CARGO   ?= cargo
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=

RELEASE := target/release/rot13d
STATIC  := target/static/rot13d

.PHONY: all release static run cross test-cross test test-unit test-release test-static lint test-install lint-units security-units image test-image size size-check size-lines trace bench bench-tools bench-unconfined bench-seccomp bench-smoke install install-static install-units uninstall clean

all: release

# The default build: no_std, panic=abort, entered through the system C
# library's start-up code. tools/sstrip.py then drops the section headers,
# which only tools read (the kernel and the loader use the program headers).
release:
	$(CARGO) build --release --locked
	python3 tools/sstrip.py $(RELEASE)

# The libc-free static build: the same source with the feature nolibc
# instead of libc, in its own profile so it lands in target/static/ without
# clobbering release. One code generation flag for this build only (cargo
# has no per-profile rustflags on stable): relocation-model=static, because
# the binary loads at a fixed address and needs no position-independent
# code (and its zero-filled data then takes no room in the file).
STATIC_RUSTFLAGS := -C relocation-model=static
STATIC_FEATURES := --no-default-features --features nolibc
static:
	RUSTFLAGS="$(STATIC_RUSTFLAGS)" $(CARGO) build --profile static $(STATIC_FEATURES) --locked
	python3 tools/sstrip.py $(STATIC)

# Both builds for the boards' architectures (README, "Architectures"), with
# Debian's cross toolchains (tools/cross setup installs them, as root):
# target/cross/ARCH/rot13d and rot13d-static.
CROSS_ARCHES := aarch64 armv7 riscv64
cross:
	tools/cross setup
	for a in $(CROSS_ARCHES); do tools/cross build $$a || exit; done

# Per architecture and build: the unit tests and the integration tests under
# qemu-user (what it cannot emulate is skipped by name and counted), and both
# builds confined and traced on a real kernel in a VM. A step that cannot run
# here is reported skipped with its reason; the summary is target/cross/report.
test-cross:
	tools/cross all

# `make run ARGS='-p 0 -v'`: build, then serve in the foreground.
run: release
	$(RELEASE) $(ARGS)

# Guard rails against bloat (a core::fmt path, a table that should be
# computed), not a target: checked by size-check, part of make test, on
# x86_64 (README, "Builds and size"); tools/cross build holds every other
# architecture's builds to 32,768 bytes each.
LIMIT_RELEASE := 24576
LIMIT_STATIC  := 20480

# Tests marked #[ignore = "needs root"] run where we are root; elsewhere
# cargo counts them as ignored (skipped), never as passed.
ROOT_TESTS := $(if $(filter 0,$(shell id -u)),--include-ignored,)

test: lint test-unit test-release test-static test-install lint-units security-units test-image size-check bench-smoke

# Formatting, and clippy with warnings as errors, for both builds (the
# static one is its own set of features) and the tests.
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --all-targets -- -D warnings
	$(CARGO) clippy --locked --bins $(STATIC_FEATURES) -- -D warnings
	$(CARGO) clippy --locked -p rot13d-bench -- -D warnings
	@echo "lint: 4 passed, 0 failed"

test-unit:
	$(CARGO) test --locked --lib

test-release: release
	ROT13D_BIN=$(CURDIR)/$(RELEASE) $(CARGO) test --locked --test '*' -- --show-output $(ROOT_TESTS)

test-static: static
	ROT13D_BIN=$(CURDIR)/$(STATIC) $(CARGO) test --locked --test '*' -- --show-output $(ROOT_TESTS)

# `make install install-units DESTDIR=...` into a scratch directory, checked
# file by file, install-static over it, then `make uninstall` from it.
test-install: release static
	@d=$$(mktemp -d) && \
	$(MAKE) -s install install-units DESTDIR=$$d PREFIX=/usr >/dev/null && \
	test -x $$d/usr/bin/rot13d && test -f $$d/usr/share/man/man8/rot13d.8 && \
	cmp -s $(RELEASE) $$d/usr/bin/rot13d && \
	test -f $$d/usr/lib/systemd/system/rot13d.socket && test -f $$d/usr/lib/systemd/system/rot13d-inetd@.service && \
	grep -q '^ExecStart=/usr/bin/rot13d ' $$d/usr/lib/systemd/system/rot13d.service && \
	$(MAKE) -s install-static DESTDIR=$$d PREFIX=/usr >/dev/null && cmp -s $(STATIC) $$d/usr/bin/rot13d && \
	$(MAKE) -s uninstall DESTDIR=$$d PREFIX=/usr >/dev/null && \
	test ! -e $$d/usr/bin/rot13d && test ! -e $$d/usr/share/man/man8/rot13d.8 && \
	test ! -e $$d/usr/lib/systemd/system/rot13d.socket && \
	rm -rf $$d && echo "install: 3 passed, 0 failed"

# Every unit file (the template as an instance), linted where systemd-analyze
# is installed (.ci/run installs it).
UNITS := rot13d.socket rot13d.service rot13d-inetd.socket rot13d-inetd@.service
INSTANCE := rot13d-inetd@1.service
lint-units:
	@if command -v systemd-analyze >/dev/null; then \
	  d=$$(mktemp -d); for u in $(UNITS); do sed "s|/usr/local/bin/rot13d|$(CURDIR)/$(RELEASE)|" contrib/$$u > $$d/$$u; done; \
	  cp $$d/rot13d-inetd@.service $$d/$(INSTANCE); \
	  SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no $$d/rot13d.socket $$d/rot13d.service $$d/rot13d-inetd.socket $$d/$(INSTANCE) \
	    && echo "unit files: 4 passed, 0 failed"; s=$$?; rm -rf $$d; exit $$s; \
	else echo "unit files: 0 passed, 0 failed, 4 skipped (systemd-analyze not installed)"; fi

# `systemd-analyze security` of both services: exposure at most 1.0 (SAFE);
# then every call either build makes as the units run it is in their
# SystemCallFilter (tools/syscalls-in-filter.py, under strace -f).
security-units: release static
	@if command -v systemd-analyze >/dev/null && systemd-analyze security --help 2>/dev/null | grep -q -- --offline; then \
	  d=$$(mktemp -d); pass=0; fail=0; \
	  for u in $(UNITS); do sed "s|/usr/local/bin/rot13d|$(CURDIR)/$(RELEASE)|" contrib/$$u > $$d/$$u; done; \
	  cp $$d/rot13d-inetd@.service $$d/$(INSTANCE); \
	  for u in rot13d.service $(INSTANCE); do \
	    e=$$(SYSTEMD_LOG_LEVEL=err systemd-analyze security --offline=yes --root=/ --no-pager $$d/$$u 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'); \
	    if [ -n "$$e" ] && awk "BEGIN { exit !($$e <= 1.0) }"; then pass=$$((pass+1)); echo "security: $$u $$e"; \
	    else fail=$$((fail+1)); echo "security: $$u exposure '$$e', above 1.0"; fi; \
	  done; rm -rf $$d; echo "unit security: $$pass passed, $$fail failed"; [ $$fail = 0 ]; \
	else echo "unit security: 0 passed, 0 failed, 2 skipped (no systemd-analyze security --offline)"; fi
	@if command -v systemd-analyze >/dev/null && command -v strace >/dev/null; then \
	  for b in $(RELEASE) $(STATIC); do out=$$(python3 tools/syscalls-in-filter.py $$b 2>&1); r=$$?; \
	    echo "$$out" | tail -2 | sed "s|^|$$b: |"; [ $$r = 0 ] || exit 1; done; \
	else echo "syscall filter: 0 passed, 0 failed, 2 skipped (needs systemd-analyze and strace)"; fi

# The FROM scratch image (contrib/Containerfile), where podman is installed:
# built, run, and talked to over a published port.
IMAGE := localhost/rot13d
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
image: static
	podman build -f contrib/Containerfile -t $(IMAGE) .

test-image:
	@if ! command -v podman >/dev/null; then echo "image: 0 passed, 0 failed, 2 skipped (podman not installed)"; exit 0; fi; \
	$(MAKE) -s image >/dev/null 2>&1 || { echo "image: 0 passed, 1 failed (podman build)"; exit 1; }; \
	if ! v=$$(podman run --rm $(IMAGE) -V 2>&1); then \
	  echo "image: 1 passed, 0 failed, 1 skipped (built; podman cannot run a container here: $$(echo "$$v" | head -n1 | cut -c1-100))"; exit 0; fi; \
	c=$$(podman run -d -p 127.0.0.1::50005 $(IMAGE)) && port=$$(podman port $$c 50005 | sed 's/.*://') && \
	got=$$(python3 tools/ask.py 127.0.0.1 $$port); podman rm -f $$c >/dev/null; \
	if [ "$$v" = "rot13d $(VERSION)" ] && [ "$$got" = "Uryyb" ]; then echo "image: 2 passed, 0 failed"; \
	else echo "image: 1 passed, 1 failed (-V: '$$v', reply: '$$got')"; exit 1; fi

# Installs what was built, without building (root may have no cargo): the
# libc build with install, the static one with install-static.
define install_bin
	@test -x $(1) || { echo "$(1) is not built: run 'make $(2)' first, as a user with cargo"; exit 1; }
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(1) $(DESTDIR)$(BINDIR)/rot13d
	install -m 644 doc/rot13d.8 $(DESTDIR)$(MANDIR)/man8/rot13d.8
endef

install:
	$(call install_bin,$(RELEASE),release)

install-static:
	$(call install_bin,$(STATIC),static)

# The systemd units, with ExecStart pointing at BINDIR.
UNITDIR ?= $(PREFIX)/lib/systemd/system
install-units:
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(UNITS); do sed "s|/usr/local/bin/rot13d|$(BINDIR)/rot13d|" contrib/$$u > $(DESTDIR)$(UNITDIR)/$$u && chmod 644 $(DESTDIR)$(UNITDIR)/$$u; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/rot13d $(DESTDIR)$(MANDIR)/man8/rot13d.8
	for u in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$$u; done

# A short session under strace -f: the process model as the kernel sees it.
# The count leaves out the startup line's four calls (getsockname, the
# SIGPIPE rt_sigaction, ppoll, write), which -q does not make: what the
# README's table and tests/deploy.rs count.
trace: static
	@command -v strace >/dev/null || { echo "make trace needs strace"; exit 1; }
	@t=$$(mktemp); \
	strace -f -o $$t $(STATIC) -p 0 2>$$t.err & s=$$!; \
	for i in 1 2 3 4 5 6 7 8 9 10; do grep -q listening $$t.err 2>/dev/null && break; sleep 0.1; done; \
	port=$$(sed -n 's/.*://p' $$t.err); \
	python3 -c "import socket;s=socket.create_connection(('127.0.0.1',$$port));s.sendall(b'Hello\\n');s.shutdown(1);print('client got:',s.recv(99))"; \
	sleep 0.2; kill -TERM $$(pgrep -P $$s -x rot13d) 2>/dev/null; wait $$s; \
	cat $$t; echo "syscalls from execve to the first accept, less the startup line's: $$(awk '{print $$2}' $$t | sed -n '1,/^accept/p' | grep -cvE '^(getsockname|ppoll|write)[(]|^rt_sigaction[(]SIGPIPE')"; \
	rm -f $$t $$t.err

# The size limits, so that a change that grows a build past them fails
# `make test` (the toolchain and every crate are pinned: sizes repeat).
size-check: release static
	@r=$$(stat -c %s $(RELEASE)); s=$$(stat -c %s $(STATIC)); \
	if [ $$r -le $(LIMIT_RELEASE) ] && [ $$s -le $(LIMIT_STATIC) ]; then \
	  echo "size: make $$r bytes (limit $(LIMIT_RELEASE)), make static $$s bytes (limit $(LIMIT_STATIC)): 2 passed, 0 failed"; \
	else echo "size: make $$r bytes (limit $(LIMIT_RELEASE)), make static $$s bytes (limit $(LIMIT_STATIC)): 0 passed, 1 failed"; exit 1; fi

size: release static bench/target/seed
	@printf '%-34s %8s\n' build bytes
	@printf '%-34s %8s   (limit $(LIMIT_RELEASE))\n' "rot13d, make (libc, dynamic)" $$(stat -c %s $(RELEASE))
	@printf '%-34s %8s   (limit $(LIMIT_STATIC))\n' "rot13d, make static (no libc)" $$(stat -c %s $(STATIC))
	@printf '%-34s %8s\n' "seed, gcc -O2 (dynamic)" $$(stat -c %s bench/target/seed)
	@if command -v musl-gcc >/dev/null; then musl-gcc -O2 -static -w -o bench/target/seed-musl bench/seed.c && strip bench/target/seed-musl && \
	  printf '%-34s %8s\n' "seed, musl-gcc -static, stripped" $$(stat -c %s bench/target/seed-musl); fi
	@for a in $(CROSS_ARCHES); do tools/cross build $$a 2>&1 | grep '^cross: '; done

# The benchmark: both builds, the C reference (gcc, and musl static where
# musl-gcc is installed), and any REF="name=cmd:port;..." servers.
BENCH_C := bench/target/ref-gcc bench/target/seed

bench/target/ref-gcc: bench/ref.c
	@mkdir -p bench/target
	cc -O2 -o $@ $<

bench/target/ref-musl: bench/ref.c
	@mkdir -p bench/target
	musl-gcc -O2 -static -o $@ $<

bench/target/seed: bench/seed.c
	@mkdir -p bench/target
	cc -O2 -w -o $@ $<

# musl-gcc for the musl C reference, and the peers a user would pick
# instead (tcpserver, socat); each row is left out, with a note, where its
# tool cannot be had.
BENCH_PKGS := musl-tools:musl-gcc ucspi-tcp:tcpserver socat:socat
bench-tools:
	@if [ "$$(id -u)" = 0 ]; then for pt in $(BENCH_PKGS); do \
	  command -v $${pt#*:} >/dev/null || (apt-get install -y -qq $${pt%%:*} || (apt-get update -qq && apt-get install -y -qq $${pt%%:*})) >/dev/null 2>&1 || true; \
	done; fi

bench: release static bench-unconfined bench-tools $(BENCH_C)
	@if command -v musl-gcc >/dev/null; then $(MAKE) -s bench/target/ref-musl; fi
	$(CARGO) run --locked --release -p rot13d-bench

# The static build with sessions left unconfined (feature `unconfined`), for
# the benchmark's row that shows what confinement costs; never installed.
bench-unconfined:
	RUSTFLAGS="$(STATIC_RUSTFLAGS)" $(CARGO) build --profile static $(STATIC_FEATURES),unconfined --locked --target-dir target/unconfined
	python3 tools/sstrip.py target/unconfined/static/rot13d

# What seccomp strict mode costs a process, apart from rot13d (README,
# "What confinement costs").
bench-seccomp:
	@mkdir -p bench/target
	cc -O2 -o bench/target/seccomp-cost bench/seccomp-cost.c
	bench/target/seccomp-cost

# A seconds-long run of the same harness, so that it cannot rot (make test).
bench-smoke: release static bench-unconfined $(BENCH_C)
	@if command -v musl-gcc >/dev/null; then $(MAKE) -s bench/target/ref-musl; fi
	$(CARGO) run --locked --release -p rot13d-bench -- --smoke

# Where the static build's code bytes come from, per source file and line
# (a copy built with line tables, in its own directory).
size-lines:
	RUSTFLAGS="$(STATIC_RUSTFLAGS)" CARGO_PROFILE_STATIC_DEBUG=line-tables-only CARGO_PROFILE_STATIC_STRIP=false \
	  $(CARGO) build --profile static $(STATIC_FEATURES) --locked --target-dir target/size-lines
	python3 tools/size-by-line.py target/size-lines/static/rot13d

clean:
	$(CARGO) clean
	rm -rf bench/target
