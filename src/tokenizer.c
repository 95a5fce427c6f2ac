/*
 * tokenizer.c — byte-level BPE (see tokenizer.h for the algorithm and its contracts).
 */
#define _GNU_SOURCE
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer.h"
#include "gguf.h"
#include "util.h"

#include <jansson.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Pre-tokenizer regexes for GGUF files, which name the pre-tokenizer instead of storing it. */
#define REGEX_MINIMAX                                                                                   \
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|" \
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|" \
    "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define REGEX_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
#define REGEX_LLAMA3                                                                                    \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|" \
    "\\s+(?!\\S)|\\s+"

typedef struct {
    uint32_t off, len; /* into the byte arena; len 0 with off UINT32_MAX = unused id */
} tok_bytes;

typedef struct {
    int32_t id;
    bool special, lstrip, rstrip;
} added_token;

/* open-addressing maps */
typedef struct {
    uint64_t key;   /* left << 32 | right, +1 so 0 means empty */
    uint32_t rank;
    int32_t merged;
} merge_slot;

struct mmx_tokenizer {
    size_t n_vocab;
    tok_bytes *tokens;   /* [n_vocab] decoded bytes of each id */
    char *arena;
    size_t arena_len, arena_cap;
    int32_t byte_id[256];
    /* bytes -> id over the BPE vocabulary (not added tokens) */
    int32_t *vocab_slots;
    size_t vocab_cap;
    merge_slot *merges;
    size_t merges_cap;
    added_token *added;  /* sorted by id */
    size_t n_added;
    bool *is_special;    /* [n_vocab] */
    int32_t eos;
    pcre2_code *re;
};

/* ---- GPT-2 byte <-> unicode mapping ------------------------------------------------------------ */

/* The code point that byte b is written as in byte-level vocabularies. */
static uint32_t byte_to_cp(int b) {
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)) return (uint32_t)b;
    int n = 0;
    for (int x = 0; x < b; x++)
        if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255))) n++;
    return 256u + (uint32_t)n;
}

static int cp_to_byte_table[324];
static void init_cp_table(void) {
    static bool done;
    if (done) return;
    for (int i = 0; i < 324; i++) cp_to_byte_table[i] = -1;
    for (int b = 0; b < 256; b++) cp_to_byte_table[byte_to_cp(b)] = b;
    done = true;
}

/* Decodes one UTF-8 code point; returns its length or 0 if invalid. */
static size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp) {
    if (n == 0) return 0;
    uint8_t c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if ((c & 0xe0) == 0xc0) len = 2, v = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0) len = 3, v = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0) len = 4, v = c & 0x07, min = 0x10000;
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return len;
}

size_t mmx_utf8_complete_prefix(const char *s, size_t len) {
    /* look back at most 3 bytes for an unfinished multi-byte sequence */
    size_t i = len, back = 0;
    while (i > 0 && back < 4) {
        uint8_t c = (uint8_t)s[i - 1];
        if ((c & 0xc0) != 0x80) {
            size_t need = c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xc0 && c < 0xe0 ? 2 : 1;
            if (need > 1 && len - (i - 1) < need) {
                /* incomplete only if the bytes seen so far are valid continuations */
                return i - 1;
            }
            return len;
        }
        i--;
        back++;
    }
    return len;
}

/* ---- hashing ---------------------------------------------------------------------------------- */

