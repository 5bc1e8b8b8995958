# stratsim - build, test, install.
#
# Targets:
#   all (default)  build $(BUILD)/stratsim, $(BUILD)/libstratsim.a and the Lua
#                  module $(BUILD)/stratsim.so (require "stratsim")
#   run            install missing dependencies, build, run the flagship scenario
#   tour           the guided tour of the bundled story (writes out/tour/)
#   test (check)   unit tests (cmocka), scenario and CLI tests, doc tests
#   doctest        run the marked examples of README.md and docs/*.md and compare
#                  their output (scripts/doctest.py; docs/doctest.md)
#   doc-update     rewrite those examples' shown output from the real output
#   asan           the whole test suite under AddressSanitizer + UBSan (build-asan/)
#   tsan           the threaded Monte Carlo and sweep unit tests under ThreadSanitizer (build-tsan/)
#   valgrind       unit tests + one scenario run under valgrind memcheck (zero errors/leaks)
#   fuzz           each libFuzzer harness of tests/fuzz/ for FUZZ_SECONDS (build-fuzz/, clang)
#   bench          the benchmark suite and its table (tests/bench/, docs/performance.md); not part of test
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
#   FUZZ_SECONDS     seconds per harness for `make fuzz` (default 60); FUZZ_CC (clang-14)
#   REPL=libedit|none  line editing, history and Tab completion of `stratsim
#                    repl` (default libedit when pkg-config finds it; none:
#                    plain prompts, no history file)
#   SLEEF=sleef|none  vectorised exp/log/pow for the batched Monte Carlo engine
#                    (default sleef when pkg-config finds libsleef-dev)

PKG_CONFIG ?= pkg-config
LUA_PC     ?= lua5.4
PKGS       := gsl libcjson $(LUA_PC) xlsxwriter
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
REPL ?= $(if $(shell $(PKG_CONFIG) --exists libedit 2>/dev/null && echo y),libedit,none)
ifeq ($(REPL),libedit)
EDIT_CFLAGS := $(shell $(PKG_CONFIG) --cflags libedit 2>/dev/null)
EDIT_LIBS   := $(shell $(PKG_CONFIG) --libs libedit 2>/dev/null)
ifeq ($(EDIT_LIBS),)
$(error REPL=libedit: pkg-config finds no libedit (install libedit-dev, or make REPL=none))
endif
EDIT_DEF := -DSS_HAVE_LIBEDIT=1
else ifneq ($(REPL),none)
$(error REPL must be libedit or none, not '$(REPL)')
endif
# MPI scale-out (docs/scale-out.md): the stratsim binary links Open MPI when
# pkg-config finds ompi-c (MPI=openmpi) and initialises it only when started
# by an MPI launcher; MPI=none builds without it.
MPI ?= $(if $(shell $(PKG_CONFIG) --exists ompi-c 2>/dev/null && echo y),openmpi,none)
ifeq ($(MPI),openmpi)
MPI_CFLAGS := $(shell $(PKG_CONFIG) --cflags ompi-c 2>/dev/null) -DSS_HAVE_MPI=1
MPI_LIBS   := $(shell $(PKG_CONFIG) --libs ompi-c 2>/dev/null)
ifeq ($(MPI_LIBS),)
$(error MPI=openmpi: pkg-config finds no ompi-c (install libopenmpi-dev, or make MPI=none))
endif
else ifneq ($(MPI),none)
$(error MPI must be openmpi or none, not '$(MPI)')
endif
# SLEEF (libsleef-dev): vectorised exp/log/pow of the batched Monte Carlo
# engine (src/core/batch.c); without it (SLEEF=none) batch_vec.c calls libm.
SLEEF ?= $(if $(shell $(PKG_CONFIG) --exists sleef 2>/dev/null && echo y),sleef,none)
ifeq ($(SLEEF),sleef)
SLEEF_CFLAGS := $(shell $(PKG_CONFIG) --cflags sleef 2>/dev/null) -DSS_HAVE_SLEEF=1
SLEEF_LIBS := $(shell $(PKG_CONFIG) --libs sleef 2>/dev/null)
else ifneq ($(SLEEF),none)
$(error SLEEF must be sleef or none, not '$(SLEEF)')
endif
TEST_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS) 2>/dev/null)
TEST_LIBS   := $(shell $(PKG_CONFIG) --libs $(TEST_PKGS) 2>/dev/null)

ALL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(WARN) $(CFLAGS) \
              -Iinclude -Isrc -I$(BUILD)/gen $(PC_CFLAGS) $(EDIT_CFLAGS) $(EDIT_DEF) $(SLEEF_CFLAGS) \
              -DSS_VERSION='"$(VERSION)"'
