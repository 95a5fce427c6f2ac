/*
 * model.c — public model and sequence API (mmx.h): loading, info, sequence state, evaluation.
 */
#include "kernels/kernels.h"
#include "seq.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

mmx_model_params mmx_model_default_params(void) {
    mmx_model_params p = {0};
    p.n_threads = 0;
    p.lightning_block = 0;
    p.force_reference = false;
    p.activations = NULL;
    p.weights_in_hugepages = false;
    p.huge_map = MMX_HUGE_MAP_AUTO;
    return p;
}

mmx_seq_params mmx_seq_default_params(void) {
    mmx_seq_params p = {4096, 512};
    return p;
}

mmx_status mmx_model_load(const char *path, const mmx_model_params *params, mmx_model **out, mmx_error *err) {
    MMX_ASSERT(path && out);
    *out = NULL;
    mmx_model_params p = params ? *params : mmx_model_default_params();
    mmx_model *m = calloc(1, sizeof *m);
    if (!m) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&m->compute_lock, NULL);
    snprintf(m->path, sizeof m->path, "%s", path);
    mmx_status st = mmx_model_file_open(path, &m->file, err);
    if (st == MMX_OK) {
        if (mmx_model_file_kind(m->file) == MMX_SOURCE_GGUF) {
            m->source_format = "gguf";
            st = mmx_minimax01_config_from_gguf(mmx_model_file_gguf(m->file), path, &m->config, err);
        } else {
            m->source_format = "hf-safetensors";
            char cfg_path[1100];
            snprintf(cfg_path, sizeof cfg_path, "%s/config.json", path);
            st = mmx_minimax01_config_from_hf(mmx_model_file_config_json(m->file), cfg_path, &m->config, err);
        }
    }
    if (st == MMX_OK) st = mmx_minimax01_bind_weights(m, err);
    const char *hp_env = getenv("MMX_HUGEPAGES");
    m->weights_in_hugepages = p.weights_in_hugepages || (hp_env && *hp_env && strcmp(hp_env, "0") != 0);
    /* after every check passed, so a bad file is refused without reading it whole */
    if (st == MMX_OK && m->weights_in_hugepages) st = mmx_model_file_load_hugepages(m->file, err);
    const char *hm_env = getenv("MMX_HUGE_MAP");
    const bool huge_map = p.huge_map == MMX_HUGE_MAP_AUTO && !(hm_env && !strcmp(hm_env, "0"));
    if (st == MMX_OK && !m->weights_in_hugepages && huge_map) st = mmx_model_file_settle_hugepages(m->file, err);
    if (st == MMX_OK) mmx_model_file_page_bytes(m->file, &m->weight_file_bytes, &m->weight_file_bytes_huge);
    if (st != MMX_OK) {
        mmx_model_free(m);
        return st;
    }
    if (p.n_threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        p.n_threads = n > 0 ? (int)n : 1;
    }
    if (p.n_threads > 512) return mmx_model_free(m), mmx_fail(err, MMX_ERR_INVALID_ARG, "n_threads %d > 512", p.n_threads);
    /* 0: 64, the fastest block on the benchmark machine (docs/bench.md).  The config's block_size is the
     * original implementation's choice; any block gives the same logits up to rounding (SPEC §4.4). */
    if (p.lightning_block == 0) p.lightning_block = 64;
    if (p.lightning_block > 65536) {
        mmx_model_free(m);
        return mmx_fail(err, MMX_ERR_INVALID_ARG, "lightning block size %zu > 65536", p.lightning_block);
    }
    m->params = p;
    m->force_reference = p.force_reference || mmx_env_force_reference();
    m->act_mask = mmx_act_parse(p.activations ? p.activations : getenv("MMX_ACT"));
    for (size_t l = 0; l < m->config.n_layers; l++) m->layer_pattern[l] = m->config.is_softmax[l] ? 'S' : 'L';
    m->layer_pattern[m->config.n_layers] = 0;
    m->pool = mmx_pool_create(p.n_threads);
    if (!m->pool) {
        mmx_model_free(m);
        return mmx_fail(err, MMX_ERR_NOMEM, "cannot start %d threads", p.n_threads);
    }
    *out = m;
    return MMX_OK;
}

