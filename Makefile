# rot13d — see README.md. `make` builds, `make test` runs every test against
# both builds (what .ci/run calls), `make bench` prints the benchmark table.

CARGO   ?= cargo
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=

RELEASE := target/release/rot13d
STATIC  := target/static/rot13d

.PHONY: all release static run test test-unit test-release test-static size trace bench install uninstall clean

all: release

# The default build: no_std, panic=abort, linked to the system C library.
release:
	$(CARGO) build --release --locked

# The libc-free static build (x86_64): the same source with --features nolibc,
# in its own profile so it lands in target/static/ without clobbering release.
static:
	$(CARGO) build --profile static --features nolibc --locked

run: release
	$(RELEASE)

test: test-unit test-release test-static

test-unit:
	$(CARGO) test --locked --lib

test-release: release
	ROT13D_BIN=$(CURDIR)/$(RELEASE) $(CARGO) test --locked --test '*'

test-static: static
	ROT13D_BIN=$(CURDIR)/$(STATIC) $(CARGO) test --locked --test '*'

size: release static
	@printf '%-28s %8s\n' build bytes
	@printf '%-28s %8s\n' "rot13d (libc, dynamic)" $$(stat -c %s $(RELEASE))
	@printf '%-28s %8s\n' "rot13d (nolibc, static)" $$(stat -c %s $(STATIC))

clean:
	$(CARGO) clean