ALL_LDFLAGS := $(LDFLAGS)
LIBS := $(PC_LIBS) $(EDIT_LIBS) $(SLEEF_LIBS) -lpthread -lm

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

CORE_SRC := $(sort $(wildcard src/core/*.c src/core/*/*.c))
LUA_SRC  := $(sort $(wildcard src/lua/*.c src/lua/*/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c src/cli/*/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
LUA_OBJ  := $(LUA_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TEST_OBJ := $(TEST_BIN:%=%.o)
LIB      := $(BUILD)/libstratsim.a
BIN      := $(BUILD)/stratsim
SO       := $(BUILD)/stratsim.so

.PHONY: tour all run test check asan install clean echo deps unit clitest doctest doc-update
all: $(BIN) $(LIB) $(SO)

# Rebuild everything when the flags change (git's GIT-CFLAGS idea).
$(BUILD)/cflags.stamp: FORCE | $(BUILD)
	$(Q)echo '$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(LIBS) $(MPI_CFLAGS) $(MPI_LIBS)' > $@.tmp; \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
FORCE:

$(BUILD):
	$(Q)mkdir -p $(BUILD)

$(BUILD)/%.o: %.c $(BUILD)/cflags.stamp
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  CC      $<')
	$(Q)$(CC) $(ALL_CFLAGS) $(EXTRA_CFLAGS) -MMD -MP -c -o $@ $<

# Only the MPI transport includes mpi.h.
$(BUILD)/src/cli/cli_mpi.o: EXTRA_CFLAGS := $(MPI_CFLAGS)

# The batched engine's loops over lanes: vectorised at -O3; -fno-math-errno
# lets sqrt vectorise (no value changes, unlike -ffast-math); no FMA
# contraction, so the roundings are those of the plain code.
BATCH_OPT := -O3 -fno-math-errno -ffp-contract=off
$(BUILD)/src/core/batch.o $(BUILD)/pic/src/core/batch.o: ALL_CFLAGS += $(BATCH_OPT)
$(BUILD)/src/core/sort_doubles.o $(BUILD)/pic/src/core/sort_doubles.o: ALL_CFLAGS += -O3 -ffp-contract=off

$(BUILD)/tests/%.o: tests/unit/%.c $(BUILD)/cflags.stamp
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  CC      $<')
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -MMD -MP -c -o $@ $<

# stratsim._docs (the REPL's help()) is generated from docs/lua-api.md section 9.
$(BUILD)/gen/lua_api_docs.h: docs/lua-api.md scripts/gen-lua-docs.sh
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  GEN     $@')
	$(Q)scripts/gen-lua-docs.sh docs/lua-api.md > $@.tmp && mv $@.tmp $@
$(BUILD)/src/lua/l_docs.o $(BUILD)/pic/src/lua/l_docs.o: $(BUILD)/gen/lua_api_docs.h

$(LIB): $(CORE_OBJ)
	@$(if $(Q),echo '  AR      $@')
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LUA_OBJ) $(LIB)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LUA_OBJ) $(LIB) $(LIBS) $(MPI_LIBS)

# Tests of the Lua layer (test_lua_*) link its objects; the others only the core.
$(BUILD)/tests/test_lua_%: $(BUILD)/tests/test_lua_%.o $(LUA_OBJ) $(LIB)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LUA_OBJ) $(LIB) $(LIBS) $(TEST_LIBS)

# the batched engine's tests load the bundled scenarios through the Lua layer
$(BUILD)/tests/test_batch: $(BUILD)/tests/test_batch.o $(LUA_OBJ) $(LIB)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LUA_OBJ) $(LIB) $(LIBS) $(TEST_LIBS)

# Allocation-failure injection wraps the allocator of stratsim's own code.
OOM_WRAP := -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc
$(BUILD)/tests/test_lua_oom: $(BUILD)/tests/test_lua_oom.o $(LUA_OBJ) $(LIB)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_LDFLAGS) $(OOM_WRAP) -o $@ $< $(LUA_OBJ) $(LIB) $(LIBS) $(TEST_LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIB)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS) $(TEST_LIBS)

-include $(CORE_OBJ:.o=.d) $(LUA_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_BIN:%=%.d)

# The test objects are reached through pattern rules only, so make would take
# them for intermediate files and delete them after linking: every `make test`
# would then compile the unit tests again (twice: its two sub-makes). Keep them.
.SECONDARY: $(TEST_OBJ)

# The Lua C module stratsim.so (`require "stratsim"` from lua5.4): the Lua
# layer and the core compiled again as position-independent code in
# $(BUILD)/pic/, exporting only luaopen_stratsim; the Lua API symbols come
# from the host program, so Lua itself is not linked in.
PIC_OBJ := $(CORE_SRC:%.c=$(BUILD)/pic/%.o) $(LUA_SRC:%.c=$(BUILD)/pic/%.o)
SO_LIBS := $(shell $(PKG_CONFIG) --libs gsl libcjson 2>/dev/null) $(SLEEF_LIBS) -lpthread -lm
$(BUILD)/pic/%.o: %.c $(BUILD)/cflags.stamp
	@mkdir -p $(dir $@)
	@$(if $(Q),echo '  CC      $< (pic)')
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c -o $@ $<
$(SO): $(PIC_OBJ)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_LDFLAGS) -shared -o $@ $(PIC_OBJ) $(SO_LIBS)
-include $(PIC_OBJ:.o=.d)

deps:
	$(Q)scripts/install-deps.sh --check-or-install

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)mkdir -p out
	$(Q)$(BIN) run $(FLAGSHIP)
	$(Q)$(BIN) run $(FLAGSHIP) -o out/ai_public_first.csv >/dev/null && \
	  echo "CSV written to out/ai_public_first.csv (sidecar out/ai_public_first.csv.json)"

# The guided tour: calibration, strategies, Monte Carlo, sensitivity, charts in out/tour/.
tour: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)STRATSIM=$(BIN) OUT=out/tour scripts/tour.sh

# The unit-test programs and the CLI tests run TEST_JOBS at a time (the
# CPUs, at most 4; TEST_JOBS=1 for one after the other).
TEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)
unit: $(TEST_BIN)
	$(Q)SS_TEST_JOBS=$(TEST_JOBS) tests/run_unit_tests.sh $(TEST_BIN)

clitest: $(BIN) $(SO)
	$(Q)STRATSIM=$(abspath $(BIN)) SS_TEST_JOBS=$(TEST_JOBS) tests/run_cli_tests.sh

# The examples with output in README.md and docs/*.md (those marked
# <!-- doctest: ... -->) are run and compared; doc-update rewrites them.
# docs/analysis.md shows output of the analysis unit tests (test_analysis doc).
doctest: $(BIN) $(SO) $(BUILD)/tests/test_analysis
	$(Q)python3 scripts/doctest.py --build $(BUILD)
doc-update: $(BIN) $(SO) $(BUILD)/tests/test_analysis
	$(Q)python3 scripts/doctest.py --build $(BUILD) --update

test: deps
	$(Q)$(MAKE) --no-print-directory all $(TEST_BIN)
	$(Q)$(MAKE) --no-print-directory unit clitest doctest
check: test

# (the pseudo-terminal tests wait longer: the sanitized build is slower)
asan:
	$(Q)PTY_TIMEOUT=$${PTY_TIMEOUT:-30} $(MAKE) --no-print-directory BUILD=build-asan \
	  SANITIZE=address,undefined,float-divide-by-zero,float-cast-overflow CFLAGS='-O1 -g' test

# ThreadSanitizer on the threaded Monte Carlo in build-tsan/: its unit tests
# (determinism for 1..16 threads) and `stratsim mc` with 8 threads, each
# with its own Lua state running a policy (docs/robustness.md); the sweep
# with a policy (scalar engine) and without (batched engine, chunks of 4
# points on 4 threads); and Sobol indices on 4 threads of the batched engine.
.PHONY: tsan valgrind fuzz fuzz-build
TSAN_ENV := TSAN_OPTIONS='halt_on_error=1 second_deadlock_stack=1'
tsan:
	$(Q)$(MAKE) --no-print-directory BUILD=build-tsan SANITIZE=thread CFLAGS='-O1 -g' \
	  build-tsan/tests/test_mc build-tsan/tests/test_sweep build-tsan/stratsim
	$(Q)$(TSAN_ENV) build-tsan/tests/test_mc
	$(Q)$(TSAN_ENV) build-tsan/tests/test_sweep
	$(Q)$(TSAN_ENV) build-tsan/stratsim mc tests/cli/data/analysis_policy.lua --runs 64 \
	  --threads 8 --seed 3 -o - > /dev/null && echo "tsan: stratsim mc --threads 8: clean"
	$(Q)$(TSAN_ENV) build-tsan/stratsim sweep tests/cli/data/analysis_policy.lua \
	  --grid providers.alibaba.reinvest=0.1:0.4:16 --threads 4 -o - > /dev/null && \
	  echo "tsan: stratsim sweep --threads 4: clean"
	$(Q)$(TSAN_ENV) build-tsan/stratsim sweep tests/cli/data/analysis.lua \
	  --grid providers.alibaba.reinvest=0.1:0.4:64 --threads 4 -o - > /dev/null && \
	  echo "tsan: stratsim sweep --threads 4, batched engine: clean"
	$(Q)$(TSAN_ENV) build-tsan/stratsim sens scenarios/ai_public_first.lua --method sobol \
	  --samples 512 --bootstrap 0 --threads 4 -o - > /dev/null && \
	  echo "tsan: stratsim sens --method sobol --threads 4: clean"

# Every unit test and one scenario run under valgrind memcheck: any error or
# definite/indirect leak fails. Uses the normal build ($(BUILD)); time limits
# inside the tests are scaled with SS_TEST_TIME_SCALE, and heavy checks are
# repeated fewer times (SS_TEST_QUICK: test_quick() in tests/unit/test_util.h).
VALGRIND ?= valgrind
VALGRIND_FLAGS := --error-exitcode=1 --leak-check=full \
  --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
  --track-origins=yes --quiet
valgrind: $(BIN) $(TEST_BIN)
	$(Q)fail=0; SS_TEST_TIME_SCALE=50 SS_TEST_QUICK=1 SS_TEST_QUIET=1 SS_TEST_JOBS=$(TEST_JOBS) \
	  SS_TEST_RUNNER="$(VALGRIND) $(VALGRIND_FLAGS)" tests/run_unit_tests.sh $(TEST_BIN) || fail=1; \
	  echo "valgrind $(BIN) run $(FLAGSHIP)"; \
	  $(VALGRIND) $(VALGRIND_FLAGS) $(BIN) run $(FLAGSHIP) >/dev/null || fail=1; \
	  test $$fail = 0

# libFuzzer harnesses (tests/fuzz/fuzz_*.c) built with clang in build-fuzz/;
# `make fuzz` runs each for FUZZ_SECONDS from the committed seed corpus
# tests/fuzz/corpus/<harness>/ (new inputs go to build-fuzz/corpus/, crashes
# to build-fuzz/artifacts/). FUZZ_JOBS harnesses run at a time.
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 1
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES   := $(FUZZ_SRC:tests/fuzz/%.c=%)
fuzz:
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzz CC=$(FUZZ_CC) \
	  SANITIZE=fuzzer-no-link,address,undefined,float-divide-by-zero,float-cast-overflow CFLAGS='-O1 -g' fuzz-build
	$(Q)mkdir -p build-fuzz/artifacts
	$(Q)printf '%s\n' $(FUZZ_NAMES) | xargs -P $(FUZZ_JOBS) -I{} sh -c '\
	  mkdir -p build-fuzz/corpus/{} && echo "fuzz {}: $(FUZZ_SECONDS) s" && \
	  build-fuzz/{} -max_total_time=$(FUZZ_SECONDS) -timeout=20 -print_final_stats=1 \
	    -artifact_prefix=build-fuzz/artifacts/{}- \
	    $$(test -f tests/fuzz/{}.dict && echo -dict=tests/fuzz/{}.dict) \
	    build-fuzz/corpus/{} tests/fuzz/corpus/{} > build-fuzz/{}.log 2>&1 || \
	  { tail -n 60 build-fuzz/{}.log; exit 1; }; grep -h "stat::number_of_executed_units" build-fuzz/{}.log'
fuzz-build: $(FUZZ_NAMES:%=$(BUILD)/%)
$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(LUA_OBJ) $(LIB) $(BUILD)/cflags.stamp
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(ALL_LDFLAGS) -o $@ $< $(LUA_OBJ) $(LIB) $(LIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	  $(DESTDIR)$(PREFIX)/include/stratsim $(DESTDIR)$(PREFIX)/share/doc/stratsim \
	  $(DESTDIR)$(PREFIX)/share/stratsim/scenarios
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/stratsim
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libstratsim.a
	install -d $(DESTDIR)$(PREFIX)/lib/lua/5.4
	install -m 755 $(SO) $(DESTDIR)$(PREFIX)/lib/lua/5.4/stratsim.so
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

# Benchmarks: `make bench` (not part of `make test`), see docs/performance.md.
# Options: make bench BENCH_ARGS='--quick' (or --reps N, --no-rss, --rss-max RUNS, ...).
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
BENCH_OBJ := $(BENCH_SRC:%.c=$(BUILD)/%.o)
BENCH_BIN := $(BUILD)/stratsim-bench
BENCH_PYTHON ?= /usr/bin/python3
BENCH_ARGS ?=
.PHONY: bench
bench: $(BENCH_BIN)
	@$(BENCH_PYTHON) -c 'import scipy' 2>/dev/null || \
	  echo 'note: install python3-scipy (apt-get install python3-scipy) for the SciPy comparison'
	$(Q)$(BENCH_BIN) --python $(BENCH_PYTHON) --scipy tests/bench/scipy_flagship.py $(BENCH_ARGS)
$(BENCH_BIN): $(BENCH_OBJ) $(LUA_OBJ) $(LIB)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(BENCH_OBJ) $(LUA_OBJ) $(LIB) $(LIBS)
-include $(BENCH_OBJ:.o=.d)
