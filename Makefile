# iscsi-sparse-proxy build.
#   make            the daemon (build/iscsi-sparse-proxy)
#   make check      unit + integration tests, plain and under ASan/UBSan
#   make fuzz       libFuzzer targets (clang), each run for FUZZ_SECONDS
#   make demo       a local tgtd with a thin LUN and the proxy in front of it
#   make bench      proxy vs direct throughput ratios
#   make soak       64 sessions for SOAK_SECONDS (600) through the proxy with a SAN
#                   restart halfway, then directly: RSS, fds, CPU, p99 latency
#   make install    PREFIX / DESTDIR honoured

PREFIX     ?= /usr/local
DESTDIR    ?=
CC         ?= cc
OPT        ?= -O2 -g
FUZZ_SECONDS ?= 30

PKGS       := libevent libevent_openssl libiscsi libssl libcrypto inih libisal jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN   := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
          -Wmissing-prototypes -Wformat=2 -Wvla
# proxy/ is grouped by layer: protocol/ (iSCSI wire and login, pure), cache/
# (the allocation cache and SCSI task policy, pure), util/ (pure helpers) and
# daemon/ (sockets, the event loop, libiscsi).  scsi/ and conf/ are pure.
SRC_DIRS   := proxy/protocol proxy/cache proxy/util proxy/daemon scsi conf
INCLUDES   := -I. $(addprefix -I,$(SRC_DIRS))
# Pure code links without libevent and libiscsi (libcrypto: CHAP digests).
PURE_LIBS  := $(shell pkg-config --libs inih libisal libcrypto 2>/dev/null)
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(WARN) $(OPT) $(INCLUDES) $(PKG_CFLAGS) $(CFLAGS)
SAN    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Files that use sockets or the event loop are in proxy/daemon/; everything
# else is pure and is linked into unit tests and fuzzers.
MAIN_SRC    := proxy/daemon/main.c
DAEMON_SRCS := $(filter-out $(MAIN_SRC),$(wildcard proxy/daemon/*.c))
# The dashboard page, embedded into the daemon (xxd -i).
GEN_SRCS    := build/gen/dashboard_html.c
PURE_SRCS   := $(wildcard proxy/protocol/*.c proxy/cache/*.c proxy/util/*.c scsi/*.c conf/*.c)
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
HDRS        := $(wildcard $(addsuffix /*.h,$(SRC_DIRS)) tests/unit/*.h)

BIN := build/iscsi-sparse-proxy

# Recursive makes stay quiet, so a run ends with its test summary line.
MAKEFLAGS += --no-print-directory

.PHONY: all check unit unit-san conf-golden integration integration-san fuzz demo bench soak \
        install install-check deps clean lint
all: $(BIN)

# Keep object files make would treat as intermediates (unit test objects).
.SECONDARY:

# ---- objects: build/<variant>/<path>.o --------------------------------------
build/plain/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@
build/san/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(SAN) -c $< -o $@

objs = $(patsubst %.c,build/$(1)/%.o,$(2))

build/gen/dashboard_html.c: proxy/daemon/dashboard.html
	@mkdir -p $(dir $@)
	xxd -i -n dashboard_html $< > $@
build/plain/build/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) -c $< -o $@
build/san/build/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) -c $< -o $@

$(BIN): $(call objs,plain,$(MAIN_SRC) $(DAEMON_SRCS) $(PURE_SRCS) $(GEN_SRCS))
	$(CC) $(OPT) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)
build/iscsi-sparse-proxy-san: $(call objs,san,$(MAIN_SRC) $(DAEMON_SRCS) $(PURE_SRCS) $(GEN_SRCS))
	$(CC) $(OPT) $(SAN) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

# ---- unit tests (cmocka): each tests/unit/test_X.c is one binary -------------
UNIT_PLAIN := $(patsubst tests/unit/%.c,build/plain/unit/%,$(UNIT_SRCS))
UNIT_SAN   := $(patsubst tests/unit/%.c,build/san/unit/%,$(UNIT_SRCS))
build/plain/unit/%: build/plain/tests/unit/%.o $(call objs,plain,$(PURE_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(OPT) -o $@ $^ -lcmocka $(PURE_LIBS)
build/san/unit/%: build/san/tests/unit/%.o $(call objs,san,$(PURE_SRCS))
	@mkdir -p $(dir $@)
	$(CC) $(OPT) $(SAN) -o $@ $^ -lcmocka $(PURE_LIBS)

unit: $(UNIT_PLAIN)
	@tests/run-unit.sh $(UNIT_PLAIN)
unit-san: $(UNIT_SAN)
	@tests/run-unit.sh $(UNIT_SAN)

conf-golden: $(BIN)
	tests/conf/run.sh $(BIN)
integration: $(BIN)
	tests/integration/run.sh $(BIN)
integration-san: build/iscsi-sparse-proxy-san
	tests/integration/run.sh build/iscsi-sparse-proxy-san

check: deps
	$(MAKE) $(BIN) build/iscsi-sparse-proxy-san
	$(MAKE) lint unit unit-san conf-golden install-check
	$(MAKE) integration-san
	$(MAKE) integration

# ---- fuzzing (libFuzzer, clang) ---------------------------------------------
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
build/fuzz/%: tests/fuzz/%.c $(PURE_SRCS) $(HDRS) $(wildcard tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -g -O1 $(INCLUDES) -Itests/fuzz $(PKG_CFLAGS) \
	  -fsanitize=fuzzer,address,undefined -o $@ $< $(PURE_SRCS) $(PURE_LIBS)
fuzz: deps $(FUZZ_BINS)
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

# ---- the rest -----------------------------------------------------------------
deps:
	@tests/deps.sh
lint:
	@tests/lint.sh
demo: deps $(BIN)
	tests/demo.sh $(BIN)
# make bench part 5: the CPU cost of learning zeros from READ data.
build/zero_scan_bench: build/plain/tests/bench/zero_scan.o $(call objs,plain,$(PURE_SRCS))
	$(CC) $(OPT) -o $@ $^ $(PURE_LIBS)
bench: deps $(BIN) build/zero_scan_bench
	tests/bench/bench.sh $(BIN)
soak: deps $(BIN)
	tests/soak/soak.sh $(BIN)

SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
CONFDIR    ?= /etc/iscsi-sparse-proxy

# The binary, a hardened systemd unit, its dedicated user (sysusers.d), the
# man pages, and the example configuration (0640) and auth_file (0600, CHAP
# secrets), given to the service's user when it exists (existing ones are kept).
SERVICE_USER ?= iscsi-sparse-proxy
OWNER = $(if $(DESTDIR),,$(shell id -u $(SERVICE_USER) >/dev/null 2>&1 && echo yes))
install: $(BIN)
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/iscsi-sparse-proxy
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|g' dist/iscsi-sparse-proxy.service \
	  > $(DESTDIR)$(UNITDIR)/iscsi-sparse-proxy.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/iscsi-sparse-proxy.service
	install -D -m 0644 dist/iscsi-sparse-proxy.sysusers \
	  $(DESTDIR)$(SYSUSERSDIR)/iscsi-sparse-proxy.conf
	install -D -m 0644 dist/iscsi-sparse-proxy.8 $(DESTDIR)$(MANDIR)/man8/iscsi-sparse-proxy.8
	install -D -m 0644 dist/iscsi-sparse-proxy.conf.5 \
	  $(DESTDIR)$(MANDIR)/man5/iscsi-sparse-proxy.conf.5
	test -e $(DESTDIR)$(CONFDIR)/iscsi-sparse-proxy.conf || \
	  install -D -m 0640 $(if $(OWNER),-g $(SERVICE_USER)) iscsi-sparse-proxy.conf \
	    $(DESTDIR)$(CONFDIR)/iscsi-sparse-proxy.conf
	test -e $(DESTDIR)$(CONFDIR)/iscsi-sparse-proxy.auth || \
	  install -D -m 0600 $(if $(OWNER),-o $(SERVICE_USER) -g $(SERVICE_USER)) \
	    dist/iscsi-sparse-proxy.auth $(DESTDIR)$(CONFDIR)/iscsi-sparse-proxy.auth
install-check: $(BIN)
	tests/install/run.sh

clean:
	rm -rf build