static uint64_t hash_bytes(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static const char *tb(const mmx_tokenizer *t, int32_t id, size_t *len) {
    *len = t->tokens[id].len;
    return t->arena + t->tokens[id].off;
}

static int32_t vocab_lookup(const mmx_tokenizer *t, const char *p, size_t n) {
    size_t mask = t->vocab_cap - 1, i = (size_t)hash_bytes(p, n) & mask;
    while (t->vocab_slots[i] >= 0) {
        size_t l;
        const char *s = tb(t, t->vocab_slots[i], &l);
        if (l == n && !memcmp(s, p, n)) return t->vocab_slots[i];
        i = (i + 1) & mask;
    }
    return -1;
}

static void vocab_insert(mmx_tokenizer *t, int32_t id) {
    size_t n;
    const char *p = tb(t, id, &n);
    size_t mask = t->vocab_cap - 1, i = (size_t)hash_bytes(p, n) & mask;
    while (t->vocab_slots[i] >= 0) {
        size_t l;
        const char *s = tb(t, t->vocab_slots[i], &l);
        if (l == n && !memcmp(s, p, n)) return; /* keep the first id for duplicate byte strings */
        i = (i + 1) & mask;
    }
    t->vocab_slots[i] = id;
}

static const merge_slot *merge_lookup(const mmx_tokenizer *t, int32_t a, int32_t b) {
    uint64_t key = ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1;
    size_t mask = t->merges_cap - 1, i = (size_t)mix64(key) & mask;
    while (t->merges[i].key) {
        if (t->merges[i].key == key) return &t->merges[i];
        i = (i + 1) & mask;
    }
    return NULL;
}

static void merge_insert(mmx_tokenizer *t, int32_t a, int32_t b, uint32_t rank, int32_t merged) {
    uint64_t key = ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1;
    size_t mask = t->merges_cap - 1, i = (size_t)mix64(key) & mask;
    while (t->merges[i].key) {
        if (t->merges[i].key == key) return; /* first (lowest) rank wins */
        i = (i + 1) & mask;
    }
    t->merges[i] = (merge_slot){key, rank, merged};
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

/* ---- construction ------------------------------------------------------------------------------- */

void mmx_tokenizer_free(mmx_tokenizer *t) {
    if (!t) return;
    free(t->tokens);
    free(t->arena);
    free(t->vocab_slots);
    free(t->merges);
    free(t->added);
    free(t->is_special);
    if (t->re) pcre2_code_free(t->re);
    free(t);
}

static bool arena_add(mmx_tokenizer *t, const char *p, size_t n, uint32_t *off) {
    if (t->arena_len + n > t->arena_cap) {
        size_t cap = t->arena_cap ? t->arena_cap : 1 << 20;
        while (cap < t->arena_len + n) cap *= 2;
        if (cap > UINT32_MAX) return false;
        char *a = realloc(t->arena, cap);
        if (!a) return false;
        t->arena = a;
        t->arena_cap = cap;
    }
    memcpy(t->arena + t->arena_len, p, n);
    *off = (uint32_t)t->arena_len;
    t->arena_len += n;
    return true;
}

/* Sets token `id` from its vocabulary string: byte-level decoded unless `raw` (added tokens). */
static mmx_status set_token(mmx_tokenizer *t, int32_t id, const char *s, size_t n, bool raw, const char *src,
                            mmx_error *err) {
    char buf[1024];
    char *dst = n <= sizeof buf ? buf : malloc(n);
    if (!dst) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    size_t m = 0;
    if (raw) {
        memcpy(dst, s, n);
        m = n;
    } else {
        for (size_t i = 0; i < n;) {
            uint32_t cp;
            size_t l = utf8_decode((const uint8_t *)s + i, n - i, &cp);
            if (!l || cp >= 324 || cp_to_byte_table[cp] < 0) {
                if (dst != buf) free(dst);
                return mmx_fail(err, MMX_ERR_FORMAT, "%s: token %d ('%.*s') is not byte-level encoded", src, id,
                                (int)(n > 40 ? 40 : n), s);
            }
            dst[m++] = (char)cp_to_byte_table[cp];
            i += l;
        }
    }
    uint32_t off;
    bool ok = arena_add(t, dst, m, &off);
    if (dst != buf) free(dst);
    if (!ok) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    t->tokens[id] = (tok_bytes){off, (uint32_t)m};
    return MMX_OK;
}

static mmx_status alloc_tables(mmx_tokenizer *t, size_t n_vocab, size_t n_merges, mmx_error *err) {
    t->n_vocab = n_vocab;
    t->tokens = malloc(n_vocab * sizeof *t->tokens);
    t->is_special = calloc(n_vocab, sizeof *t->is_special);
    t->vocab_cap = pow2_at_least(2 * n_vocab + 2);
    t->vocab_slots = malloc(t->vocab_cap * sizeof *t->vocab_slots);
    t->merges_cap = pow2_at_least(2 * n_merges + 2);
    t->merges = calloc(t->merges_cap, sizeof *t->merges);
    if (!t->tokens || !t->is_special || !t->vocab_slots || !t->merges) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n_vocab; i++) t->tokens[i] = (tok_bytes){UINT32_MAX, 0};
    for (size_t i = 0; i < t->vocab_cap; i++) t->vocab_slots[i] = -1;
    return MMX_OK;
}

static mmx_status compile_regex(mmx_tokenizer *t, const char *pattern, size_t len, const char *src, mmx_error *err) {
    int code;
    PCRE2_SIZE off;
    t->re = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_UTF | PCRE2_UCP, &code, &off, NULL);
    if (!t->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: pre-tokenizer regex does not compile at offset %zu: %s", src,
                        (size_t)off, (const char *)msg);
    }
    pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE); /* optional: falls back to the interpreter */
    return MMX_OK;
}

