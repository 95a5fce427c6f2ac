# minimax.c build.
#   make                      optimised build/mmx (warnings are errors)
#   make test                 build and run the offline test suite
#   make SANITIZE=address,undefined test   same, under sanitizers (objects in build-san/)
#   make debug                -O0 build in build-debug/
#   make fuzz                 libFuzzer targets (clang) in build-fuzz/
#   make clean
#
# One binary runs on any x86-64: the base flags target plain x86-64, and the ISA-specific kernel files
# (src/kernels/*_avx2.c, *_avx512.c) get their own -m flags and are chosen at run time (src/cpu.c).

CC       ?= cc
OPT      ?= -O2
SANITIZE ?=
BUILD    ?= build

PKGS      := jansson libpcre2-8
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -ljansson -lpcre2-8)

CFLAGS_COMMON := -std=gnu11 -g $(OPT) -Wall -Wextra -Werror -Wno-unused-parameter -Wvla \
                 -fno-math-errno -fPIC -pthread -Iinclude -Isrc -MMD -MP $(PKG_CFLAGS)
LDLIBS := $(PKG_LIBS) -lm -pthread

ifneq ($(SANITIZE),)
  BUILD := build-san
  CFLAGS_COMMON += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
  LDFLAGS += -fsanitize=$(SANITIZE)
endif

ARCH := $(shell $(CC) -dumpmachine)
ifneq (,$(findstring x86_64,$(ARCH)))
  AVX2_FLAGS   := -mavx2 -mfma -mf16c
  AVX512_FLAGS := -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512bf16 -mavx512vnni
else
  AVX2_FLAGS   :=
  AVX512_FLAGS :=
endif

LIB_SRC  := $(wildcard src/*.c src/kernels/*.c)
CLI_SRC  := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/*.c)
FUZZ_SRC := $(wildcard tests/fuzz/*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

.PHONY: all test clean debug fuzz check-format demo
all: $(BUILD)/mmx

$(BUILD)/libmmx.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/mmx: $(CLI_OBJ) $(BUILD)/libmmx.a
	$(CC) $(CFLAGS_COMMON) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libmmx.a $(LDLIBS)

$(BUILD)/mmx-test: $(TEST_OBJ) $(BUILD)/libmmx.a
	$(CC) $(CFLAGS_COMMON) $(LDFLAGS) -o $@ $(TEST_OBJ) $(BUILD)/libmmx.a $(LDLIBS)

$(BUILD)/src/kernels/%_avx2.o: src/kernels/%_avx2.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(AVX2_FLAGS) -c $< -o $@

$(BUILD)/src/kernels/%_avx512.o: src/kernels/%_avx512.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(AVX512_FLAGS) -c $< -o $@

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -c $< -o $@

# The test binary runs from the repository root; MMX_BIN tells CLI tests which mmx to exec.
test: $(BUILD)/mmx $(BUILD)/mmx-test
	MMX_BIN=$(BUILD)/mmx ./$(BUILD)/mmx-test $(TESTS)

# A small demo model with the real MiniMax tokenizer and RANDOM weights (its text is gibberish):
# MiniMax-01 shaped (lightning + softmax layers, MoE), vocabulary 200064, made by tools/.
DEMO_MODEL := build/demo-model
demo: $(BUILD)/mmx $(DEMO_MODEL)/config.json
$(DEMO_MODEL)/config.json: tools/make_random_model.py tools/mmx_st.py
	/usr/bin/python3 tools/make_random_model.py $(DEMO_MODEL) --layers 8 --hidden 128 --heads 4 --kv-heads 2 \
	  --head-dim 32 --rotary-dim 16 --experts 4 --top-k 2 --ffn 256 --vocab 200064 --dtype BF16 \
	  --rope-theta 10000000 --tokenizer data/tokenizer/minimax-01/tokenizer.json --seed 2026

debug:
	$(MAKE) BUILD=build-debug OPT=-O0

# libFuzzer targets: one per parser (tests/fuzz/fuzz_*.c), built with clang.
fuzz:
	$(MAKE) CC=clang BUILD=build-fuzz OPT=-O1 SANITIZE=fuzzer-no-link,address,undefined build-fuzz/libmmx.a
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  echo "clang $$f -> build-fuzz/$$n"; \
	  clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc $(PKG_CFLAGS) $$f build-fuzz/libmmx.a $(LDLIBS) -o build-fuzz/$$n || exit 1; \
	done

clean:
	rm -rf build build-san build-debug build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