void mmx_model_free(mmx_model *m) {
    if (!m) return;
    mmx_pool_free(m->pool);
    if (m->owned) {
        void **list = m->owned;
        for (size_t i = 0; list[i]; i++) free(list[i]);
        free(list);
    }
    mmx_model_file_free(m->file);
    pthread_mutex_destroy(&m->compute_lock);
    free(m);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    const mmx_model_file *f;
    size_t total;
    mmx_stream_sum_fn sum;
    uint64_t sums[64];
} bw_job;

static void bw_worker(void *arg, int ith, int nth) {
    bw_job *j = arg;
    size_t b0, b1, at = 0;
    mmx_split_range(j->total, ith, nth, &b0, &b1);
    uint64_t acc = 0;
    for (size_t i = 0, n = mmx_model_file_n_tensors(j->f); i < n && at < b1; i++) {
        const mmx_tensor *t = mmx_model_file_tensor(j->f, i);
        const size_t lo = b0 > at ? b0 - at : 0, hi = b1 - at < t->n_bytes ? b1 - at : t->n_bytes;
        at += t->n_bytes;
        if (lo >= hi) continue;
        /* the 64-byte lines wholly inside [lo, hi) */
        const uintptr_t s = ((uintptr_t)t->data + lo + 63) & ~(uintptr_t)63, e = ((uintptr_t)t->data + hi) & ~(uintptr_t)63;
        if (s < e) acc += j->sum((const void *)s, (size_t)(e - s));
    }
    j->sums[ith & 63] += acc;
}

double mmx_model_read_bandwidth(mmx_model *m) {
    bw_job j = {m->file, 0, mmx_kernel_stream_sum(m->force_reference), {0}};
    for (size_t i = 0, n = mmx_model_file_n_tensors(m->file); i < n; i++) j.total += mmx_model_file_tensor(m->file, i)->n_bytes;
    if (!j.total) return 0;
    pthread_mutex_lock(&m->compute_lock);
    const double t0 = now_s();
    mmx_pool_run(m->pool, bw_worker, &j);
    const double dt = now_s() - t0;
    pthread_mutex_unlock(&m->compute_lock);
    return dt > 0 ? (double)j.total / dt / 1e9 : 0;
}

static size_t count_softmax(const mmx_config *c) {
    size_t n = 0;
    for (size_t l = 0; l < c->n_layers; l++) n += c->is_softmax[l];
    return n;
}

void mmx_model_get_info(const mmx_model *m, mmx_model_info *info) {
    const mmx_config *c = &m->config;
    memset(info, 0, sizeof *info);
    info->architecture = c->architecture;
    info->source_format = m->source_format;
    info->path = m->path;
    info->n_layers = c->n_layers;
    info->n_embd = c->n_embd;
    info->n_heads = c->n_heads;
    info->n_kv_heads = c->n_kv_heads;
    info->head_dim = c->head_dim;
    info->rotary_dim = c->rotary_dim;
    info->n_experts = c->n_experts;
    info->n_experts_used = c->n_experts_used;
    info->n_ff = c->n_ff;
    info->n_vocab = c->n_vocab;
    info->n_vocab_valid = c->n_vocab_valid;
    info->n_softmax_layers = count_softmax(c);
    info->layer_pattern = m->layer_pattern;
    info->n_params = m->n_params;
    info->n_params_active = m->n_params_active;
    info->weight_bytes = m->weight_bytes;
    info->weights_in_hugepages = m->weights_in_hugepages;
    info->weight_file_bytes = m->weight_file_bytes;
    info->weight_file_bytes_huge = m->weight_file_bytes_huge;
    info->decode_weight_bytes = m->decode_weight_bytes;
    size_t n_lin = c->n_layers - info->n_softmax_layers;
    info->state_bytes = (uint64_t)n_lin * c->n_heads * c->head_dim * c->head_dim * sizeof(float);
    info->kv_bytes_per_token = (uint64_t)info->n_softmax_layers * 2 * c->n_kv_heads * c->head_dim * sizeof(float);
    memcpy(info->n_tensor_types, m->n_tensor_types, sizeof info->n_tensor_types);
}

/* ---- sequences ------------------------------------------------------------------------------- */

typedef struct {
    size_t n_bytes;
    void **dst;
} alloc_entry;

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

