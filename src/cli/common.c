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
    return cli_load_model_params(cmd, path, &mp);
}

mmx_model *cli_load_model_params(const char *cmd, const char *path, const mmx_model_params *mp) {
    mmx_model *m = NULL;
    mmx_error err;
    if (mmx_model_load(path, mp, &m, &err) != MMX_OK) {
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

#include "gguf.h"
#include <jansson.h>
#include <sys/stat.h>

int cli_write_gguf_tokenizer(struct mmx_gguf_writer *w, const char *dir, size_t n_vocab) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        /* no tokenizer: a placeholder byte-level vocabulary (256 byte tokens, the rest unused), so
         * that tools which require a tokenizer, such as llama.cpp, can load the file */
        if (n_vocab < 256) return 0;
        const char **toks = calloc(n_vocab, sizeof *toks);
        int64_t *types = calloc(n_vocab, sizeof *types);
        char *names = calloc(n_vocab, 32);
        if (!toks || !types || !names) {
            free(toks), free(types), free(names);
            fprintf(stderr, "mmx quantize: out of memory\n");
            return -1;
        }
        for (size_t j = 0; j < n_vocab; j++) {
            char *nm = names + 32 * j;
            if (j < 256) {
                /* GPT-2 byte-to-unicode code point of byte j, UTF-8 encoded */
                unsigned cp = (unsigned)j;
                if (!((j >= 33 && j <= 126) || (j >= 161 && j <= 172) || (j >= 174 && j <= 255))) {
                    unsigned k = 0;
                    for (unsigned x = 0; x < j; x++)
                        if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) k++;
                    cp = 256 + k;
                }
                if (cp < 0x80) nm[0] = (char)cp;
                else nm[0] = (char)(0xc0 | (cp >> 6)), nm[1] = (char)(0x80 | (cp & 0x3f));
                types[j] = 1;
            } else {
                snprintf(nm, 32, "[PAD%zu]", j);
                types[j] = 5;
            }
            toks[j] = nm;
        }
        mmx_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", 4);
        mmx_gguf_writer_set_str(w, "tokenizer.ggml.pre", "minimax-m2", 10);
        mmx_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, NULL, n_vocab);
        mmx_gguf_writer_set_arr_int(w, "tokenizer.ggml.token_type", MMX_GGUF_I32, types, n_vocab);
        mmx_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", NULL, NULL, 0);
        free(toks), free(types), free(names);
        return 1;
    }
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        fprintf(stderr, "mmx quantize: %s: bad JSON: %s\n", path, jerr.text);
        return -1;
    }
    json_t *vocab = json_object_get(json_object_get(root, "model"), "vocab");
    json_t *merges = json_object_get(json_object_get(root, "model"), "merges");
    json_t *added = json_object_get(root, "added_tokens");
    const char **toks = calloc(n_vocab, sizeof *toks);
    int64_t *types = calloc(n_vocab, sizeof *types);
    char *pads = calloc(n_vocab, 32);
    int rc = -1;
    if (!toks || !types || !pads || !json_is_object(vocab) || !json_is_array(merges)) {
        fprintf(stderr, "mmx quantize: %s: not a BPE tokenizer.json\n", path);
        goto done;
    }
    const char *k;
    json_t *v;
    json_object_foreach(vocab, k, v) {
        json_int_t id = json_integer_value(v);
        if (id < 0 || (size_t)id >= n_vocab) {
            fprintf(stderr, "mmx quantize: %s: token id %lld does not fit the vocabulary of %zu\n", path, (long long)id,
                    n_vocab);
            goto done;
        }
        toks[id] = k;
        types[id] = 1;
    }
    size_t i;
    json_array_foreach(added, i, v) {
        json_int_t id = json_integer_value(json_object_get(v, "id"));
        if (id < 0 || (size_t)id >= n_vocab) continue;
        toks[id] = json_string_value(json_object_get(v, "content"));
        types[id] = 3;
    }
    for (size_t j = 0; j < n_vocab; j++)
        if (!toks[j]) {
            snprintf(pads + 32 * j, 32, "[PAD%zu]", j);
            toks[j] = pads + 32 * j;
            types[j] = 5; /* unused */
        }
    size_t nm = json_array_size(merges);
    const char **ms = calloc(nm ? nm : 1, sizeof *ms);
    char **owned = calloc(nm ? nm : 1, sizeof *owned);
    json_array_foreach(merges, i, v) {
        if (json_is_string(v)) {
            ms[i] = json_string_value(v);
        } else { /* ["a", "b"] pair form */
            const char *a = json_string_value(json_array_get(v, 0)), *b = json_string_value(json_array_get(v, 1));
            size_t n = strlen(a ? a : "") + strlen(b ? b : "") + 2;
            owned[i] = malloc(n);
            snprintf(owned[i], n, "%s %s", a ? a : "", b ? b : "");
            ms[i] = owned[i];
        }
    }
    mmx_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", 4);
    mmx_gguf_writer_set_str(w, "tokenizer.ggml.pre", "minimax-m2", 10);
    mmx_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", toks, NULL, n_vocab);
    mmx_gguf_writer_set_arr_int(w, "tokenizer.ggml.token_type", MMX_GGUF_I32, types, n_vocab);
    mmx_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", ms, NULL, nm);
    json_t *eos = NULL;
    json_array_foreach(added, i, v) if (!strcmp(json_string_value(json_object_get(v, "content")) ? json_string_value(json_object_get(v, "content")) : "", "<end_of_sentence>")) eos = v;
    if (eos) mmx_gguf_writer_set_int(w, "tokenizer.ggml.eos_token_id", MMX_GGUF_U32, json_integer_value(json_object_get(eos, "id")));
    mmx_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", false);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    json_t *tc = json_load_file(path, 0, NULL);
    json_t *tmpl = json_object_get(tc, "chat_template");
    if (json_is_string(tmpl)) mmx_gguf_writer_set_str(w, "tokenizer.chat_template", json_string_value(tmpl), json_string_length(tmpl));
    json_decref(tc);
    for (size_t j = 0; j < nm; j++) free(owned[j]);
    free(owned);
    free(ms);
    rc = 1;
done:
    free(toks);
    free(types);
    free(pads);
    json_decref(root);
    return rc;
}