/* After tokens are set: byte ids, vocab map. */
static mmx_status finish_vocab(mmx_tokenizer *t, const char *src, mmx_error *err) {
    for (int b = 0; b < 256; b++) t->byte_id[b] = -1;
    for (size_t id = 0; id < t->n_vocab; id++) {
        if (t->tokens[id].off == UINT32_MAX || t->is_special[id]) continue;
        bool added = false;
        for (size_t a = 0; a < t->n_added; a++) added |= t->added[a].id == (int32_t)id;
        if (added) continue;
        vocab_insert(t, (int32_t)id);
        if (t->tokens[id].len == 1) {
            uint8_t b = (uint8_t)t->arena[t->tokens[id].off];
            if (t->byte_id[b] < 0) t->byte_id[b] = (int32_t)id;
        }
    }
    for (int b = 0; b < 256; b++)
        if (t->byte_id[b] < 0)
            return mmx_fail(err, MMX_ERR_FORMAT, "%s: the vocabulary has no token for byte 0x%02x (not byte-level BPE?)",
                            src, b);
    return MMX_OK;
}

static mmx_status add_merge(mmx_tokenizer *t, const char *a, size_t na, const char *b, size_t nb, uint32_t rank,
                            const char *src, mmx_error *err) {
    /* byte-level decode both halves */
    char buf[2048];
    size_t m = 0;
    int32_t ids[2];
    const char *parts[2] = {a, b};
    size_t lens[2] = {na, nb};
    for (int p = 0; p < 2; p++) {
        size_t start = m;
        for (size_t i = 0; i < lens[p];) {
            uint32_t cp;
            size_t l = utf8_decode((const uint8_t *)parts[p] + i, lens[p] - i, &cp);
            if (!l || cp >= 324 || cp_to_byte_table[cp] < 0 || m >= sizeof buf)
                return mmx_fail(err, MMX_ERR_FORMAT, "%s: merge %u has a part that is not byte-level encoded", src, rank);
            buf[m++] = (char)cp_to_byte_table[cp];
            i += l;
        }
        ids[p] = vocab_lookup(t, buf + start, m - start);
        if (ids[p] < 0)
            return mmx_fail(err, MMX_ERR_FORMAT, "%s: merge %u ('%.*s %.*s') names a token not in the vocabulary", src,
                            rank, (int)(na > 30 ? 30 : na), a, (int)(nb > 30 ? 30 : nb), b);
    }
    int32_t merged = vocab_lookup(t, buf, m);
    if (merged < 0)
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: merge %u ('%.*s %.*s') produces a token not in the vocabulary", src, rank,
                        (int)(na > 30 ? 30 : na), a, (int)(nb > 30 ? 30 : nb), b);
    merge_insert(t, ids[0], ids[1], rank, merged);
    return MMX_OK;
}

static int cmp_added(const void *x, const void *y) {
    const added_token *a = x, *b = y;
    return (a->id > b->id) - (a->id < b->id);
}

static void set_eos(mmx_tokenizer *t, int32_t fallback) {
    t->eos = mmx_tokenizer_find(t, "<end_of_sentence>");
    if (t->eos < 0) t->eos = fallback;
}

