/*
 * A small client of llama.cpp's C API (not part of the engine, never built by the project's
 * Makefile): prefills the given token ids in one batch and writes the logits of every position as
 * raw float32 [T, vocab].  tools/bench_compare.sh builds it against a llama.cpp build directory.
 *   llama_dump_logits MODEL 1,2,3 OUT.f32 [no-repack]
 */
#include "llama.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: llama_dump_logits MODEL TOKENS_CSV OUT [no-repack]\n");
        return 2;
    }
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    if (argc > 4) mp.use_extra_bufts = false;
    struct llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) return 1;
    int n = 0, cap = 1 << 16;
    int *toks = malloc(cap * sizeof *toks);
    for (char *p = argv[2]; *p && n < cap;) {
        toks[n++] = (int)strtol(p, &p, 10);
        if (*p == ',') p++;
    }
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = n + 16, cp.n_batch = n, cp.n_ubatch = n, cp.n_threads = 2, cp.n_threads_batch = 2;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED, cp.type_k = GGML_TYPE_F32, cp.type_v = GGML_TYPE_F32;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    struct llama_batch b = llama_batch_init(n, 0, 1);
    for (int i = 0; i < n; i++) {
        b.token[i] = toks[i], b.pos[i] = i, b.n_seq_id[i] = 1, b.seq_id[i][0] = 0, b.logits[i] = 1;
    }
    b.n_tokens = n;
    if (llama_decode(ctx, b)) return 1;
    int nv = llama_vocab_n_tokens(llama_model_get_vocab(model));
    FILE *f = fopen(argv[3], "wb");
    for (int i = 0; i < n; i++) fwrite(llama_get_logits_ith(ctx, i), 4, (size_t)nv, f);
    fclose(f);
    return 0;
}
