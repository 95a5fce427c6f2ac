#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cli_parse_tokens(const char *cmd, const char *text, int32_t **out, size_t *n_out) {
    size_t cap = 16, n = 0;
    int32_t *v = malloc(cap * sizeof *v);
    if (!v) return false;
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        char *end;
        errno = 0;
        long long x = strtoll(p, &end, 10);
        if (end == p || errno || x < 0 || x > INT32_MAX) {
            fprintf(stderr, "mmx %s: bad token id near '%.20s' (expected comma-separated non-negative integers)\n", cmd, p);
            free(v);
            return false;
        }
        if (n == cap) {
            int32_t *nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv) {
                free(v);
                return false;
            }
            v = nv;
            cap *= 2;
        }
        v[n++] = (int32_t)x;
        p = end;
        while (*p == ' ' || *p == '\t' || *p == '\n') p++;
        if (*p == ',') p++;
        else if (*p) {
            fprintf(stderr, "mmx %s: unexpected '%c' in token list\n", cmd, *p);
            free(v);
            return false;
        }
    }
    *out = v;
    *n_out = n;
    return true;
}

bool cli_parse_size(const char *cmd, const char *opt, const char *text, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long x = strtoull(text, &end, 10);
    if (!*text || *end || errno || text[0] == '-') {
        fprintf(stderr, "mmx %s: option %s needs a non-negative integer, got '%s'\n", cmd, opt, text);
        return false;
    }
    *out = (size_t)x;
    return true;
}

mmx_model *cli_load_model(const char *cmd, const char *path, int n_threads, size_t block, bool reference) {
    mmx_model_params mp = mmx_model_default_params();
    mp.n_threads = n_threads;
    mp.lightning_block = block;
    mp.force_reference = reference;
    mmx_model *m = NULL;
    mmx_error err;
    if (mmx_model_load(path, &mp, &m, &err) != MMX_OK) {
        fprintf(stderr, "mmx %s: %s\n", cmd, err.message);
        return NULL;
    }
    return m;
}

const char *cli_value(const char *cmd, int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "mmx %s: option %s needs a value\n", cmd, argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

#include "tokenizer.h"

struct mmx_tokenizer *cli_load_tokenizer(const char *cmd, const char *model_path, const char *tokenizer_path) {
    const char *path = tokenizer_path ? tokenizer_path : model_path;
    if (!path) {
        fprintf(stderr, "mmx %s: -m MODEL or --tokenizer PATH is required\n", cmd);
        return NULL;
    }
    mmx_tokenizer *t = NULL;
    mmx_error err;
    if (mmx_tokenizer_load(path, &t, &err) != MMX_OK) {
        fprintf(stderr, "mmx %s: %s\n", cmd, err.message);
        return NULL;
    }
    return t;
}

char *cli_read_stdin(size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) return NULL;
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, stdin)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, 2 * cap + 1);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    buf[n] = 0;
    *len = n;
    return buf;
}