mmx_status mmx_tokenizer_load_json(const char *path, mmx_tokenizer **out, mmx_error *err) {
    init_cp_table();
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        FILE *f = fopen(path, "rb");
        if (!f) return mmx_fail(err, MMX_ERR_IO, "%s: cannot open", path);
        fclose(f);
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: bad JSON at line %d column %d: %s", path, jerr.line, jerr.column,
                        jerr.text);
    }
    mmx_status st = MMX_OK;
    mmx_tokenizer *t = calloc(1, sizeof *t);
    json_t *model = json_object_get(root, "model");
    json_t *vocab = json_object_get(model, "vocab"), *merges = json_object_get(model, "merges");
    json_t *added = json_object_get(root, "added_tokens");
    const char *type = json_string_value(json_object_get(model, "type"));
    if (!t) {
        st = mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
        goto done;
    }
    if (!json_is_object(model) || (type && strcmp(type, "BPE"))) {
        st = mmx_fail(err, MMX_ERR_UNSUPPORTED, "%s: model.type is '%s', only BPE is supported", path, type ? type : "?");
        goto done;
    }
    if (!json_is_object(vocab) || !json_is_array(merges)) {
        st = mmx_fail(err, MMX_ERR_FORMAT, "%s: model.vocab (object) or model.merges (array) missing", path);
        goto done;
    }
    /* the split regex: pre_tokenizer Split, alone or inside a Sequence */
    json_t *pre = json_object_get(root, "pre_tokenizer");
    const char *pattern = NULL;
    json_t *list = json_object_get(pre, "pretokenizers");
    size_t n_pre = json_is_array(list) ? json_array_size(list) : 1;
    for (size_t i = 0; i < n_pre && !pattern; i++) {
        json_t *p = json_is_array(list) ? json_array_get(list, i) : pre;
        const char *pt = json_string_value(json_object_get(p, "type"));
        if (pt && !strcmp(pt, "Split")) {
            json_t *pat = json_object_get(p, "pattern");
            pattern = json_string_value(json_object_get(pat, "Regex"));
            if (!pattern) pattern = json_string_value(json_object_get(pat, "String"));
        }
    }
    if (!pattern) {
        st = mmx_fail(err, MMX_ERR_UNSUPPORTED, "%s: no Split pre-tokenizer with a regex found", path);
        goto done;
    }
    /* vocabulary size: 1 + largest id over vocab and added tokens */
    size_t n_vocab = 0;
    const char *key;
    json_t *val;
    json_object_foreach(vocab, key, val) {
        json_int_t id = json_integer_value(val);
        if (!json_is_integer(val) || id < 0 || id >= (1 << 24)) {
            st = mmx_fail(err, MMX_ERR_FORMAT, "%s: vocab entry '%.40s' has a bad id", path, key);
            goto done;
        }
        if ((size_t)id + 1 > n_vocab) n_vocab = (size_t)id + 1;
    }
    size_t n_added = json_is_array(added) ? json_array_size(added) : 0;
    for (size_t i = 0; i < n_added; i++) {
        json_int_t id = json_integer_value(json_object_get(json_array_get(added, i), "id"));
        if (id < 0 || id >= (1 << 24) || !json_string_value(json_object_get(json_array_get(added, i), "content"))) {
            st = mmx_fail(err, MMX_ERR_FORMAT, "%s: added_tokens[%zu] has a bad id or content", path, i);
            goto done;
        }
        if ((size_t)id + 1 > n_vocab) n_vocab = (size_t)id + 1;
    }
    if ((st = alloc_tables(t, n_vocab, json_array_size(merges), err)) != MMX_OK) goto done;
    t->added = calloc(n_added + 1, sizeof *t->added);
    if (!t->added) {
        st = mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
        goto done;
    }
    json_object_foreach(vocab, key, val) {
        if ((st = set_token(t, (int32_t)json_integer_value(val), key, strlen(key), false, path, err)) != MMX_OK) goto done;
    }
    for (size_t i = 0; i < n_added; i++) {
        json_t *a = json_array_get(added, i);
        const char *content = json_string_value(json_object_get(a, "content"));
        int32_t id = (int32_t)json_integer_value(json_object_get(a, "id"));
        if ((st = set_token(t, id, content, strlen(content), true, path, err)) != MMX_OK) goto done;
        t->added[t->n_added++] = (added_token){id, json_is_true(json_object_get(a, "special")),
                                               json_is_true(json_object_get(a, "lstrip")),
                                               json_is_true(json_object_get(a, "rstrip"))};
        t->is_special[id] = json_is_true(json_object_get(a, "special"));
    }
    qsort(t->added, t->n_added, sizeof *t->added, cmp_added);
    if ((st = finish_vocab(t, path, err)) != MMX_OK) goto done;
    for (size_t i = 0; i < json_array_size(merges); i++) {
        json_t *mg = json_array_get(merges, i);
        const char *a, *b;
        size_t na, nb;
        if (json_is_string(mg)) {
            const char *s = json_string_value(mg), *sp = strchr(s, ' ');
            if (!sp) {
                st = mmx_fail(err, MMX_ERR_FORMAT, "%s: merges[%zu] ('%.40s') is not \"a b\"", path, i, s);
                goto done;
            }
            a = s, na = (size_t)(sp - s), b = sp + 1, nb = strlen(sp + 1);
        } else if (json_is_array(mg) && json_array_size(mg) == 2 && json_is_string(json_array_get(mg, 0)) &&
                   json_is_string(json_array_get(mg, 1))) {
            a = json_string_value(json_array_get(mg, 0)), na = json_string_length(json_array_get(mg, 0));
            b = json_string_value(json_array_get(mg, 1)), nb = json_string_length(json_array_get(mg, 1));
        } else {
            st = mmx_fail(err, MMX_ERR_FORMAT, "%s: merges[%zu] is neither \"a b\" nor [\"a\", \"b\"]", path, i);
            goto done;
        }
        if ((st = add_merge(t, a, na, b, nb, (uint32_t)i, path, err)) != MMX_OK) goto done;
    }
    if ((st = compile_regex(t, pattern, strlen(pattern), path, err)) != MMX_OK) goto done;
    set_eos(t, -1);
