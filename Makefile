# rtpprobe — GNU make. `make demo` and `make check` are the two set-up commands.
# Plain `make` builds both programs (otherwise the first rule the flavour macro
# defines below would be the default goal).
.DEFAULT_GOAL := all
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
SBINDIR  = $(PREFIX)/sbin
MANDIR   = $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d

CC      ?= cc
PKGS     = libevent libevent_openssl openssl libsrtp2 libconfig opus jansson libcurl
VERSION  = 0.1.0

WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wcast-qual -Wsign-compare -Wpointer-arith -Wformat=2 -Wundef \
           -Wvla -Wnull-dereference -Wimplicit-fallthrough
BASEFLAGS = -std=c11 -D_GNU_SOURCE -DRP_VERSION=\"$(VERSION)\" -iquote include $(WARN)
OPT     ?= -O2 -g
# float-cast-overflow: a number from the network cast to an integer type it does
# not fit is undefined behaviour; -fsanitize=undefined leaves it out.
SAN      = -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all -fno-omit-frame-pointer

# LIBSRTP2_PREFIX=<dir>: link the static libsrtp2 that `make srtp-openssl` builds
# there (OpenSSL crypto; docs/srtp-crypto.md) instead of the system's. Empty: the
# system's libsrtp2, as before. The choice is recorded in build/.libsrtp2-prefix,
# which every object depends on, so changing it rebuilds without `make clean`.
LIBSRTP2_PREFIX ?=
SRTP_STAMP = build/.libsrtp2-prefix
PKG_CONFIG_RUN = pkg-config
ifneq ($(LIBSRTP2_PREFIX),)
override LIBSRTP2_PREFIX := $(abspath $(LIBSRTP2_PREFIX))
PKG_CONFIG_RUN = PKG_CONFIG_PATH='$(LIBSRTP2_PREFIX)/lib/pkgconfig'$${PKG_CONFIG_PATH:+:$$PKG_CONFIG_PATH} pkg-config
# A static libsrtp2 needs its own libraries (-lcrypto) after it on the line.
SRTP_STATIC_LIBS = $(shell $(PKG_CONFIG_RUN) --static --libs libsrtp2 2>/dev/null)
ifeq ($(filter srtp-openssl clean,$(MAKECMDGOALS)),)
ifeq ($(wildcard $(LIBSRTP2_PREFIX)/lib/pkgconfig/libsrtp2.pc),)
$(error LIBSRTP2_PREFIX=$(LIBSRTP2_PREFIX) has no lib/pkgconfig/libsrtp2.pc: run make srtp-openssl LIBSRTP2_PREFIX=$(LIBSRTP2_PREFIX) first)
endif
endif
endif
$(shell mkdir -p build && { [ -f $(SRTP_STAMP) ] && [ "$$(cat $(SRTP_STAMP))" = '$(LIBSRTP2_PREFIX)' ] || \
    printf '%s\n' '$(LIBSRTP2_PREFIX)' > $(SRTP_STAMP); })

# pkg-config is evaluated lazily so that `make deps` works before the libraries exist.
PKG_CFLAGS = $(shell $(PKG_CONFIG_RUN) --cflags $(PKGS) 2>/dev/null)
# --as-needed: the daemon does not link libcurl (only the probe's client uses it).
PKG_LIBS   = -Wl,--as-needed $(shell $(PKG_CONFIG_RUN) --libs $(PKGS) 2>/dev/null)$(if $(SRTP_STATIC_LIBS), $(SRTP_STATIC_LIBS)) -lanl -lm
CMOCKA_LIBS = $(shell pkg-config --libs cmocka 2>/dev/null)

