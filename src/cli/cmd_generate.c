/* mmx generate: greedy continuation of a token list, printed as token ids. */
#include "cli.h"
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mmx_cmd_generate(int argc, char **argv) {
    const char *model_path = NULL, *tokens_text = NULL;
    size_t n_gen = 16, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: mmx generate -m MODEL --tokens 1,2,3 [-n N] [-t THREADS]\n"
                   "  Greedy continuation: prints N generated token ids, comma-separated.\n");
            return 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(model_path = cli_value("generate", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--tokens")) {
            if (!(tokens_text = cli_value("generate", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "-n")) {
            if (!(v = cli_value("generate", argc, argv, &i)) || !cli_parse_size("generate", a, v, &n_gen)) return 2;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!(v = cli_value("generate", argc, argv, &i)) || !cli_parse_size("generate", a, v, &threads)) return 2;
        } else {
            fprintf(stderr, "mmx generate: unknown option '%s'\n", a);
            return 2;
        }
    }
    if (!model_path || !tokens_text) {
        fprintf(stderr, "mmx generate: -m MODEL and --tokens are required\n");
        return 2;
    }
    int32_t *tokens;
    size_t n;
    if (!cli_parse_tokens("generate", tokens_text, &tokens, &n)) return 2;
    if (n == 0) {
        fprintf(stderr, "mmx generate: --tokens is empty\n");
        free(tokens);
        return 2;
    }
    int rc = 1;
    float *logits = NULL;
    mmx_seq *seq = NULL;
    mmx_model *m = cli_load_model("generate", model_path, (int)threads, 0, false);
    if (!m) goto done;
    mmx_model_info info;
    mmx_model_get_info(m, &info);
    mmx_seq_params sp = mmx_seq_default_params();
    sp.n_ctx = n + n_gen;
    mmx_error err;
    if (mmx_seq_create(m, &sp, &seq, &err) != MMX_OK || !(logits = malloc(info.n_vocab * sizeof *logits))) {
        fprintf(stderr, "mmx generate: %s\n", seq ? "out of memory" : err.message);
        goto done;
    }
    int32_t next;
    const int32_t *in = tokens;
    size_t n_in = n;
    for (size_t g = 0; g < n_gen; g++) {
        if (mmx_seq_eval(seq, in, n_in, MMX_LOGITS_LAST, logits, &err) != MMX_OK) {
            fprintf(stderr, "mmx generate: %s\n", err.message);
            goto done;
        }
        /* greedy over the valid ids (padding ids are never produced) */
        size_t best = 0;
        for (size_t v = 1; v < info.n_vocab_valid; v++)
            if (logits[v] > logits[best]) best = v;
        next = (int32_t)best;
        printf(g ? ",%d" : "%d", next);
        fflush(stdout);
        in = &next;
        n_in = 1;
    }
    printf("\n");
    rc = 0;
done:
    free(logits);
    free(tokens);
    mmx_seq_free(seq);
    mmx_model_free(m);
    return rc;
}