done:
    json_decref(root);
    if (st != MMX_OK) {
        mmx_tokenizer_free(t);
        return st;
    }
    *out = t;
    return MMX_OK;
}

mmx_status mmx_tokenizer_load_gguf(const mmx_gguf *g, const char *name, mmx_tokenizer **out, mmx_error *err) {
    init_cp_table();
    *out = NULL;
    const char *model, *pre = "default";
    size_t model_len, pre_len = 7, n_tokens, n_merges = 0, n_types = 0;
    mmx_gguf_type et;
    if (!mmx_gguf_get_str(g, "tokenizer.ggml.model", &model, &model_len))
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: no embedded tokenizer (tokenizer.ggml.model missing)", name);
    if (model_len != 4 || memcmp(model, "gpt2", 4))
        return mmx_fail(err, MMX_ERR_UNSUPPORTED, "%s: tokenizer.ggml.model '%.*s' is not supported (gpt2 BPE only)", name,
                        (int)(model_len > 32 ? 32 : model_len), model);
    if (!mmx_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &n_tokens) || et != MMX_GGUF_STRING || n_tokens == 0 ||
        n_tokens > (1 << 24))
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tokenizer.ggml.tokens missing or not a string array", name);
    if (mmx_gguf_get_arr(g, "tokenizer.ggml.merges", &et, &n_merges) && et != MMX_GGUF_STRING)
        return mmx_fail(err, MMX_ERR_FORMAT, "%s: tokenizer.ggml.merges is not a string array", name);
    bool have_types = mmx_gguf_get_arr(g, "tokenizer.ggml.token_type", &et, &n_types) && n_types == n_tokens;
    mmx_gguf_get_str(g, "tokenizer.ggml.pre", &pre, &pre_len);
    const char *regex;
#define PRE_IS(s) (pre_len == strlen(s) && !memcmp(pre, s, pre_len))
    if (PRE_IS("minimax-m2") || PRE_IS("minimax-01") || PRE_IS("minimax"))
        regex = REGEX_MINIMAX;
    else if (PRE_IS("gpt2") || PRE_IS("default"))
        regex = REGEX_GPT2;
    else if (PRE_IS("llama-bpe") || PRE_IS("llama3"))
        regex = REGEX_LLAMA3;
    else
        return mmx_fail(err, MMX_ERR_UNSUPPORTED, "%s: unknown pre-tokenizer tokenizer.ggml.pre = '%.*s'", name,
                        (int)(pre_len > 32 ? 32 : pre_len), pre);
