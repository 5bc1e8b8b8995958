# stratsim - build, test, install.
#
# Targets:
#   all (default)  build $(BUILD)/stratsim and $(BUILD)/libstratsim.a
#   run            install missing dependencies, build, run the flagship scenario
#   test (check)   unit tests (cmocka), scenario and CLI tests
#   asan           the whole test suite under AddressSanitizer + UBSan (build-asan/)
#   install        install binary, headers, library and docs under $(DESTDIR)$(PREFIX)
#   clean          remove the build directories
#   echo           print the effective flags
#   deps           check the build dependencies (install them when root)
#
# Options (make VAR=value):
#   BUILD=dir        build directory (default build, build-asan for asan)
#   SANITIZE=list    e.g. address,undefined: adds -fsanitize=... everywhere
#   PREFIX, DESTDIR  install locations (default /usr/local)
#   LUA_PC           pkg-config name of Lua 5.4 (default lua5.4)
#   V=1              show full command lines
#   FLAGSHIP         scenario run by `make run`

PKG_CONFIG ?= pkg-config
LUA_PC     ?= lua5.4
PKGS       := gsl libcjson $(LUA_PC)
TEST_PKGS  := cmocka
BUILD      ?= build
PREFIX     ?= /usr/local
VERSION    := 0.1.0
FLAGSHIP   ?= scenarios/ai_public_first.lua

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wpointer-arith -Wformat=2 -Wundef -Wwrite-strings
PC_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PC_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
EDIT_CFLAGS := $(shell $(PKG_CONFIG) --cflags libedit 2>/dev/null)
EDIT_LIBS   := $(shell $(PKG_CONFIG) --libs libedit 2>/dev/null)
ifneq ($(EDIT_LIBS),)
EDIT_DEF := -DSS_HAVE_LIBEDIT=1
endif
TEST_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS   := $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)

ALL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) $(CFLAGS) \
              -Iinclude -Isrc $(PC_CFLAGS) $(EDIT_CFLAGS) $(EDIT_DEF) \
              -DSS_VERSION='"$(VERSION)"'
ALL_LDFLAGS := $(LDFLAGS)
LIBS := $(PC_LIBS) $(EDIT_LIBS) -lpthread -lm

ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
ALL_CFLAGS += $(SAN_FLAGS)
ALL_LDFLAGS += $(SAN_FLAGS)
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

CORE_SRC := $(sort $(wildcard src/core/*.c))
LUA_SRC  := $(sort $(wildcard src/lua/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
LUA_OBJ  := $(LUA_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
LIB      := $(BUILD)/libstratsim.a
BIN      := $(BUILD)/stratsim

.PHONY: all run test check asan install clean echo deps unit clitest
all: $(BIN) $(LIB)

# Rebuild everything when the flags change (git's GIT-CFLAGS idea).
$(BUILD)/cflags.stamp: FORCE | $(BUILD)
	$(Q)echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIBS)' > $@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
FORCE:

$(BUILD):
	$(Q)mkdir -p $(BUILD)

$(BUILD)/%.o: %.c $(BUILD)/cflags.stamp
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  CC      $<')
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%.o: tests/unit/%.c $(BUILD)/cflags.stamp
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  CC      $<')
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(CORE_OBJ)
	@$(if $(Q),echo '  AR      $@')
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LUA_OBJ) $(LIB)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LUA_OBJ) $(LIB) $(LIBS)

# Tests of the Lua layer (test_lua_*) link its objects; the others only the core.
$(BUILD)/tests/test_lua_%: $(BUILD)/tests/test_lua_%.o $(LUA_OBJ) $(LIB)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LUA_OBJ) $(LIB) $(LIBS) $(TEST_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIB)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS) $(TEST_LIBS)

-include $(CORE_OBJ:.o=.d) $(LUA_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_BIN:%=%.d)

deps:
	$(Q)scripts/install-deps.sh --check-or-install

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)mkdir -p out
	$(Q)$(BIN) run $(FLAGSHIP)
	$(Q)$(BIN) run $(FLAGSHIP) -o out/ai_public_first.csv >/dev/null && \
	  echo "CSV written to out/ai_public_first.csv (sidecar out/ai_public_first.csv.json)"

unit: $(TEST_BIN)
	$(Q)fail=0; for t in $(TEST_BIN); do \
	  $$t || fail=1; done; test $$fail = 0

clitest: $(BIN)
	$(Q)STRATSIM=$(abspath $(BIN)) tests/run_cli_tests.sh

test: deps
	$(Q)$(MAKE) --no-print-directory all $(TEST_BIN)
	$(Q)$(MAKE) --no-print-directory unit clitest
check: test

asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan \
	  SANITIZE=address,undefined,float-divide-by-zero CFLAGS='-O1 -g' test

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	  $(DESTDIR)$(PREFIX)/include/stratsim $(DESTDIR)$(PREFIX)/share/doc/stratsim \
	  $(DESTDIR)$(PREFIX)/share/stratsim/scenarios
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/stratsim
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libstratsim.a
	install -m 644 include/stratsim.h $(DESTDIR)$(PREFIX)/include/stratsim.h
	install -m 644 include/stratsim/*.h $(DESTDIR)$(PREFIX)/include/stratsim/
	install -m 644 README.md docs/*.md $(DESTDIR)$(PREFIX)/share/doc/stratsim/
	install -m 644 scenarios/*.lua $(DESTDIR)$(PREFIX)/share/stratsim/scenarios/
	if [ -f docs/stratsim.1 ]; then install -d $(DESTDIR)$(PREFIX)/share/man/man1 && \
	  install -m 644 docs/stratsim.1 $(DESTDIR)$(PREFIX)/share/man/man1/; fi

clean:
	rm -rf build build-* out

echo:
	@echo 'CC      = $(CC)'
	@echo 'CFLAGS  = $(ALL_CFLAGS)'
	@echo 'LDFLAGS = $(ALL_LDFLAGS)'
	@echo 'LIBS    = $(LIBS)'
