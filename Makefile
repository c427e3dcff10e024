# ncf — build, test, benchmark and install libncf and the ncf tool.
#   make            library (static + shared) and ./ncf
#   make test       installs test dependencies when missing, builds, runs tests
#                   (the C tests, then the Python binding's: pytest tests/python)
#   make asan       the tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make phase      build-phase/ncf: training prints per-phase step timings (src/train/phase.h)
#   make clang      everything (tool, libraries, tests) built with clang into build-clang, -Werror
#   make fuzz       libFuzzer harnesses (tests/fuzz) built with clang 14 into build-fuzz, the
#                   committed corpus replayed, then each run FUZZ_SECONDS (60) seconds
#   make fuzz-replay  the harnesses built and the committed corpus (seeds, past crashes) replayed
#   make tsan       the threaded tests (training, evaluation, checkpoints, resume, the server)
#                   under ThreadSanitizer, clang 14 + LLVM's libomp with Archer, into build-tsan
#   make bench      benchmark programs
#   make demo       synthetic data -> NeuMF -> metrics and recommendations
#   make install    PREFIX=/usr/local (headers, libncf.a, libncf.so, ncf.pc, ncf)
#   make plots      docs/img/*.png: training curves on the shared data (ncf.plot)
#   make MPI=1      ./ncf (and the libraries, in build-mpi) built with Open MPI's mpicc and
#                   -DNCF_MPI: `mpirun -np N ./ncf train --shards S ...` trains on N processes
#                   (docs/distributed.md); installs Open MPI first (scripts/setup-deps.sh mpi)
# Options: WERROR=1 (on by default when CI=true), NO_OMP=1, NATIVE=1, MPI=1.

CC      ?= cc
PREFIX  ?= /usr/local
# MPI=1: everything is compiled by mpicc with -DNCF_MPI, into a build
# directory of its own (objects of the two kinds never mix); only
# src/dist/dist.c differs, and without MPI it is a group of one.
ifeq ($(MPI),1)
MPICC   ?= mpicc
CC      := $(MPICC)
BUILD   ?= build-mpi
endif
BUILD   ?= build
# Debian's interpreter, with its python3-numpy/-pytest/-matplotlib (not
# whatever python3 comes first on the PATH)
PYTHON  ?= /usr/bin/python3
PYTHON_TESTS ?= 1
TOOL    ?= ncf
VERSION := 0.1.0
SOVER   := 0

# -Wno-psabi: see src/nn/simd.h (vector helpers are always inlined)
WARN     := -Wno-psabi -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
OPT      ?= -O3
CSTD     := -std=c11
# CFLAGS and LDFLAGS given by the user (or by `make asan`) are added last,
# never instead of the project's own flags.
NCF_CPPFLAGS := -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L $(if $(filter 1,$(MPI)),-DNCF_MPI)
# -ffp-contract=off: a * b + c stays two roundings unless the source fuses
# it (docs/design.md); gcc's default under -std=c11 already, not clang's.
NCF_CFLAGS   := $(CSTD) $(OPT) -g $(WARN) -fPIC -fno-strict-aliasing -fno-math-errno -ffp-contract=off
NCF_LDFLAGS  :=
LDLIBS   += -lm -lpthread