#undef PRE_IS
    mmx_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    mmx_status st = alloc_tables(t, n_tokens, n_merges, err);
    if (st == MMX_OK && !(t->added = calloc(n_tokens, sizeof *t->added))) st = mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == MMX_OK && i < n_tokens; i++) {
        const char *s;
        size_t n;
        int64_t ty = 1;
        mmx_gguf_arr_str(g, "tokenizer.ggml.tokens", i, &s, &n);
        if (have_types) mmx_gguf_arr_int(g, "tokenizer.ggml.token_type", i, &ty);
        /* ggml token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte */
        bool is_added = ty == 3 || ty == 4;
        if (ty == 5) continue;
        st = set_token(t, (int32_t)i, s, n, is_added, name, err);
        if (st == MMX_OK && is_added) {
            t->added[t->n_added++] = (added_token){(int32_t)i, ty == 3, false, false};
            t->is_special[i] = ty == 3;
        }
    }
    if (st == MMX_OK) st = finish_vocab(t, name, err);
    for (size_t i = 0; st == MMX_OK && i < n_merges; i++) {
        const char *s, *sp;
        size_t n;
        mmx_gguf_arr_str(g, "tokenizer.ggml.merges", i, &s, &n);
        sp = memchr(s, ' ', n);
        if (!sp) st = mmx_fail(err, MMX_ERR_FORMAT, "%s: tokenizer.ggml.merges[%zu] is not \"a b\"", name, i);
        else st = add_merge(t, s, (size_t)(sp - s), sp + 1, n - (size_t)(sp - s) - 1, (uint32_t)i, name, err);
    }
    if (st == MMX_OK) st = compile_regex(t, regex, strlen(regex), name, err);
    if (st != MMX_OK) {
        mmx_tokenizer_free(t);
        return st;
    }
    int64_t eos = -1;
    mmx_gguf_get_int(g, "tokenizer.ggml.eos_token_id", &eos);
    set_eos(t, eos >= 0 && (size_t)eos < n_tokens ? (int32_t)eos : -1);
    *out = t;
    return MMX_OK;
}

mmx_status mmx_tokenizer_load(const char *path, mmx_tokenizer **out, mmx_error *err) {
    struct stat sb;
    *out = NULL;
    if (stat(path, &sb) != 0) return mmx_fail(err, MMX_ERR_IO, "%s: no such file or directory", path);
    if (S_ISDIR(sb.st_mode)) {
        char p[4096];
        snprintf(p, sizeof p, "%s/tokenizer.json", path);
        if (stat(p, &sb) != 0) return mmx_fail(err, MMX_ERR_IO, "%s: no tokenizer.json in the model directory", path);
        return mmx_tokenizer_load_json(p, out, err);
    }
    size_t n = strlen(path);
    if (n >= 5 && !strcmp(path + n - 5, ".gguf")) {
        mmx_gguf *g;
        mmx_status st = mmx_gguf_open(path, &g, err);
        if (st != MMX_OK) return st;
        st = mmx_tokenizer_load_gguf(g, path, out, err);
        mmx_gguf_free(g);
        return st;
    }
    return mmx_tokenizer_load_json(path, out, err);
}

/* ---- queries ----------------------------------------------------------------------------------- */

size_t mmx_tokenizer_n_vocab(const mmx_tokenizer *t) { return t->n_vocab; }
int32_t mmx_tokenizer_eos(const mmx_tokenizer *t) { return t->eos; }
bool mmx_tokenizer_is_special(const mmx_tokenizer *t, int32_t id) {
    return id >= 0 && (size_t)id < t->n_vocab && t->is_special[id];
}

int32_t mmx_tokenizer_find(const mmx_tokenizer *t, const char *text) {
    size_t n = strlen(text);
    for (size_t a = 0; a < t->n_added; a++) {
        size_t l;
        const char *s = tb(t, t->added[a].id, &l);
        if (l == n && !memcmp(s, text, n)) return t->added[a].id;
    }
    return vocab_lookup(t, text, n);
}

const char *mmx_tokenizer_token_bytes(const mmx_tokenizer *t, int32_t id, size_t *len) {
    if (id < 0 || (size_t)id >= t->n_vocab || t->tokens[id].off == UINT32_MAX) return NULL;
    return tb(t, id, len);
}

mmx_status mmx_tokenizer_decode(const mmx_tokenizer *t, const int32_t *ids, size_t n, bool skip_special, char *out,
                                size_t cap, size_t *len, mmx_error *err) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l;
        const char *s = mmx_tokenizer_token_bytes(t, ids[i], &l);
        if (!s) return mmx_fail(err, MMX_ERR_INVALID_ARG, "token id %d at position %zu is not in the vocabulary", ids[i], i);
        if (skip_special && t->is_special[ids[i]]) continue;
        if (total + l <= cap) memcpy(out + total, s, l);
        else if (total < cap) memcpy(out + total, s, cap - total);
        total += l;
    }
    *len = total;
    return MMX_OK;
}

/* ---- encoding ---------------------------------------------------------------------------------- */

