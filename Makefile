# SalesPulse: the one entry point. `make help` lists the targets.
#
# Layout of build outputs (BUILD defaults to build/, `make asan` uses build/asan):
#   $(BUILD)/gen      protoc-c output (never committed)
#   $(BUILD)/obj      objects, with .d dependency files
#   $(BUILD)/lib      libspproto.a, libspcommon.a, libsp_<svc>.a (service logic without main.c)
#   $(BUILD)/bin      sp-ingest sp-enrich sp-score sp-route sp-taskpool spctl
#   $(BUILD)/test     unit and integration test binaries
#
# Every .c under common/ and services/<svc>/ is picked up by wildcard: add a
# file, not a rule. spctl (the operator CLI) also links the other services'
# logic libraries, so it reuses their code (tokens, seeding, ...); sp-taskpool
# links sp-route's (the playbook loader, promotions, won-case choice). tests/unit/test_*.c and tests/integration/itest_*.c are
# one cmocka binary each.

BUILD    ?= build
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)
SAN      ?=
CC       ?= cc
SERVICES := ingest enrich score route taskpool spctl

PKGS     := libprotobuf-c libpq rdkafka jansson libpcre2-8 libcrypto gmime-3.0 libxml-2.0
CSTD     := -std=c11 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wshadow -Wstrict-prototypes -Wformat=2
OPT      ?= -O2 -g
ifeq ($(SAN),1)
OPT      := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN    := -fsanitize=address,undefined
endif
# Asked of pkg-config on first use, in a recipe, not when make reads this file:
# on a fresh machine the packages are installed by $(DEPS_STAMP) during this
# same run, and flags read earlier would lack their include paths.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags $$(PKGS) 2>/dev/null))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(shell pkg-config --libs $$(PKGS) 2>/dev/null))$(PKG_LIBS)
# PKG_* stay out of CFLAGS/LDLIBS: a CFLAGS from the environment is exported
# to every recipe (the one installing the packages too), which would ask
# pkg-config before the packages are there.
CFLAGS   += $(CSTD) $(WARN) $(OPT) -MMD -MP -I. -Icommon -Iservices -Itests/support -I$(BUILD)/gen
LDLIBS   += -lnng -lpthread -lm
LDFLAGS  += $(LDSAN)