void mmx_seq_free(mmx_seq *s) {
    if (!s) return;
    mmx_free_aligned(s->lstate);
    mmx_free_aligned(s->kcache);
    mmx_free_aligned(s->vcache);
    free(s->slot);
    free(s->slopes);
    mmx_workspace *ws = &s->ws;
    void *bufs[] = {ws->x, ws->u, ws->a, ws->big, ws->y, ws->g, ws->router, ws->top_e, ws->top_w, ws->e_tok,
                    ws->e_slot, ws->e_first, ws->xe, ws->h1, ws->h3, ws->oe, ws->coef, ws->thread_scratch_all};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) mmx_free_aligned(bufs[i]);
    free(ws->thread_scratch);
    free(s);
}

mmx_status mmx_seq_create(mmx_model *m, const mmx_seq_params *params, mmx_seq **out, mmx_error *err) {
    MMX_ASSERT(m && out);
    *out = NULL;
    mmx_seq_params p = params ? *params : mmx_seq_default_params();
    if (p.n_ctx == 0) p.n_ctx = 4096;
    if (p.n_batch == 0) p.n_batch = 512;
    if (p.n_batch > p.n_ctx) p.n_batch = p.n_ctx;
    if (p.n_ctx > ((size_t)1 << 32)) return mmx_fail(err, MMX_ERR_INVALID_ARG, "n_ctx %zu too large", p.n_ctx);
    const mmx_config *c = &m->config;
    mmx_seq *s = calloc(1, sizeof *s);
    if (!s) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    s->model = m;
    s->n_ctx = p.n_ctx;
    s->n_batch = p.n_batch;
    const size_t nb = p.n_batch, H = c->n_embd, nH = c->n_heads, d = c->head_dim, D = nH * d;
    const size_t Dkv = c->n_kv_heads * d, E = c->n_experts, k = c->n_experts_used;
    const size_t F = max_sz(c->n_ff, c->n_ff_shared);
    const size_t n_soft = count_softmax(c), n_lin = c->n_layers - n_soft;
    const size_t B = m->params.lightning_block;
    size_t overflow_guard;
    if (!mmx_mul_ok(n_soft * Dkv, p.n_ctx, &overflow_guard) || !mmx_mul_ok(overflow_guard, 8, &overflow_guard)) {
        free(s);
        return mmx_fail(err, MMX_ERR_INVALID_ARG, "KV cache for n_ctx %zu overflows", p.n_ctx);
    }
    s->slot = calloc(c->n_layers, sizeof *s->slot);
    s->slopes = calloc(c->n_layers * nH, sizeof *s->slopes);
    bool ok = s->slot && s->slopes;
    if (ok) {
        size_t li = 0, si = 0;
        for (size_t l = 0; l < c->n_layers; l++) s->slot[l] = c->is_softmax[l] ? si++ : li++;
        mmx_minimax01_slopes(c, s->slopes);
    }
    mmx_workspace *ws = &s->ws;
    /* thread scratch: max of matmul row (max cols), lightning block, attention scores */
    size_t scratch = max_sz(max_sz(H, D), F);
    scratch = max_sz(scratch, B * B + 2 * (B + 1));
    scratch = max_sz(scratch, p.n_ctx);
    scratch = max_sz(scratch, mmx_kernel_scratch_floats(max_sz(max_sz(H, D), F), nb));
    ws->scratch_floats = scratch;
    const int nt = mmx_pool_size(m->pool);
    alloc_entry table[] = {
        {n_lin * nH * d * d * sizeof(float), (void **)&s->lstate},
        {max_sz(n_soft * p.n_ctx * Dkv, 1) * sizeof(float), (void **)&s->kcache},
        {max_sz(n_soft * p.n_ctx * Dkv, 1) * sizeof(float), (void **)&s->vcache},
        {nb * H * sizeof(float), (void **)&ws->x},
        {nb * H * sizeof(float), (void **)&ws->u},
        {nb * H * sizeof(float), (void **)&ws->a},
        {nb * max_sz(3 * D, D + 2 * Dkv) * sizeof(float), (void **)&ws->big},
        {nb * D * sizeof(float), (void **)&ws->y},
        {nb * D * sizeof(float), (void **)&ws->g},
        {nb * E * sizeof(float), (void **)&ws->router},
        {nb * k * sizeof(int32_t), (void **)&ws->top_e},
        {nb * k * sizeof(float), (void **)&ws->top_w},
        {nb * k * sizeof(int32_t), (void **)&ws->e_tok},
        {nb * k * sizeof(int32_t), (void **)&ws->e_slot},
        {(E + 1) * sizeof(size_t), (void **)&ws->e_first},
        {nb * k * H * sizeof(float), (void **)&ws->xe},
        {nb * F * sizeof(float), (void **)&ws->h1},
        {nb * F * sizeof(float), (void **)&ws->h3},
        {nb * k * H * sizeof(float), (void **)&ws->oe},
        {nb * sizeof(float), (void **)&ws->coef},
        {(size_t)nt * scratch * sizeof(float), (void **)&ws->thread_scratch_all},
    };
    for (size_t i = 0; ok && i < sizeof table / sizeof table[0]; i++) {
        *table[i].dst = mmx_alloc_aligned(table[i].n_bytes);
        ok = *table[i].dst != NULL;
    }
    ws->thread_scratch = ok ? calloc((size_t)nt, sizeof *ws->thread_scratch) : NULL;
    if (!ws->thread_scratch) {
        mmx_seq_free(s);
        return mmx_fail(err, MMX_ERR_NOMEM, "out of memory allocating sequence state (n_ctx %zu, n_batch %zu)",
                        p.n_ctx, p.n_batch);
    }
    for (int i = 0; i < nt; i++) ws->thread_scratch[i] = ws->thread_scratch_all + (size_t)i * scratch;
    s->exec = (mmx_exec){m->pool, nt, m->force_reference, ws->thread_scratch, scratch, m->act_mask};
    *out = s;
    return MMX_OK;
}

