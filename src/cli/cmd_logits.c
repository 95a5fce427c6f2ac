/* mmx logits: all-position logits of a token list, written as raw little-endian float32 [T, vocab]. */
#include "cli.h"
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: mmx logits -m MODEL --tokens 1,2,3 [--out FILE] [--step] [--chunk N] [--block-size B]\n"
            "                  [-t THREADS] [--reference]\n"
            "  Computes the logits of every position; writes them to FILE as raw little-endian float32\n"
            "  [T, vocab] and prints the top-5 of the last position.\n"
            "  --step          feed one token at a time (the decode recurrence)\n"
            "  --chunk N       prefill in chunks of N tokens\n"
            "  --block-size B  lightning prefill block size (default 64)\n"
            "  --reference     scalar reference kernels only (same as MMX_REFERENCE=1)\n");
}

int mmx_cmd_logits(int argc, char **argv) {
    const char *model_path = NULL, *tokens_text = NULL, *out_path = NULL;
    bool step = false, reference = false;
    size_t chunk = 0, block = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--step")) {
            step = true;
        } else if (!strcmp(a, "--reference")) {
            reference = true;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model") || !strcmp(a, "--tokens") || !strcmp(a, "--out") ||
                   !strcmp(a, "-o") || !strcmp(a, "--chunk") || !strcmp(a, "--block-size") || !strcmp(a, "-t") ||
                   !strcmp(a, "--threads")) {
            if (!(v = cli_value("logits", argc, argv, &i))) return 2;
            if (!strcmp(a, "-m") || !strcmp(a, "--model")) model_path = v;
            else if (!strcmp(a, "--tokens")) tokens_text = v;
            else if (!strcmp(a, "--out") || !strcmp(a, "-o")) out_path = v;
            else if (!strcmp(a, "--chunk")) {
                if (!cli_parse_size("logits", a, v, &chunk)) return 2;
            } else if (!strcmp(a, "--block-size")) {
                if (!cli_parse_size("logits", a, v, &block) || block == 0) {
                    fprintf(stderr, "mmx logits: --block-size must be >= 1\n");
                    return 2;
                }
            } else if (!cli_parse_size("logits", a, v, &threads)) return 2;
        } else {
            fprintf(stderr, "mmx logits: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!model_path || !tokens_text) {
        fprintf(stderr, "mmx logits: -m MODEL and --tokens are required\n");
        usage(stderr);
        return 2;
    }
    int32_t *tokens;
    size_t n;
    if (!cli_parse_tokens("logits", tokens_text, &tokens, &n)) return 2;
    if (n == 0) {
        fprintf(stderr, "mmx logits: --tokens is empty\n");
        free(tokens);
        return 2;
    }
    int rc = 1;
    float *logits = NULL;
    mmx_seq *seq = NULL;
    FILE *f = NULL;
    mmx_model *m = cli_load_model("logits", model_path, (int)threads, block, reference);
    if (!m) goto done;
    mmx_model_info info;
    mmx_model_get_info(m, &info);
    mmx_seq_params sp = mmx_seq_default_params();
    sp.n_ctx = n;
    sp.n_batch = chunk ? chunk : (n < 512 ? n : 512);
    mmx_error err;
    if (mmx_seq_create(m, &sp, &seq, &err) != MMX_OK) {
        fprintf(stderr, "mmx logits: %s\n", err.message);
        goto done;
    }
    mmx_seq_set_step_mode(seq, step);
    logits = malloc(n * info.n_vocab * sizeof *logits);
    if (!logits) {
        fprintf(stderr, "mmx logits: out of memory for %zu x %zu logits\n", n, info.n_vocab);
        goto done;
    }
    /* --chunk N: separate calls of N tokens (the state carries across calls) */
    size_t step_n = chunk ? chunk : n;
    for (size_t i = 0; i < n; i += step_n) {
        size_t T = n - i < step_n ? n - i : step_n;
        if (mmx_seq_eval(seq, tokens + i, T, MMX_LOGITS_ALL, logits + i * info.n_vocab, &err) != MMX_OK) {
            fprintf(stderr, "mmx logits: %s\n", err.message);
            goto done;
        }
    }
    if (out_path) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", out_path);
        f = fopen(tmp, "wb");
        if (!f) {
            fprintf(stderr, "mmx logits: cannot write %s: ", tmp);
            perror(NULL);
            goto done;
        }
        size_t count = n * info.n_vocab;
        if (fwrite(logits, sizeof *logits, count, f) != count || fclose(f) != 0) {
            f = NULL;
            fprintf(stderr, "mmx logits: write to %s failed\n", tmp);
            remove(tmp);
            goto done;
        }
        f = NULL;
        if (rename(tmp, out_path) != 0) {
            fprintf(stderr, "mmx logits: cannot rename %s to %s\n", tmp, out_path);
            goto done;
        }
    }
    /* top-5 of the last position */
    const float *last = logits + (n - 1) * info.n_vocab;
    int top[5] = {-1, -1, -1, -1, -1};
    for (size_t v = 0; v < info.n_vocab; v++) {
        for (int j = 0; j < 5; j++) {
            if (top[j] < 0 || last[v] > last[top[j]]) {
                memmove(top + j + 1, top + j, (size_t)(4 - j) * sizeof top[0]);
                top[j] = (int)v;
                break;
            }
        }
    }
    printf("top-5 of position %zu:", n - 1);
    for (int j = 0; j < 5 && top[j] >= 0; j++) printf(" %d (%.4f)", top[j], last[top[j]]);
    printf("\n");
    rc = 0;
done:
    if (f) fclose(f);
    free(logits);
    free(tokens);
    mmx_seq_free(seq);
    mmx_model_free(m);
    return rc;
}