MAINS    = src/rtpprobed.c src/rtpprobe.c
LIB_SRCS = $(filter-out $(MAINS),$(sort $(wildcard src/*.c)))
UNIT_SRCS = $(sort $(wildcard tests/unit/test_*.c))

# The browser pre-call page (web/), one document with its style and script inline
# and its CSP with their hashes, as C data (scripts/embed-precall, include/precall.h).
PRECALL_WEB = web/precall.html web/precall.css web/precall.js
PRECALL_GEN = build/gen/precall_page.c
$(PRECALL_GEN): $(PRECALL_WEB) scripts/embed-precall
	scripts/embed-precall web $@

# Two build flavours: plain (build/) and ASan+UBSan (build/asan/).
define flavour
$(1)_OBJS  = $$(patsubst src/%.c,$(2)/obj/%.o,$$(LIB_SRCS)) $(2)/obj/precall_page.o
$(1)_LIB   = $(2)/librtpprobe.a
$(1)_BINS  = $(2)/rtpprobed $(2)/rtpprobe
$(1)_TESTS = $$(patsubst tests/unit/%.c,$(2)/tests/%,$$(UNIT_SRCS))

$(2)/obj/%.o: src/%.c $$(wildcard include/*.h) $$(SRTP_STAMP) | $(2)/obj
	$$(CC) $$(BASEFLAGS) $(3) $$(PKG_CFLAGS) -c $$< -o $$@
$(2)/obj/precall_page.o: $$(PRECALL_GEN) include/precall.h $$(SRTP_STAMP) | $(2)/obj
	$$(CC) $$(BASEFLAGS) $(3) -c $$< -o $$@
$(2)/obj/main_%.o: src/%.c $$(wildcard include/*.h) $$(SRTP_STAMP) | $(2)/obj
	$$(CC) $$(BASEFLAGS) $(3) $$(PKG_CFLAGS) -c $$< -o $$@
$$($(1)_LIB): $$($(1)_OBJS)
	rm -f $$@ && ar rcs $$@ $$^
$(2)/rtpprobed: $(2)/obj/main_rtpprobed.o $$($(1)_LIB)
	$$(CC) $(3) $$^ $$(PKG_LIBS) -o $$@
$(2)/rtpprobe: $(2)/obj/main_rtpprobe.o $$($(1)_LIB)
	$$(CC) $(3) $$^ $$(PKG_LIBS) -o $$@
$(2)/tests/%: tests/unit/%.c $$($(1)_LIB) $$(wildcard include/*.h tests/unit/*.h) | $(2)/tests
	$$(CC) $$(BASEFLAGS) -Wno-missing-prototypes $(3) $$(PKG_CFLAGS) $$< $$($(1)_LIB) $$(PKG_LIBS) $$(CMOCKA_LIBS) -o $$@
$(2)/obj $(2)/tests:
	mkdir -p $$@
endef

TOOL_SRCS = $(sort $(wildcard tests/tools/*.c tests/hostile/*.c))
TOOLS     = $(addprefix build/tools/,$(basename $(notdir $(TOOL_SRCS))))

# libFuzzer targets: clang, the library built with fuzzer instrumentation.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SRCS     = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZERS       = $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
FUZZ_OBJS     = $(patsubst src/%.c,build/fuzz/obj/%.o,$(LIB_SRCS)) build/fuzz/obj/precall_page.o

$(eval $(call flavour,PLAIN,build,$(OPT)))
$(eval $(call flavour,ASAN,build/asan,-O1 -g $(SAN)))

.PHONY: all default-goal links srtp-openssl deps test-deps check unit unit-asan integration hostile net monitoring webrtc bench bench-capacity fuzz fuzz-build systemd-verify demo install clean
all: $(PLAIN_BINS)

deps:
	scripts/install-deps
# make check: plain `make` must stay `make all` (make -p prints the default goal).
default-goal:
	@$(MAKE) -pnq -f $(firstword $(MAKEFILE_LIST)) all 2>/dev/null | grep -qx '.DEFAULT_GOAL := all' || \
	    { echo "Makefile: the default goal is not 'all'"; exit 1; }
# libsrtp2 with OpenSSL crypto, static, in build/libsrtp2-openssl or LIBSRTP2_PREFIX
# (docs/srtp-crypto.md); then build with make LIBSRTP2_PREFIX=build/libsrtp2-openssl.
srtp-openssl:
	scripts/build-libsrtp2-openssl $(LIBSRTP2_PREFIX)
test-deps:
	scripts/install-deps --test

# check: unit tests (plain and sanitized), then integration on loopback with the
# sanitized daemon and probe, then the unit file.
check: test-deps default-goal
	$(MAKE) all $(PLAIN_TESTS) $(ASAN_BINS) $(ASAN_TESTS) $(TOOLS)
	$(MAKE) links unit unit-asan integration hostile net monitoring webrtc systemd-verify rpm-check
	$(MAKE) fuzz FUZZ_SECONDS=30

unit: $(PLAIN_TESTS)
	@set -e; for t in $^; do echo "== $$t"; $$t; done
unit-asan: $(ASAN_TESTS)
	@set -e; for t in $^; do echo "== $$t (asan+ubsan)"; $$t; done
integration: $(ASAN_BINS) build/tools/pagetool
	BIN=build/asan tests/integration/run.sh
	BIN=build/asan tests/integration/portcheck.sh
	BIN=build/asan TOOLS=build/tools tests/integration/page-token-mint.sh
	TOOLS=build/tools tests/integration/turn-rest.sh
# Hostile input against the sanitized daemon: bad requests, TLS versions,
# fail2ban, amplification, slow clients, limits.
hostile: $(ASAN_BINS) $(TOOLS)
	BIN=build/asan TOOLS=build/tools tests/hostile/run.sh

# Monitoring (docs/monitoring.md): /metrics and promtool during a probe run,
# textfile and push, Nagios thresholds, alert rules, the HTML report in Chromium.
monitoring: $(ASAN_BINS) $(TOOLS)
	BIN=build/asan TOOLS=build/tools tests/monitoring/run.sh

# The browser pre-call page (docs/webrtc.md) in headless Chromium against the
# sanitized daemon: loopback, hostile input, and the namespace network.
webrtc: $(ASAN_BINS) $(TOOLS)
	BIN=build/asan TOOLS=build/tools tests/webrtc/run.sh

# Network-namespace scenarios (root only; skipped with the reason otherwise).
net: all $(TOOLS)
	BIN=build tests/net/run.sh
	BIN=build tests/net/turn-run.sh

# Performance, as ratios measured in one run; not part of check.
# BENCH_MODE=clock (default): the media clock under a control-plane flood
# (tests/bench/run.sh; BENCH_BASELINE=<git rev> measures that revision alongside).
# BENCH_MODE=capacity (or make bench-capacity): N sessions against a bare echo
# (tests/bench/capacity.sh, docs/bench.md). BENCH_MODE=all: both.
BENCH_MODE ?= clock
bench: all $(TOOLS)
	@case "$(BENCH_MODE)" in clock|capacity|all) ;; *) echo "BENCH_MODE must be clock, capacity or all"; exit 2;; esac
	@if [ "$(BENCH_MODE)" != capacity ]; then BIN=build TOOLS=build/tools tests/bench/run.sh; fi
	@if [ "$(BENCH_MODE)" != clock ]; then BIN=build TOOLS=build/tools tests/bench/capacity.sh; fi
bench-capacity: all build/tools/loadgen build/tools/bareecho
	BIN=build TOOLS=build/tools tests/bench/capacity.sh

build/tools/%: tests/tools/%.c $(PLAIN_LIB) | build/tools
	$(CC) $(BASEFLAGS) $(OPT) $(PKG_CFLAGS) $< $(PLAIN_LIB) $(PKG_LIBS) -o $@
build/tools/%: tests/hostile/%.c tests/hostile/tconn.h tests/hostile/udpsock.h $(PLAIN_LIB) | build/tools
	$(CC) $(BASEFLAGS) $(OPT) $(PKG_CFLAGS) $< $(PLAIN_LIB) $(PKG_LIBS) -o $@

# make fuzz [FUZZ_SECONDS=N]: every target for N seconds from its seed corpus
# (tests/fuzz/corpus/<target>/); new inputs go to build/fuzz/corpus-<target>/.
fuzz-build: $(FUZZERS)
fuzz: $(FUZZERS)
	@set -e; for f in $(FUZZERS); do t=$$(basename $$f); \
	    rm -f build/fuzz/$$t-*; mkdir -p build/fuzz/corpus-$$t; \
	    if ls tests/fuzz/regressions/$$t/* >/dev/null 2>&1; then \
	        echo "== $$t: replaying tests/fuzz/regressions/$$t"; $$f tests/fuzz/regressions/$$t/* > build/fuzz/$$t.log 2>&1 || \
	            { tail -40 build/fuzz/$$t.log; exit 1; }; \
	    fi; \
	    echo "== $$t for $(FUZZ_SECONDS) s"; \
	    if ! $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=build/fuzz/$$t- \
	            build/fuzz/corpus-$$t tests/fuzz/corpus/$$t > build/fuzz/$$t.log 2>&1; then \
	        tail -40 build/fuzz/$$t.log; echo "fuzz: $$t failed (artifacts: build/fuzz/$$t-*)"; exit 1; \
	    fi; \
	    grep -E '^stat::number_of_executed_units|^Done' build/fuzz/$$t.log || true; \
	done
build/fuzz/obj/%.o: src/%.c $(wildcard include/*.h) $(SRTP_STAMP) | build/fuzz/obj
	$(FUZZ_CC) $(BASEFLAGS) -g -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN) $(PKG_CFLAGS) -c $< -o $@
build/fuzz/obj/precall_page.o: $(PRECALL_GEN) include/precall.h $(SRTP_STAMP) | build/fuzz/obj
	$(FUZZ_CC) $(BASEFLAGS) -g -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c $< -o $@
build/fuzz/%: tests/fuzz/%.c $(wildcard tests/fuzz/*.h) $(FUZZ_OBJS) | build/fuzz/obj
	$(FUZZ_CC) $(BASEFLAGS) -Wno-missing-prototypes -g -O1 -fsanitize=fuzzer $(FUZZ_SAN) $(PKG_CFLAGS) $< $(FUZZ_OBJS) $(PKG_LIBS) -o $@
build/fuzz/obj:
	mkdir -p $@
# Keep the instrumented objects between runs (they are not intermediate files).
.SECONDARY: $(FUZZ_OBJS)
build/tools:
	mkdir -p $@

systemd-verify:
	tests/integration/systemd-verify.sh systemd/rtpprobed.service systemd/rtpprobe-monitor@.service \
	    systemd/rtpprobe-monitor@.timer

# Every relative link and #anchor in the *.md files resolves (docs/testing.md).
links:
	scripts/check-links

demo: deps
	$(MAKE) all
	scripts/demo

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SYSCONFDIR)/rtpprobe $(DESTDIR)$(UNITDIR)
	install -m 0755 build/rtpprobe $(DESTDIR)$(BINDIR)/rtpprobe
	install -m 0755 build/rtpprobed $(DESTDIR)$(SBINDIR)/rtpprobed
	install -m 0644 docs/rtpprobe.1 $(DESTDIR)$(MANDIR)/man1/rtpprobe.1
	install -m 0644 docs/rtpprobed.8 $(DESTDIR)$(MANDIR)/man8/rtpprobed.8
	[ -e $(DESTDIR)$(SYSCONFDIR)/rtpprobe/rtpprobed.conf ] || \
	    install -m 0640 conf/rtpprobed.conf $(DESTDIR)$(SYSCONFDIR)/rtpprobe/rtpprobed.conf
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' systemd/rtpprobed.service \
	    > $(DESTDIR)$(UNITDIR)/rtpprobed.service
	# The probe on a timer (docs/monitoring.md); instances read /etc/rtpprobe/monitor-NAME.env.
	sed 's|@BINDIR@|$(BINDIR)|g; s|@SYSCONFDIR@|$(SYSCONFDIR)|g' systemd/rtpprobe-monitor@.service \
	    > $(DESTDIR)$(UNITDIR)/rtpprobe-monitor@.service
	install -m 0644 systemd/rtpprobe-monitor@.timer $(DESTDIR)$(UNITDIR)/rtpprobe-monitor@.timer
	install -d $(DESTDIR)$(SYSUSERSDIR)
	printf 'g rtpprobe -\n' > $(DESTDIR)$(SYSUSERSDIR)/rtpprobe.conf
	# On the real system (not a package staging DESTDIR): the group the unit
	# reads its config through (see systemd/rtpprobed.service).
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then \
	    if command -v systemd-sysusers >/dev/null; then systemd-sysusers $(SYSUSERSDIR)/rtpprobe.conf; \
	    else getent group rtpprobe >/dev/null || groupadd --system rtpprobe; fi; \
	    chgrp rtpprobe $(SYSCONFDIR)/rtpprobe $(SYSCONFDIR)/rtpprobe/rtpprobed.conf; \
	    chmod 0750 $(SYSCONFDIR)/rtpprobe; \
	fi

# Keeps build/libsrtp2-openssl (a library, not rtpprobe's output; rm -rf it to rebuild).
clean:
	if [ -d build ]; then find build -mindepth 1 -maxdepth 1 ! -name libsrtp2-openssl -exec rm -rf {} +; fi

# Packages (docs/packaging.md).
# make dist: build/rtpprobe-$(VERSION).tar.gz, the files git tracks as they are in
#   the tree (not a stray token or key; outside git: all but build/ and run/).
# make rpm: rpm/rtpprobe.spec built into build/rpm/RPMS/<arch>/; RPMBUILD_FLAGS=--nodeps
#   where the build dependencies have other names (Debian).
# make rpm-check (in make check): make rpm, then rpmlint and the package's contents
#   (tests/pkg/check-rpm.sh), then install-deps' package lists.
DIST_TAR       = build/rtpprobe-$(VERSION).tar.gz
RPM_TOP        = $(CURDIR)/build/rpm
RPMBUILD_FLAGS ?=
# Without dnf or yum the rpm database knows no build dependency: only --nodeps.
RPM_CHECK_FLAGS ?= $(if $(wildcard /usr/bin/dnf /usr/bin/yum),,--nodeps)
# Debian's rpm lacks EL's systemd macros (and more): rpm/macros.debian, only there.
RPM_MACROS     = $(if $(shell rpm --eval '%{?systemd_post:y}' 2>/dev/null),,--load $(CURDIR)/rpm/macros.debian)
.PHONY: dist rpm rpm-check
dist:
	mkdir -p build && rm -f $(DIST_TAR)
	{ if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then git ls-files -z; \
	  else find . \( -path ./build -o -path ./run \) -prune -o -type f -printf '%P\0'; fi; } | \
	tar --create --gzip --file $(DIST_TAR) --null --files-from=- --sort=name \
	    --owner=0 --group=0 --numeric-owner --transform 's|^|rtpprobe-$(VERSION)/|S'
# MAKEFLAGS unset: this make's variables and jobserver stay out of the package build.
rpm: dist
	mkdir -p $(RPM_TOP)/SOURCES
	cp $(DIST_TAR) systemd/rtpprobe.sysusers $(RPM_TOP)/SOURCES/
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL rpmbuild -bb $(RPMBUILD_FLAGS) $(RPM_MACROS) \
	    --define '_topdir $(RPM_TOP)' rpm/rtpprobe.spec
rpm-check:
	$(MAKE) rpm RPMBUILD_FLAGS='$(RPM_CHECK_FLAGS)'
	RPM_TOP=$(RPM_TOP) RPM_MACROS='$(RPM_MACROS)' tests/pkg/check-rpm.sh
	tests/pkg/check-install-deps.sh