PROTO_SRC  := $(wildcard proto/salespulse/v1/*.proto)
PROTO_GEN  := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTO_SRC))
PROTO_STAMP := $(BUILD)/gen/.stamp
COMMON_SRC := $(wildcard common/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
svc_lib_src = $(filter-out services/$(1)/main.c,$(wildcard services/$(1)/*.c))
bin_name = $(if $(filter spctl,$(1)),spctl,sp-$(1))

LIB_PROTO  := $(BUILD)/lib/libspproto.a
LIB_COMMON := $(BUILD)/lib/libspcommon.a
SVC_LIBS   := $(foreach s,$(SERVICES),$(BUILD)/lib/libsp_$(s).a)
BINS       := $(foreach s,$(SERVICES),$(BUILD)/bin/$(call bin_name,$(s)))

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/test/unit/%,$(UNIT_SRC))
ITEST_SRC  := $(wildcard tests/integration/itest_*.c)
ITEST_BINS := $(patsubst tests/integration/%.c,$(BUILD)/test/integration/%,$(ITEST_SRC))
TEST_SUPPORT := $(wildcard tests/support/*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
BENCH_SRC  := $(wildcard tests/bench/bench_*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

DEPS_STAMP := build/.deps-ok

.PHONY: all deps test test-unit test-asan test-integration test-e2e asan demo bench up down \
        fmt lint fuzz eval scenario clean help
.DEFAULT_GOAL := all
.SECONDARY:

all: $(DEPS_STAMP) $(BINS)

help:
	@echo "make            build every binary into $(BUILD)/bin"
	@echo "make test       unit tests, the same under ASan+UBSan, integration, end-to-end, browser and fuzz tests"
	@echo "make demo       local stack up, the demo quarter through the pipeline, a summary"
	@echo "make up|down    start|stop the local PostgreSQL and Kafka (deploy/local)"
	@echo "make asan       sanitizer build + unit tests"
	@echo "make bench      benchmarks (figures and baselines, not pass/fail)"
	@echo "make eval       extraction quality on the labelled examples"
	@echo "make fuzz       run every libFuzzer target for FUZZ_SECONDS (default 20)"
	@echo "make scenario DIR=d  replay d/{org.json,crm.json,events.ndjson} in event time, print its signals"
	@echo "make fmt|lint   clang-format the tree | check it is formatted"

# Installs Debian packages when something is missing (idempotent).
$(DEPS_STAMP): deploy/local/install-deps.sh
	@bash deploy/local/install-deps.sh --check >/dev/null 2>&1 || bash deploy/local/install-deps.sh
	@mkdir -p build && touch $@
deps:
	bash deploy/local/install-deps.sh

# --- protobuf -------------------------------------------------------------
$(PROTO_STAMP): $(PROTO_SRC) | $(DEPS_STAMP)
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=proto --c_out=$(BUILD)/gen $(PROTO_SRC)
	@touch $@
$(PROTO_GEN): $(PROTO_STAMP)

$(BUILD)/obj/$(BUILD)/gen/%.o: $(BUILD)/gen/%.c $(PROTO_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -Wno-shadow -c $< -o $@

$(LIB_PROTO): $(call obj,$(PROTO_GEN))
	@mkdir -p $(dir $@)
	@rm -f $@
	$(Q)ar rcs $@ $^

# --- C sources -------------------------------------------------------------
$(BUILD)/obj/%.o: %.c | $(PROTO_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(LIB_COMMON): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	@rm -f $@
	$(Q)ar rcs $@ $^

define svc_rules
$(BUILD)/lib/libsp_$(1).a: $(call obj,$(call svc_lib_src,$(1))) $(BUILD)/obj/.empty.o
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$(Q)ar rcs $$@ $$^
$(BUILD)/bin/$(call bin_name,$(1)): $(call obj,services/$(1)/main.c) $(BUILD)/lib/libsp_$(1).a $(if $(filter spctl,$(1)),$(filter-out %/libsp_spctl.a,$(SVC_LIBS))) $(if $(filter taskpool spctl,$(1)),$(BUILD)/lib/libsp_route.a) $(LIB_COMMON) $(LIB_PROTO)
	@mkdir -p $$(dir $$@)
	@echo "  LD      $$@"
	$(Q)$$(CC) $$(LDFLAGS) -o $$@ $$+ $$(PKG_LIBS) $$(LDLIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call svc_rules,$(s))))

$(BUILD)/obj/.empty.o:
	@mkdir -p $(dir $@)
	echo 'typedef int sp_empty_unit;' | $(CC) -x c -c - -o $@

ALL_LIBS := $(SVC_LIBS) $(BUILD)/lib/libsp_route.a $(LIB_COMMON) $(LIB_PROTO) # route again: taskpool uses it
$(BUILD)/test/unit/%: $(call obj,tests/unit/%.c) $(call obj,$(TEST_SUPPORT)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(ALL_LIBS) $(PKG_LIBS) $(LDLIBS) -lcmocka
$(BUILD)/test/integration/%: $(call obj,tests/integration/%.c) $(call obj,$(TEST_SUPPORT)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(ALL_LIBS) $(PKG_LIBS) $(LDLIBS) -lcmocka

$(BUILD)/bench/%: $(call obj,tests/bench/%.c) $(call obj,$(TEST_SUPPORT)) $(ALL_LIBS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(ALL_LIBS) $(PKG_LIBS) $(LDLIBS)

# --- tests -------------------------------------------------------------------
# Every step appends to build/test-results; the last prints "N passed, N failed".
test: $(DEPS_STAMP)
	@rm -f build/test-results
	@$(MAKE) --no-print-directory test-unit || echo "make: unit tests failed" >&2
	@bash tests/deploy/run.sh || echo "make: deployment checks failed" >&2
	@$(MAKE) --no-print-directory test-asan || echo "make: sanitizer tests failed" >&2
	@$(MAKE) --no-print-directory test-integration || echo "make: integration tests failed" >&2
	@bash tests/e2e/run.sh || echo "make: end-to-end tests failed" >&2
	@bash tests/web/run.sh || echo "make: dashboard browser tests failed" >&2
	@bash tests/fuzz/run.sh $(TEST_FUZZ_SECONDS) --record build/test-results || echo "make: fuzzing found a crash" >&2
	@bash tests/summary.sh build/test-results

test-unit: $(DEPS_STAMP) $(BINS) $(UNIT_BINS)
	@bash tests/run.sh unit $(UNIT_BINS)

test-asan: $(DEPS_STAMP)
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 build/asan/.unit-built
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  bash tests/run.sh asan $(patsubst tests/unit/%.c,build/asan/test/unit/%,$(UNIT_SRC))
$(BUILD)/.unit-built: $(BINS) $(UNIT_BINS)
	@touch $@

test-integration: $(DEPS_STAMP) $(BINS) $(ITEST_BINS)
	@bash tests/integration/run.sh $(ITEST_BINS)

asan:
	@rm -f build/test-results
	@$(MAKE) --no-print-directory test-asan
	@bash tests/summary.sh build/test-results

# --- local stack, demo, bench ---------------------------------------------------
up: all
	bash deploy/local/stack.sh up
down:
	bash deploy/local/stack.sh down
demo: all
	bash deploy/local/demo.sh
# a scenario of your own in event time, its signals printed (docs/scenarios.md)
scenario: all
	@test -n "$(DIR)" || { echo "usage: make scenario DIR=path/with/org.json,crm.json,events.ndjson" >&2; exit 2; }
	bash deploy/local/scenario.sh $(DIR)
bench: all $(BENCH_BINS) $(BUILD)/test/integration/itest_score
	bash tests/bench/run.sh
eval: all
	bash tests/eval/run.sh
	@echo "-- paraphrase set (written to the contract, not tuned from dev.jsonl):"
	bash tests/eval/run.sh $(BUILD) tests/data/extraction/paraphrase.jsonl

# --- fuzzing (clang libFuzzer) ---------------------------------------------------
FUZZ_SECONDS ?= 20
TEST_FUZZ_SECONDS ?= 8
fuzz: $(DEPS_STAMP)
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS)

# --- formatting -------------------------------------------------------------------
FMT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
fmt:
	clang-format -i $(FMT_FILES)
lint:
	clang-format --dry-run --Werror $(FMT_FILES)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