ifeq ($(CI),true)
WERROR ?= 1
endif
ifeq ($(WERROR),1)
NCF_CFLAGS += -Werror
endif
ifeq ($(NATIVE),1)
NCF_CFLAGS += -march=native
endif
ifneq ($(NO_OMP),1)
OMP_OK := $(shell printf 'int main(void){return 0;}' | $(CC) -fopenmp -x c - -o /dev/null 2>/dev/null && echo 1)
ifneq ($(OMP_OK),1)
$(info OpenMP not found: building single-threaded)
endif
endif
ifeq ($(OMP_OK),1)
NCF_CFLAGS  += -fopenmp
NCF_LDFLAGS += -fopenmp
else
NCF_CFLAGS  += -Wno-unknown-pragmas
endif
ALL_CFLAGS  = $(NCF_CPPFLAGS) $(CPPFLAGS) $(NCF_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(NCF_LDFLAGS) $(LDFLAGS)

LIB_SRC  := $(sort $(wildcard src/*/*.c))
TOOL_SRC := $(sort $(wildcard tools/ncf/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
BENCH_SRC:= $(sort $(wildcard bench/bench_*.c))
HDRS     := $(wildcard include/ncf/*.h src/*/*.h tools/ncf/*.h tests/*.h)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TOOL_OBJ := $(TOOL_SRC:%.c=$(BUILD)/%.o)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCHES  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
TESTUTIL := $(BUILD)/tests/testutil.o

.PHONY: all lib deps test asan tsan phase clang tests bench demo plots install uninstall clean fuzz fuzz-replay fuzz-build fuzz-bins
all: $(TOOL) $(BUILD)/libncf.so

lib: $(BUILD)/libncf.a $(BUILD)/libncf.so

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libncf.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libncf.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libncf.so.$(SOVER) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# The tool links libmicrohttpd and jansson (ncf serve); the library does not.
TOOL_LIBS := -lmicrohttpd -ljansson
$(TOOL_OBJ): | deps
# ./ncf is linked from whichever build directory made it last: .ncf-build
# names it (rewritten only when it changes), so going from MPI=1 back to
# the default build (or the other way) links ./ncf again.
ifeq ($(TOOL),ncf)
$(shell [ "$$(cat .ncf-build 2>/dev/null)" = "$(BUILD)" ] || echo "$(BUILD)" > .ncf-build)
$(TOOL): .ncf-build
endif
$(TOOL): $(TOOL_OBJ) $(BUILD)/libncf.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(TOOL_OBJ) $(BUILD)/libncf.a $(TOOL_LIBS) $(LDLIBS)

deps:
	@sh scripts/setup-deps.sh
ifeq ($(MPI),1)
	@sh scripts/setup-deps.sh mpi
endif

$(BUILD)/tests/%: tests/%.c $(TESTUTIL) $(BUILD)/libncf.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(TESTUTIL) $(BUILD)/libncf.a $(ALL_LDFLAGS) -lcmocka -ljansson $(LDLIBS)

# Every test binary runs; the target fails if any failed. Tests find the
# tool through NCF_BIN and the shared data at ../shared/data (skipped when
# absent).
# Then the Python binding's tests (tests/python, pytest) against
# $(BUILD)/libncf.so; both suites always run, each prints its closing line,
# and the target fails if either failed. PYTHON_TESTS=0 leaves them out
# (make asan does: a sanitized libncf.so cannot be loaded into python).
# When mpicc and mpirun are there (scripts/setup-deps.sh mpi installs them),
# build-mpi/ncf is built too and test_mpi runs it on 1, 2 and 4 processes
# (NCF_MPI_BIN); without them test_mpi skips, saying so.
MPI_TEST_BIN ?= $(shell command -v mpicc >/dev/null 2>&1 && command -v mpirun >/dev/null 2>&1 && echo build-mpi/ncf)
test: deps
	@$(MAKE) --no-print-directory $(TOOL) $(TESTS) $(if $(filter 1,$(PYTHON_TESTS)),$(BUILD)/libncf.so)
	@$(if $(MPI_TEST_BIN),$(MAKE) --no-print-directory MPI=1 BUILD=build-mpi TOOL=$(MPI_TEST_BIN) $(MPI_TEST_BIN))
	@rc=0; NCF_BIN=./$(TOOL) NCF_MPI_BIN=$(MPI_TEST_BIN) sh scripts/run-tests.sh $(BUILD) $(TESTS) || rc=1; \
	if [ "$(PYTHON_TESTS)" = 1 ]; then \
	  echo "== python binding (tests/python)"; \
	  NCF_BIN=./$(TOOL) NCF_LIBRARY="$(CURDIR)/$(BUILD)/libncf.so" $(PYTHON) -m pytest -q -p no:cacheprovider \
	    tests/python || rc=1; \
	fi; exit $$rc

asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan TOOL=build-asan/ncf OPT="-O1" \
	  CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" NCF_QUICK=1 PYTHON_TESTS=0 test

# ThreadSanitizer (docs/reliability.md). Training, evaluation and sampling
# run on OpenMP, so a NO_OMP=1 build would leave TSan nothing of theirs to
# check. gcc's libgomp is not instrumented and its barriers are invisible to
# TSan (every OpenMP region would be reported), so the build is clang 14
# with LLVM's libomp (libomp-14-dev) and its Archer tool (libarcher.so,
# loaded through OMP_TOOL_LIBRARIES), which tells TSan what OpenMP's
# barriers, reductions and critical sections order;
# ignore_noninstrumented_modules=1 keeps libomp's own internals (not built
# with TSan) out of the reports, as Archer asks. ncf serve's threads are
# libmicrohttpd's pthreads (their locks go through TSan's interceptors).
# halt_on_error: the first race fails the test.
TSAN_TESTS := test_train test_eval test_checkpoint test_resume test_serve
TSAN_ENV   := OMP_TOOL_LIBRARIES=$$(dirname $$(readlink -f $$(command -v clang-14)))/../lib/libarcher.so \
              TSAN_OPTIONS="halt_on_error=1 ignore_noninstrumented_modules=1 second_deadlock_stack=1" \
              NCF_QUICK=1 NCF_BIN=./build-tsan/ncf
tsan: deps
	@sh scripts/setup-deps.sh clang
	@$(MAKE) --no-print-directory CC=clang-14 BUILD=build-tsan TOOL=build-tsan/ncf OPT="-O1" \
	  CFLAGS="-fsanitize=thread -fno-omit-frame-pointer" LDFLAGS="-fsanitize=thread" \
	  build-tsan/ncf $(TSAN_TESTS:%=build-tsan/tests/%)
	@$(TSAN_ENV) sh scripts/run-tests.sh build-tsan $(TSAN_TESTS:%=build-tsan/tests/%)

phase:
	@$(MAKE) --no-print-directory BUILD=build-phase TOOL=build-phase/ncf CFLAGS="-DNCF_PHASE_TIMING" build-phase/ncf

# The test programs, built and not run.
tests: $(TESTS)

# clang 14 (Debian 12's clang-14; `clang` when that is on the PATH), warnings
# as errors unless WERROR=0. Run its tests with
# NCF_BIN=./build-clang/ncf sh scripts/run-tests.sh build-clang build-clang/tests/test_*.
clang:
	@sh scripts/setup-deps.sh clang
	@cc=$$(command -v clang || command -v clang-14) && \
	  $(MAKE) --no-print-directory CC=$$cc BUILD=build-clang TOOL=build-clang/ncf WERROR=$(if $(WERROR),$(WERROR),1) \
	  build-clang/ncf build-clang/libncf.a build-clang/libncf.so tests

# ---- fuzzing (tests/fuzz, docs/reliability.md) -------------------------------
# The library and the serve core are compiled with clang 14 under
# -fsanitize=fuzzer-no-link,address,undefined (coverage for libFuzzer, every
# UB check fatal) and NO_OMP=1: single-threaded, so a run is deterministic
# and a crash replays the same way. Each harness links -fsanitize=fuzzer.
# scripts/fuzz.sh replays tests/fuzz/corpus/NAME, then (make fuzz) mutates
# it for FUZZ_SECONDS per harness into build-fuzz/corpus/NAME, writing any
# crash to build-fuzz/crashes/, and prints executions and time per harness.
FUZZ_SECONDS ?= 60
FUZZ_NAMES   := reader ncf model checkpoint serve
FUZZ_BINS     = $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_CFLAGS  := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
SERVE_CORE_OBJ = $(BUILD)/tools/ncf/serve_core.o $(BUILD)/tools/ncf/json_text.o $(BUILD)/tools/ncf/common.o \
                 $(BUILD)/tools/ncf/serve_foldin.o $(BUILD)/tools/ncf/cli_foldin.o \
                 $(BUILD)/tools/ncf/args.o

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(BUILD)/libncf.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz -fsanitize=fuzzer -o $@ $< $(BUILD)/libncf.a $(ALL_LDFLAGS) $(LDLIBS)

$(BUILD)/fuzz/fuzz_serve: tests/fuzz/fuzz_serve.c tests/fuzz/fuzz_util.h $(SERVE_CORE_OBJ) $(BUILD)/libncf.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/fuzz -Itools/ncf -fsanitize=fuzzer -o $@ $< $(SERVE_CORE_OBJ) $(BUILD)/libncf.a \
	  $(ALL_LDFLAGS) -ljansson $(LDLIBS)

fuzz-bins: $(FUZZ_BINS)

fuzz-build: deps
	@sh scripts/setup-deps.sh fuzz
	@cc=$$(command -v clang-14 || command -v clang) && \
	  $(MAKE) --no-print-directory CC=$$cc BUILD=build-fuzz NO_OMP=1 OPT=-O1 CFLAGS="$(FUZZ_CFLAGS)" \
	  LDFLAGS="-fsanitize=address,undefined" fuzz-bins

fuzz: fuzz-build
	@sh scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-replay: fuzz-build
	@sh scripts/fuzz.sh build-fuzz 0 $(FUZZ_NAMES)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libncf.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libncf.a $(ALL_LDFLAGS) $(LDLIBS)

bench: $(TOOL) $(BENCHES)
	@sh scripts/setup-deps.sh bench
	@sh scripts/bench.sh $(BUILD)
	@sh scripts/bench-serve.sh ./$(TOOL)
	@sh scripts/bench-serve-foldin.sh ./$(TOOL)
	@sh scripts/bench-scale.sh ./$(TOOL)
	@sh scripts/bench-load.sh ./$(TOOL)
	@sh scripts/bench-topk.sh ./$(TOOL) $(BUILD)
	@$(if $(MPI_TEST_BIN),$(MAKE) --no-print-directory MPI=1 BUILD=build-mpi TOOL=$(MPI_TEST_BIN) $(MPI_TEST_BIN))
	@sh scripts/bench-mpi.sh ./$(TOOL) $(if $(MPI_TEST_BIN),$(MPI_TEST_BIN),build-mpi/ncf)

demo: $(TOOL)
	@sh scripts/demo.sh

# Training curves of GMF, MLP and NeuMF on ../shared/data/ncf-ml-1m-half
# (20 epochs each, ~10 minutes on 2 cores) into docs/img/ (docs/results.md).
plots: deps $(TOOL) $(BUILD)/libncf.so
	@PYTHON=$(PYTHON) NCF_LIBRARY="$(CURDIR)/$(BUILD)/libncf.so" sh scripts/plots.sh ./$(TOOL)

install: all
	install -d $(DESTDIR)$(PREFIX)/include/ncf $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 include/ncf/*.h $(DESTDIR)$(PREFIX)/include/ncf/
	install -m 644 $(BUILD)/libncf.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libncf.so $(DESTDIR)$(PREFIX)/lib/libncf.so.$(VERSION)
	ln -sf libncf.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libncf.so.$(SOVER)
	ln -sf libncf.so.$(SOVER) $(DESTDIR)$(PREFIX)/lib/libncf.so
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' ncf.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/ncf.pc
	install -m 755 ncf $(DESTDIR)$(PREFIX)/bin/ncf

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/include/ncf
	rm -f $(DESTDIR)$(PREFIX)/lib/libncf.a $(DESTDIR)$(PREFIX)/lib/libncf.so* \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/ncf.pc $(DESTDIR)$(PREFIX)/bin/ncf

clean:
	rm -rf build build-asan build-phase build-clang build-fuzz build-tsan build-mpi ncf .ncf-build