typedef struct {
    int32_t *ids;
    size_t cap, n;
} id_sink;

static inline void emit(id_sink *s, int32_t id) {
    if (s->n < s->cap) s->ids[s->n] = id;
    s->n++;
}

/* BPE over one piece of bytes.  work: scratch of 2*n int32. */
static void bpe_piece(const mmx_tokenizer *t, const uint8_t *p, size_t n, id_sink *out, int32_t *work) {
    if (n == 1) {
        emit(out, t->byte_id[p[0]]);
        return;
    }
    /* whole piece already a token with no cheaper split?  BPE must still follow merge order, so
     * only shortcut pieces of one byte. */
    int32_t *sym = work;          /* token id per live symbol */
    int32_t *next = work + n;     /* linked list over symbols */
    for (size_t i = 0; i < n; i++) {
        sym[i] = t->byte_id[p[i]];
        next[i] = i + 1 < n ? (int32_t)(i + 1) : -1;
    }
    for (;;) {
        uint32_t best_rank = UINT32_MAX;
        int32_t best = -1, best_merged = -1;
        for (int32_t i = 0; i >= 0 && next[i] >= 0; i = next[i]) {
            const merge_slot *m = merge_lookup(t, sym[i], sym[next[i]]);
            if (m && m->rank < best_rank) {
                best_rank = m->rank;
                best = i;
                best_merged = m->merged;
            }
        }
        if (best < 0) break;
        sym[best] = best_merged;
        next[best] = next[next[best]];
    }
    for (int32_t i = 0; i >= 0; i = next[i]) emit(out, sym[i]);
}

/* BPE for long pieces: same merges, heap-free but with per-pair rank caching to stay near-linear
 * per merge round (rounds are bounded by the piece length). */
static mmx_status encode_piece(const mmx_tokenizer *t, const uint8_t *p, size_t n, id_sink *out, int32_t *small,
                               size_t small_cap) {
    if (n == 0) return MMX_OK;
    int32_t *work = 2 * n <= small_cap ? small : malloc(2 * n * sizeof *work);
    if (!work) return MMX_ERR_NOMEM;
    bpe_piece(t, p, n, out, work);
    if (work != small) free(work);
    return MMX_OK;
}

/* Splits a span without added tokens by the regex and BPE-encodes each piece. */
static mmx_status encode_span(const mmx_tokenizer *t, const uint8_t *s, size_t n, id_sink *out,
                              pcre2_match_data *md, int32_t *small, size_t small_cap, mmx_error *err) {
    size_t pos = 0;
    while (pos < n) {
        int rc = pcre2_match(t->re, s, n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        size_t ms, me;
        if (rc == PCRE2_ERROR_NOMATCH) {
            ms = me = n;
        } else if (rc < 0) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(rc, msg, sizeof msg);
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "regex match failed: %s", (const char *)msg);
        } else {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            ms = ov[0], me = ov[1];
        }
        if (ms > pos && encode_piece(t, s + pos, ms - pos, out, small, small_cap) != MMX_OK) /* gap: its own piece */
            return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
        if (me > ms) {
            if (encode_piece(t, s + ms, me - ms, out, small, small_cap) != MMX_OK)
                return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
            pos = me;
        } else if (ms < n) {
            /* empty match: advance one character */
            uint32_t cp;
            size_t l = utf8_decode(s + ms, n - ms, &cp);
            if (encode_piece(t, s + ms, l ? l : 1, out, small, small_cap) != MMX_OK)
                return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
            pos = ms + (l ? l : 1);
        } else {
            pos = n;
        }
    }
    return MMX_OK;
}

size_t mmx_utf8_sanitize(const char *src, size_t n, char *dst) {
    const uint8_t *s = (const uint8_t *)src;
    size_t i = 0, m = 0;
    uint32_t cp;
    while (i < n) {
        size_t l = utf8_decode(s + i, n - i, &cp);
        if (l) {
            memcpy(dst + m, s + i, l);
            m += l;
            i += l;
            continue;
        }
        /* maximal subpart: a lead byte followed by the continuation bytes it could take */
        size_t skip = 1;
        uint8_t c = s[i];
        size_t want = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
        while (skip < want && i + skip < n && (s[i + skip] & 0xc0) == 0x80) skip++;
        if (want > 1 && skip > 1) {
            /* only continuation bytes that keep the prefix valid (no overlong form or surrogate) */
            uint8_t c1 = s[i + 1];
            bool ok1 = !((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) ||
                         (c == 0xf4 && c1 > 0x8f) || c == 0xc0 || c == 0xc1 || c > 0xf4);
            if (!ok1) skip = 1;
        }
        memcpy(dst + m, "\xef\xbf\xbd", 3);
        m += 3;
        i += skip;
    }
    return m;
}