void mmx_seq_reset(mmx_seq *s) {
    const mmx_config *c = &s->model->config;
    size_t n_soft = count_softmax(c), n_lin = c->n_layers - n_soft;
    memset(s->lstate, 0, n_lin * c->n_heads * c->head_dim * c->head_dim * sizeof(float));
    s->n_past = 0; /* the KV cache rows beyond n_past are never read */
}

size_t mmx_seq_n_past(const mmx_seq *s) { return s->n_past; }
void mmx_seq_set_step_mode(mmx_seq *s, bool on) { s->step_mode = on; }

mmx_status mmx_seq_eval(mmx_seq *s, const int32_t *tokens, size_t n, mmx_logits_mode mode, float *logits,
                        mmx_error *err) {
    MMX_ASSERT(s);
    const mmx_config *c = &s->model->config;
    if (n == 0) return mmx_fail(err, MMX_ERR_INVALID_ARG, "no tokens to evaluate");
    if (!tokens) return mmx_fail(err, MMX_ERR_INVALID_ARG, "tokens is NULL");
    if (mode != MMX_LOGITS_NONE && !logits) return mmx_fail(err, MMX_ERR_INVALID_ARG, "logits buffer is NULL");
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0 || (size_t)tokens[i] >= c->n_vocab)
            return mmx_fail(err, MMX_ERR_INVALID_ARG, "token %zu: id %d out of range [0, %zu)", i, tokens[i],
                            c->n_vocab);
    if (s->n_past + n > s->n_ctx)
        return mmx_fail(err, MMX_ERR_CONTEXT_FULL, "context full: %zu tokens held + %zu new > n_ctx %zu", s->n_past, n,
                        s->n_ctx);
    pthread_mutex_lock(&s->model->compute_lock);
    const size_t step = s->step_mode ? 1 : s->n_batch;
    for (size_t i = 0; i < n; i += step) {
        size_t T = n - i < step ? n - i : step;
        bool last_chunk = i + T == n;
        mmx_logits_mode m = mode;
        float *dst = logits;
        if (mode == MMX_LOGITS_ALL) dst = logits + i * c->n_vocab;
        else if (mode == MMX_LOGITS_LAST && !last_chunk) m = MMX_LOGITS_NONE;
        mmx_minimax01_forward(s, tokens + i, T, m, dst);
    }
    pthread_mutex_unlock(&s->model->compute_lock);
    return MMX_OK;
}
