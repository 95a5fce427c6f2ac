/* mmx info: architecture, layer pattern, parameter counts and memory needs of a model. */
#include "cli.h"
#include "common.h"

#include <stdio.h>
#include <string.h>

static void human(char *buf, size_t cap, double bytes) {
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, cap, u ? "%.2f %s" : "%.0f %s", bytes, units[u]);
}

static void count(char *buf, size_t cap, double n) {
    if (n >= 1e9) snprintf(buf, cap, "%.2fB", n / 1e9);
    else if (n >= 1e6) snprintf(buf, cap, "%.2fM", n / 1e6);
    else if (n >= 1e3) snprintf(buf, cap, "%.2fK", n / 1e3);
    else snprintf(buf, cap, "%.0f", n);
}

int mmx_cmd_info(int argc, char **argv) {
    const char *model_path = NULL;
    size_t n_ctx = 4096;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: mmx info -m MODEL [-c N_CTX]\n"
                   "  Prints the architecture, layer pattern, parameter counts, tensor types and the memory\n"
                   "  needed for the weights, for each sequence's state and per token of KV cache\n"
                   "  (memory totals are given for a context of N_CTX tokens, default 4096).\n");
            return 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(model_path = cli_value("info", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx")) {
            if (!(v = cli_value("info", argc, argv, &i)) || !cli_parse_size("info", a, v, &n_ctx)) return 2;
        } else {
            fprintf(stderr, "mmx info: unknown option '%s'\n", a);
            return 2;
        }
    }
    if (!model_path) {
        fprintf(stderr, "mmx info: -m MODEL is required\n");
        return 2;
    }
    mmx_model_params mp = mmx_model_default_params();
    mp.n_threads = 1;
    mp.huge_map = MMX_HUGE_MAP_OFF; /* reads no weights: do not fault the files in */
    mmx_model *m = cli_load_model_params("info", model_path, &mp);
    if (!m) return 1;
    mmx_model_info in;
    mmx_model_get_info(m, &in);
    char a[64], b[64], c[64];
    printf("model:            %s (%s)\n", in.path, in.source_format);
    printf("architecture:     %s\n", in.architecture);
    printf("layers:           %zu (%zu lightning, %zu softmax)\n", in.n_layers, in.n_layers - in.n_softmax_layers,
           in.n_softmax_layers);
    printf("layer pattern:    %s   (L lightning, S softmax)\n", in.layer_pattern);
    printf("hidden size:      %zu\n", in.n_embd);
    printf("attention:        %zu heads x %zu, %zu KV heads, RoPE on %zu dims\n", in.n_heads, in.head_dim,
           in.n_kv_heads, in.rotary_dim);
    printf("experts:          %zu, %zu per token, FFN width %zu\n", in.n_experts, in.n_experts_used, in.n_ff);
    printf("vocabulary:       %zu rows, %zu valid ids\n", in.n_vocab, in.n_vocab_valid);
    count(a, sizeof a, (double)in.n_params);
    count(b, sizeof b, (double)in.n_params_active);
    printf("parameters:       %s total, %s active per token (without embedding and lm_head)\n", a, b);
    printf("tensor types:    ");
    for (int t = 0; t < MMX_TYPE_COUNT; t++)
        if (in.n_tensor_types[t]) printf(" %s x%zu", mmx_type_name((mmx_type)t), in.n_tensor_types[t]);
    printf("\n");
    human(a, sizeof a, (double)in.weight_bytes);
    printf("memory, weights:  %s (%s)\n", a, in.weights_in_hugepages ? "read into huge-page memory" : "memory-mapped");
    human(a, sizeof a, (double)in.state_bytes);
    printf("memory, state:    %s per sequence (lightning, fp32, independent of length)\n", a);
    human(a, sizeof a, (double)in.kv_bytes_per_token);
    human(b, sizeof b, (double)in.kv_bytes_per_token * (double)n_ctx);
    printf("memory, KV cache: %s per token (fp32), %s at %zu tokens\n", a, b, n_ctx);
    human(c, sizeof c, (double)in.weight_bytes + (double)in.state_bytes + (double)in.kv_bytes_per_token * (double)n_ctx);
    printf("memory, total:    %s for one sequence of %zu tokens (plus work buffers)\n", c, n_ctx);
    mmx_model_free(m);
    return 0;
}