/* Copies text replacing invalid UTF-8 by U+FFFD; returns NULL when text is valid (no copy needed). */
static uint8_t *sanitize_utf8(const uint8_t *s, size_t n, size_t *out_n, bool *oom) {
    *oom = false;
    size_t i = 0;
    uint32_t cp;
    while (i < n) {
        size_t l = utf8_decode(s + i, n - i, &cp);
        if (!l) break;
        i += l;
    }
    if (i == n) return NULL;
    uint8_t *d = malloc(3 * n + 1);
    if (!d) {
        *oom = true;
        return NULL;
    }
    *out_n = mmx_utf8_sanitize((const char *)s, n, (char *)d);
    return d;
}

mmx_status mmx_tokenizer_encode(const mmx_tokenizer *t, const char *text, size_t len, bool parse_special,
                                int32_t *ids, size_t cap, size_t *n_ids, mmx_error *err) {
    bool oom;
    size_t clean_len = len;
    uint8_t *clean = sanitize_utf8((const uint8_t *)text, len, &clean_len, &oom);
    if (oom) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    const uint8_t *s = clean ? clean : (const uint8_t *)text;
    size_t n = clean ? clean_len : len;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(t->re, NULL);
    if (!md) {
        free(clean);
        return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    }
    int32_t small[512];
    id_sink out = {ids, ids ? cap : 0, 0};
    mmx_status st = MMX_OK;
    size_t pos = 0;
    while (pos < n && st == MMX_OK) {
        /* next added token: leftmost, then longest */
        size_t best_at = n, best_len = 0;
        int32_t best_id = -1;
        if (parse_special)
            for (size_t a = 0; a < t->n_added; a++) {
                size_t l;
                const char *c = tb(t, t->added[a].id, &l);
                if (l == 0 || l > n - pos) continue;
                const uint8_t *hit = memmem(s + pos, n - pos, c, l);
                if (!hit) continue;
                size_t at = (size_t)(hit - s);
                if (at < best_at || (at == best_at && l > best_len)) {
                    best_at = at;
                    best_len = l;
                    best_id = t->added[a].id;
                }
            }
        size_t span_end = best_at, after = best_at + best_len;
        if (best_id >= 0) {
            const added_token *at = NULL;
            for (size_t a = 0; a < t->n_added; a++)
                if (t->added[a].id == best_id) at = &t->added[a];
            /* lstrip / rstrip: the token absorbs adjacent whitespace */
            if (at->lstrip)
                while (span_end > pos && (s[span_end - 1] == ' ' || s[span_end - 1] == '\t' || s[span_end - 1] == '\n' ||
                                          s[span_end - 1] == '\r'))
                    span_end--;
            if (at->rstrip)
                while (after < n && (s[after] == ' ' || s[after] == '\t' || s[after] == '\n' || s[after] == '\r')) after++;
        }
        st = encode_span(t, s + pos, span_end - pos, &out, md, small, sizeof small / sizeof small[0], err);
        if (best_id >= 0) emit(&out, best_id);
        pos = best_id >= 0 ? after : n;
    }
    pcre2_match_data_free(md);
    free(clean);
    *n_ids = out.n;
    return st;
}

mmx_status mmx_tokenizer_encode_alloc(const mmx_tokenizer *t, const char *text, size_t len, bool parse_special,
                                      int32_t **ids, size_t *n_ids, mmx_error *err) {
    size_t cap = len + 16, n;
    *ids = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        int32_t *buf = malloc(cap * sizeof *buf);
        if (!buf) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
        mmx_status st = mmx_tokenizer_encode(t, text, len, parse_special, buf, cap, &n, err);
        if (st != MMX_OK) {
            free(buf);
            return st;
        }
        if (n <= cap) {
            *ids = buf;
            *n_ids = n;
            return MMX_OK;
        }
        free(buf);
        cap = n;
    }
    return mmx_fail(err, MMX_ERR_NOMEM, "token count changed between passes");
}
