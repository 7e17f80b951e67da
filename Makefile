# rot13d — see README.md. `make` builds, `make test` runs every test against
# both builds (what .ci/run calls), `make bench` prints the benchmark table.

CARGO   ?= cargo
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=

RELEASE := target/release/rot13d
STATIC  := target/static/rot13d

.PHONY: all release static run test test-unit test-release test-static test-install lint-units size size-check size-lines trace bench bench-tools bench-smoke install uninstall clean

all: release

# The default build: no_std, panic=abort, linked to the system C library.
# tools/sstrip.py then drops the section headers, which only tools read
# (the kernel and the loader use the program headers): 1.5 KB of 13.6.
release:
	$(CARGO) build --release --locked
	python3 tools/sstrip.py $(RELEASE)

# The libc-free static build (x86_64): the same source with --features nolibc,
# in its own profile so it lands in target/static/ without clobbering release.
# Two code generation flags for this build only (cargo has no per-profile
# rustflags on stable):
# - relocation-model=static: the binary loads at a fixed address, so
#   addresses are 5-byte immediates (`mov $addr, %esi`) instead of 7-byte
#   RIP-relative `lea`s (-170 bytes);
# - inline-threshold=0: LLVM inlines only what costs nothing (or is called
#   once), where opt-level "z" would still copy small helpers into every
#   caller (-180 bytes); the ROT13 loop stays inlined (`make bench` checks).
STATIC_RUSTFLAGS := -C relocation-model=static -C llvm-args=-inline-threshold=0
static:
	RUSTFLAGS="$(STATIC_RUSTFLAGS)" $(CARGO) build --profile static --features nolibc --locked
	python3 tools/sstrip.py $(STATIC)

run: release
	$(RELEASE)

test: test-unit test-release test-static test-install lint-units size-check bench-smoke

test-unit:
	$(CARGO) test --locked --lib

test-release: release
	ROT13D_BIN=$(CURDIR)/$(RELEASE) $(CARGO) test --locked --test '*' -- --show-output

test-static: static
	ROT13D_BIN=$(CURDIR)/$(STATIC) $(CARGO) test --locked --test '*' -- --show-output

# `make install DESTDIR=...` into a scratch directory, checked file by file,
# then `make uninstall` from it.
test-install: release
	@d=$$(mktemp -d) && \
	$(MAKE) -s install DESTDIR=$$d PREFIX=/usr >/dev/null && \
	test -x $$d/usr/bin/rot13d && test -f $$d/usr/share/man/man8/rot13d.8 && \
	cmp -s $(RELEASE) $$d/usr/bin/rot13d && \
	$(MAKE) -s uninstall DESTDIR=$$d PREFIX=/usr >/dev/null && \
	test ! -e $$d/usr/bin/rot13d && test ! -e $$d/usr/share/man/man8/rot13d.8 && \
	rm -rf $$d && echo "install: 2 passed, 0 failed"

# The unit files, linted where systemd-analyze is installed.
lint-units:
	@if command -v systemd-analyze >/dev/null; then \
	  d=$$(mktemp -d); cp contrib/*.socket contrib/*.service $$d/; \
	  sed -i "s|/usr/local/bin/rot13d|$(CURDIR)/$(RELEASE)|" $$d/*.service; \
	  SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no $$d/rot13d.socket $$d/rot13d.service $$d/rot13d-inetd.socket \
	    && echo "unit files: verified"; s=$$?; rm -rf $$d; exit $$s; \
	else echo "NOTE: systemd-analyze not installed; unit files not linted"; fi

install: release
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(RELEASE) $(DESTDIR)$(BINDIR)/rot13d
	install -m 644 doc/rot13d.8 $(DESTDIR)$(MANDIR)/man8/rot13d.8

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/rot13d $(DESTDIR)$(MANDIR)/man8/rot13d.8

# A short session under strace -f: the process model as the kernel sees it.
trace: static
	@command -v strace >/dev/null || { echo "make trace needs strace"; exit 1; }
	@t=$$(mktemp); \
	strace -f -o $$t $(STATIC) -l 127.0.0.1 -p 0 2>$$t.err & s=$$!; \
	for i in 1 2 3 4 5 6 7 8 9 10; do grep -q listening $$t.err 2>/dev/null && break; sleep 0.1; done; \
	port=$$(sed -n 's/.*://p' $$t.err); \
	python3 -c "import socket;s=socket.create_connection(('127.0.0.1',$$port));s.sendall(b'Hello\\n');s.shutdown(1);print('client got:',s.recv(99))"; \
	sleep 0.2; kill -TERM $$(pgrep -P $$s) 2>/dev/null; wait $$s; \
	cat $$t; echo "syscalls from execve to the first accept: $$(awk '{print $$2}' $$t | sed -n '1,/^accept/p' | wc -l)"; \
	rm -f $$t $$t.err

# The size goals, so that a change that grows a build past them fails
# `make test` (the toolchain and every crate are pinned: sizes repeat).
size-check: release static
	@r=$$(stat -c %s $(RELEASE)); s=$$(stat -c %s $(STATIC)); \
	if [ $$r -le 12288 ] && [ $$s -le 8192 ]; then \
	  echo "size: make $$r bytes (goal 12288), make static $$s bytes (goal 8192): 2 passed, 0 failed"; \
	else echo "size: make $$r bytes (goal 12288), make static $$s bytes (goal 8192): FAILED"; exit 1; fi

size: release static bench/target/seed
	@printf '%-34s %8s\n' build bytes
	@printf '%-34s %8s   (goal 12288)\n' "rot13d, make (libc, dynamic)" $$(stat -c %s $(RELEASE))
	@printf '%-34s %8s   (goal 8192)\n' "rot13d, make static (no libc)" $$(stat -c %s $(STATIC))
	@printf '%-34s %8s\n' "seed, gcc -O2 (dynamic)" $$(stat -c %s bench/target/seed)
	@if command -v musl-gcc >/dev/null; then musl-gcc -O2 -static -w -o bench/target/seed-musl bench/seed.c && strip bench/target/seed-musl && \
	  printf '%-34s %8s\n' "seed, musl-gcc -static, stripped" $$(stat -c %s bench/target/seed-musl); fi

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

bench-tools:
	@if ! command -v musl-gcc >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  (apt-get install -y -qq musl-tools || (apt-get update -qq && apt-get install -y -qq musl-tools)) >/dev/null 2>&1 || true; fi

bench: release static bench-tools $(BENCH_C)
	@if command -v musl-gcc >/dev/null; then $(MAKE) -s bench/target/ref-musl; fi
	$(CARGO) run --locked --release -p rot13d-bench

# A seconds-long run of the same harness, so that it cannot rot (make test).
bench-smoke: release static $(BENCH_C)
	$(CARGO) run --locked --release -p rot13d-bench -- --smoke

# Where the static build's code bytes come from, per source file and line
# (a copy built with line tables, in its own directory).
size-lines:
	RUSTFLAGS="$(STATIC_RUSTFLAGS)" CARGO_PROFILE_STATIC_DEBUG=line-tables-only CARGO_PROFILE_STATIC_STRIP=false \
	  $(CARGO) build --profile static --features nolibc --locked --target-dir target/size-lines
	python3 tools/size-by-line.py target/size-lines/static/rot13d

clean:
	$(CARGO) clean
	rm -rf bench/target
