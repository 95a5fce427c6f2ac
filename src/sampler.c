/* Sampler chain and stop conditions (see sampler.h). */
#define _GNU_SOURCE
#include "sampler.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>

#define MAX_STAGES 16
#define MIN_HISTORY 2048 /* the history buffer keeps at least this many recent tokens */

struct mmx_sampler {
    size_t n_vocab, n_valid;
    mmx_sampler_stage stages[MAX_STAGES];
    size_t n_stages;
    mmx_candidates cand;
    int32_t *history;
    size_t n_history, cap_history;
    uint64_t rng;
};

mmx_sampler_params mmx_sampler_default_params(void) {
    return (mmx_sampler_params){0.8f, 40, 0.95f, 0.05f, 1.0f, 0.0f, 0.0f, 64, 0x5eed};
}

float mmx_rng_uniform(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (float)(z >> 40) * (1.0f / 16777216.0f); /* 24 bits: exactly representable, < 1 */
}

mmx_status mmx_sampler_create(size_t n_vocab, size_t n_valid, uint64_t seed, mmx_sampler **out, mmx_error *err) {
    *out = NULL;
    if (n_vocab == 0 || n_valid == 0 || n_valid > n_vocab)
        return mmx_fail(err, MMX_ERR_INVALID_ARG, "sampler: bad vocabulary sizes %zu / %zu", n_valid, n_vocab);
    mmx_sampler *s = calloc(1, sizeof *s);
    if (!s) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    s->n_vocab = n_vocab;
    s->n_valid = n_valid;
    s->rng = seed;
    s->cand.id = malloc(n_vocab * sizeof(int32_t));
    s->cand.logit = malloc(n_vocab * sizeof(float));
    s->cand.p = malloc(n_vocab * sizeof(float));
    s->cand.tmp_id = malloc(n_vocab * sizeof(int32_t));
    s->cand.perm = malloc(n_vocab * sizeof(int32_t));
    s->cand.tmp_logit = malloc(n_vocab * sizeof(float));
    s->cand.tmp_p = malloc(n_vocab * sizeof(float));
    s->cand.counts = calloc(n_vocab, sizeof(uint32_t));
    s->cap_history = 2 * MIN_HISTORY;
    s->history = malloc(s->cap_history * sizeof *s->history);
    if (!s->cand.id || !s->cand.logit || !s->cand.p || !s->history || !s->cand.tmp_id || !s->cand.perm ||
        !s->cand.tmp_logit || !s->cand.tmp_p || !s->cand.counts) {
        mmx_sampler_free(s);
        return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    }
    *out = s;
    return MMX_OK;
}

void mmx_sampler_free(mmx_sampler *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_stages; i++)
        if (s->stages[i].free_ctx) s->stages[i].free_ctx(s->stages[i].ctx);
    free(s->cand.id);
    free(s->cand.logit);
    free(s->cand.p);
    free(s->cand.tmp_id);
    free(s->cand.perm);
    free(s->cand.tmp_logit);
    free(s->cand.tmp_p);
    free(s->cand.counts);
    free(s->history);
    free(s);
}

mmx_status mmx_sampler_add(mmx_sampler *s, mmx_sampler_stage st) {
    if (!st.apply || s->n_stages == MAX_STAGES) { /* apply == NULL: the constructor ran out of memory */
        if (st.free_ctx) st.free_ctx(st.ctx);
        return MMX_ERR_NOMEM;
    }
    s->stages[s->n_stages++] = st;
    return MMX_OK;
}

void mmx_sampler_accept(mmx_sampler *s, int32_t token) {
    if (token < 0 || (size_t)token >= s->n_vocab) return; /* not a vocabulary id: nothing to penalise */
    if (s->n_history == s->cap_history) {
        /* keep the most recent half: penalties look at a bounded window */
        memmove(s->history, s->history + s->cap_history / 2, (s->cap_history / 2) * sizeof *s->history);
        s->n_history = s->cap_history / 2;
    }
    s->history[s->n_history++] = token;
}

void mmx_sampler_reset(mmx_sampler *s, uint64_t seed) {
    s->n_history = 0;
    s->rng = seed;
}

/* ---- helpers ----------------------------------------------------------------------------------- */

static int cmp_desc(const void *a, const void *b, void *ctx) {
    const mmx_candidates *c = ctx;
    const int32_t i = *(const int32_t *)a, j = *(const int32_t *)b;
    if (c->logit[i] != c->logit[j]) return c->logit[i] < c->logit[j] ? 1 : -1;
    return (c->id[i] > c->id[j]) - (c->id[i] < c->id[j]); /* ties: lower token id first */
}

/* Sorts candidates by logit descending (ties: lower id first). */
static void sort_candidates(mmx_candidates *c) {
    if (c->sorted) return;
    int32_t *perm = c->perm;
    for (size_t i = 0; i < c->n; i++) perm[i] = (int32_t)i;
    qsort_r(perm, c->n, sizeof *perm, cmp_desc, c);
    for (size_t i = 0; i < c->n; i++) {
        c->tmp_logit[i] = c->logit[perm[i]];
        c->tmp_id[i] = c->id[perm[i]];
        if (c->has_p) c->tmp_p[i] = c->p[perm[i]];
    }
    memcpy(c->logit, c->tmp_logit, c->n * sizeof *c->logit);
    memcpy(c->id, c->tmp_id, c->n * sizeof *c->id);
    if (c->has_p) memcpy(c->p, c->tmp_p, c->n * sizeof *c->p);
    c->sorted = true;
}

/* Probabilities of the candidates.  All -inf: uniform; some +inf: shared among those. */
static void softmax_candidates(mmx_candidates *c) {
    float mx = -INFINITY;
    for (size_t i = 0; i < c->n; i++) mx = c->logit[i] > mx ? c->logit[i] : mx;
    double sum = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (isinf(mx)) c->p[i] = mx < 0 || c->logit[i] == mx ? 1.0f : 0.0f;
        else c->p[i] = expf(c->logit[i] - mx);
        sum += c->p[i];
    }
    for (size_t i = 0; i < c->n; i++) c->p[i] = (float)(c->p[i] / sum);
    c->has_p = true;
}

size_t mmx_sample_index(const float *probs, size_t n, float coin) {
    MMX_ASSERT(n > 0);
    double total = 0;
    for (size_t i = 0; i < n; i++) total += probs[i];
    double target = (double)coin * total, acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc += probs[i];
        if (acc > target) return i;
    }
    return n - 1;
}

/* ---- stages ------------------------------------------------------------------------------------ */

typedef struct {
    int32_t last_n;
    float repeat, presence, frequency;
} penalties_ctx;

static void penalties_apply(void *vctx, mmx_candidates *c, const int32_t *hist, size_t nh) {
    penalties_ctx *p = vctx;
    size_t start = p->last_n < 0 || (size_t)p->last_n >= nh ? 0 : nh - (size_t)p->last_n;
    if (start >= nh) return;
    /* count each token in the window, then penalise each candidate present once */
    for (size_t i = start; i < nh; i++) c->counts[hist[i]]++;
    for (size_t k = 0; k < c->n; k++) {
        uint32_t count = c->counts[c->id[k]];
        if (!count) continue;
        float *l = &c->logit[k];
        if (p->repeat != 1.0f) *l = *l > 0 ? *l / p->repeat : *l * p->repeat;
        *l -= p->presence + p->frequency * (float)count;
    }
    for (size_t i = start; i < nh; i++) c->counts[hist[i]] = 0;
    c->sorted = false;
    c->has_p = false;
}

/* A stage with a heap copy of its parameters; on allocation failure apply is NULL, which
 * mmx_sampler_add refuses with MMX_ERR_NOMEM. */
static mmx_sampler_stage make_stage(const char *name, void (*apply)(void *, mmx_candidates *, const int32_t *, size_t),
                                    const void *ctx, size_t ctx_size) {
    void *copy = NULL;
    if (ctx_size) {
        copy = malloc(ctx_size);
        if (!copy) return (mmx_sampler_stage){name, NULL, NULL, NULL};
        memcpy(copy, ctx, ctx_size);
    }
    return (mmx_sampler_stage){name, apply, ctx_size ? free : NULL, copy};
}

mmx_sampler_stage mmx_stage_penalties(int32_t last_n, float repeat, float presence, float frequency) {
    penalties_ctx p = {last_n, repeat, presence, frequency};
    return make_stage("penalties", penalties_apply, &p, sizeof p);
}

/* heap order: "a ranks below b" (smaller logit, or equal logit and larger id) */
static inline bool ranks_below(const mmx_candidates *c, int32_t a, int32_t b) {
    return c->logit[a] < c->logit[b] || (c->logit[a] == c->logit[b] && c->id[a] > c->id[b]);
}

static void sift_down(const mmx_candidates *c, int32_t *heap, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && ranks_below(c, heap[l], heap[m])) m = l;
        if (r < n && ranks_below(c, heap[r], heap[m])) m = r;
        if (m == i) return;
        int32_t t = heap[i];
        heap[i] = heap[m], heap[m] = t;
        i = m;
    }
}

static void top_k_apply(void *vctx, mmx_candidates *c, const int32_t *h, size_t nh) {
    int32_t k = *(int32_t *)vctx;
    if (k <= 0 || (size_t)k >= c->n) return;
    if (!c->sorted) {
        /* select the k best with a min-heap of candidate indices: O(n log k) instead of a full sort */
        int32_t *heap = c->perm;
        size_t kk = (size_t)k;
        for (size_t i = 0; i < kk; i++) heap[i] = (int32_t)i;
        for (size_t i = kk / 2; i-- > 0;) sift_down(c, heap, kk, i);
        for (size_t i = kk; i < c->n; i++)
            if (ranks_below(c, heap[0], (int32_t)i)) {
                heap[0] = (int32_t)i;
                sift_down(c, heap, kk, 0);
            }
        for (size_t i = 0; i < kk; i++) {
            c->tmp_id[i] = c->id[heap[i]];
            c->tmp_logit[i] = c->logit[heap[i]];
            if (c->has_p) c->tmp_p[i] = c->p[heap[i]];
        }
        memcpy(c->id, c->tmp_id, kk * sizeof *c->id);
        memcpy(c->logit, c->tmp_logit, kk * sizeof *c->logit);
        if (c->has_p) memcpy(c->p, c->tmp_p, kk * sizeof *c->p);
        c->n = kk;
        sort_candidates(c); /* k entries: cheap */
        return;
    }
    c->n = (size_t)k;
}
mmx_sampler_stage mmx_stage_top_k(int32_t k) { return make_stage("top-k", top_k_apply, &k, sizeof k); }

static void temperature_apply(void *vctx, mmx_candidates *c, const int32_t *h, size_t nh) {
    float t = *(float *)vctx;
    if (t <= 0) return;
    for (size_t i = 0; i < c->n; i++) c->logit[i] /= t;
    c->has_p = false;
}
mmx_sampler_stage mmx_stage_temperature(float t) { return make_stage("temperature", temperature_apply, &t, sizeof t); }

/* max-heap order: "a ranks above b" (larger logit, or equal logit and smaller id) */
static void sift_down_max(const mmx_candidates *c, int32_t *heap, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && ranks_below(c, heap[m], heap[l])) m = l;
        if (r < n && ranks_below(c, heap[m], heap[r])) m = r;
        if (m == i) return;
        int32_t t = heap[i];
        heap[i] = heap[m], heap[m] = t;
        i = m;
    }
}

static void top_p_apply(void *vctx, mmx_candidates *c, const int32_t *h, size_t nh) {
    float p = *(float *)vctx;
    if (p >= 1.0f || c->n <= 1) return;
    softmax_candidates(c);
    /* the target mass is p of ALL candidates, taken before pruning (the pruned ones hold mass too) */
    double total = 0, acc = 0;
    for (size_t i = 0; i < c->n; i++) total += c->p[i];
    const double target = p * total;
    if (c->sorted) {
        for (size_t i = 0; i < c->n; i++) {
            acc += c->p[i];
            if (acc >= target) {
                c->n = i + 1;
                break;
            }
        }
        return;
    }
    /* prune candidates that cannot be in the nucleus (STYLE: (1-p)/(n-1) cutoff): the ones ranked
     * below such a token hold less than 1-p together, so the tokens above it already reach p */
    float cutoff = (1.0f - p) / (float)(c->n - 1);
    size_t m = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->p[i] >= cutoff) {
            c->id[m] = c->id[i], c->logit[m] = c->logit[i], c->p[m] = c->p[i];
            m++;
        }
    if (m > 0) c->n = m;
    /* then pop the survivors best-first from a max-heap until the mass is reached: O(n + k log n)
     * for a nucleus of k, no full sort.  The popped prefix is in sorted order (ties: lower id). */
    int32_t *heap = c->perm;
    size_t n = c->n, k = 0;
    for (size_t i = 0; i < n; i++) heap[i] = (int32_t)i;
    for (size_t i = n / 2; i-- > 0;) sift_down_max(c, heap, n, i);
    while (n > 0) {
        int32_t top = heap[0];
        c->tmp_id[k] = c->id[top], c->tmp_logit[k] = c->logit[top], c->tmp_p[k] = c->p[top];
        k++;
        acc += c->p[top];
        if (acc >= target) break;
        heap[0] = heap[--n];
        sift_down_max(c, heap, n, 0);
    }
    memcpy(c->id, c->tmp_id, k * sizeof *c->id);
    memcpy(c->logit, c->tmp_logit, k * sizeof *c->logit);
    memcpy(c->p, c->tmp_p, k * sizeof *c->p);
    c->n = k;
    c->sorted = true;
}
mmx_sampler_stage mmx_stage_top_p(float p) { return make_stage("top-p", top_p_apply, &p, sizeof p); }

static void min_p_apply(void *vctx, mmx_candidates *c, const int32_t *h, size_t nh) {
    float p = *(float *)vctx;
    if (p <= 0 || c->n <= 1) return;
    /* keep tokens whose probability is at least p times the largest: logit >= max + log(p) */
    float mx = -INFINITY;
    for (size_t i = 0; i < c->n; i++) mx = c->logit[i] > mx ? c->logit[i] : mx;
    float thr = mx + logf(p);
    size_t m = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->logit[i] >= thr) {
            c->id[m] = c->id[i], c->logit[m] = c->logit[i];
            if (c->has_p) c->p[m] = c->p[i];
            m++;
        }
    c->n = m;
    c->has_p = false;
}
mmx_sampler_stage mmx_stage_min_p(float p) { return make_stage("min-p", min_p_apply, &p, sizeof p); }

static void greedy_apply(void *vctx, mmx_candidates *c, const int32_t *h, size_t nh) {
    size_t best = 0;
    for (size_t i = 1; i < c->n; i++)
        if (c->logit[i] > c->logit[best] || (c->logit[i] == c->logit[best] && c->id[i] < c->id[best])) best = i;
    c->id[0] = c->id[best];
    c->logit[0] = c->logit[best];
    c->n = 1;
    c->has_p = false;
}
mmx_sampler_stage mmx_stage_greedy(void) { return make_stage("greedy", greedy_apply, NULL, 0); }

mmx_status mmx_sampler_from_params(const mmx_sampler_params *p, size_t n_vocab, size_t n_valid, mmx_sampler **out,
                                   mmx_error *err) {
    *out = NULL;
    if (!(p->temperature >= 0 && p->temperature < 1e6) || p->top_k < 0 || !(p->top_p > 0 && p->top_p <= 1e6) ||
        !(p->min_p >= 0 && p->min_p <= 1) || !(p->repeat_penalty > 0) || !isfinite(p->presence_penalty) ||
        !isfinite(p->frequency_penalty) || p->penalty_last_n < -1)
        return mmx_fail(err, MMX_ERR_INVALID_ARG,
                        "sampler: a parameter is out of range (temperature >= 0, top_k >= 0, 0 < top_p, 0 <= min_p <= 1, "
                        "repeat_penalty > 0)");
    mmx_sampler *s;
    mmx_status st = mmx_sampler_create(n_vocab, n_valid, p->seed, &s, err);
    if (st != MMX_OK) return st;
    bool ok = true;
    if (p->penalty_last_n > MIN_HISTORY) {
        /* keep the whole penalty window: the buffer drops its older half when full */
        int32_t *h = realloc(s->history, 2 * (size_t)p->penalty_last_n * sizeof *h);
        if (h) s->history = h, s->cap_history = 2 * (size_t)p->penalty_last_n;
        ok = h != NULL;
    }
    if (p->repeat_penalty != 1.0f || p->presence_penalty != 0 || p->frequency_penalty != 0)
        ok &= mmx_sampler_add(s, mmx_stage_penalties(p->penalty_last_n, p->repeat_penalty, p->presence_penalty,
                                                     p->frequency_penalty)) == MMX_OK;
    if (p->temperature <= 0) {
        ok &= mmx_sampler_add(s, mmx_stage_greedy()) == MMX_OK;
    } else {
        if (p->top_k > 0) ok &= mmx_sampler_add(s, mmx_stage_top_k(p->top_k)) == MMX_OK;
        ok &= mmx_sampler_add(s, mmx_stage_temperature(p->temperature)) == MMX_OK;
        if (p->top_p < 1) ok &= mmx_sampler_add(s, mmx_stage_top_p(p->top_p)) == MMX_OK;
        if (p->min_p > 0) ok &= mmx_sampler_add(s, mmx_stage_min_p(p->min_p)) == MMX_OK;
    }
    if (!ok) {
        mmx_sampler_free(s);
        return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    }
    *out = s;
    return MMX_OK;
}

int32_t mmx_sampler_sample_coin(mmx_sampler *s, const float *logits, float coin) {
    mmx_candidates *c = &s->cand;
    c->n = s->n_valid;
    for (size_t i = 0; i < c->n; i++) {
        c->id[i] = (int32_t)i;
        c->logit[i] = isnan(logits[i]) ? -INFINITY : logits[i];
    }
    c->sorted = false;
    c->has_p = false;
    for (size_t i = 0; i < s->n_stages; i++) s->stages[i].apply(s->stages[i].ctx, c, s->history, s->n_history);
    MMX_ASSERT(c->n > 0);
    if (c->n == 1) return c->id[0];
    if (!c->has_p) softmax_candidates(c);
    return c->id[mmx_sample_index(c->p, c->n, coin)];
}

int32_t mmx_sampler_sample(mmx_sampler *s, const float *logits) {
    return mmx_sampler_sample_coin(s, logits, mmx_rng_uniform(&s->rng));
}

/* ---- stop strings ----------------------------------------------------------------------------- */

long mmx_stop_find(const char *const *stops, size_t n_stops, const char *text, size_t len) {
    long best = -1;
    for (size_t i = 0; i < n_stops; i++) {
        size_t sl = strlen(stops[i]);
        if (!sl) continue;
        const char *hit = memmem(text, len, stops[i], sl);
        if (hit && (best < 0 || hit - text < best)) best = hit - text;
    }
    return best;
}

size_t mmx_stop_holdback(const char *const *stops, size_t n_stops, const char *text, size_t len) {
    size_t hold = 0;
    for (size_t i = 0; i < n_stops; i++) {
        size_t sl = strlen(stops[i]);
        for (size_t k = sl > 0 ? sl - 1 : 0; k > hold; k--)
            if (k <= len && !memcmp(text + len - k, stops[i], k)) {
                hold = k;
                break;
            }
    }
    return hold;
}

/* ---- incremental stop matcher --------------------------------------------------------------------- */

struct mmx_stop_matcher {
    int32_t *eos;
    size_t n_eos;
    size_t n_stops;
    char **stop;      /* [n_stops] copies; empty strings are kept but never match */
    size_t *len;      /* [n_stops] */
    size_t **fail;    /* [n_stops][len]: KMP failure function */
    size_t *state;    /* [n_stops]: length of the longest prefix of stop[i] that ends the stream */
    uint64_t fed;     /* bytes fed since create/reset */
    bool stopped;
    size_t stop_index;
    uint64_t stop_at;
};

void mmx_stop_matcher_free(mmx_stop_matcher *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_stops; i++) {
        if (m->stop) free(m->stop[i]);
        if (m->fail) free(m->fail[i]);
    }
    free(m->stop);
    free(m->fail);
    free(m->len);
    free(m->state);
    free(m->eos);
    free(m);
}

mmx_status mmx_stop_matcher_create(const int32_t *eos_ids, size_t n_eos, const char *const *stops, size_t n_stops,
                                   mmx_stop_matcher **out, mmx_error *err) {
    *out = NULL;
    for (size_t i = 0; i < n_stops; i++)
        if (!stops[i]) return mmx_fail(err, MMX_ERR_INVALID_ARG, "stop string %zu is NULL", i);
    mmx_stop_matcher *m = calloc(1, sizeof *m);
    if (!m) return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    m->n_eos = n_eos;
    m->n_stops = n_stops;
    m->eos = malloc((n_eos ? n_eos : 1) * sizeof *m->eos);
    m->stop = calloc(n_stops ? n_stops : 1, sizeof *m->stop);
    m->fail = calloc(n_stops ? n_stops : 1, sizeof *m->fail);
    m->len = calloc(n_stops ? n_stops : 1, sizeof *m->len);
    m->state = calloc(n_stops ? n_stops : 1, sizeof *m->state);
    bool ok = m->eos && m->stop && m->fail && m->len && m->state;
    if (ok && n_eos) memcpy(m->eos, eos_ids, n_eos * sizeof *m->eos);
    for (size_t i = 0; ok && i < n_stops; i++) {
        size_t n = strlen(stops[i]);
        m->len[i] = n;
        m->stop[i] = strdup(stops[i]);
        m->fail[i] = malloc((n ? n : 1) * sizeof(size_t));
        ok = m->stop[i] && m->fail[i];
        if (!ok || !n) continue;
        /* fail[q] = length of the longest proper prefix of stop[0..q] that is also its suffix */
        const char *p = m->stop[i];
        size_t *f = m->fail[i], k = 0;
        f[0] = 0;
        for (size_t q = 1; q < n; q++) {
            while (k > 0 && p[q] != p[k]) k = f[k - 1];
            if (p[q] == p[k]) k++;
            f[q] = k;
        }
    }
    if (!ok) {
        mmx_stop_matcher_free(m);
        return mmx_fail(err, MMX_ERR_NOMEM, "out of memory");
    }
    *out = m;
    return MMX_OK;
}

void mmx_stop_matcher_reset(mmx_stop_matcher *m) {
    memset(m->state, 0, (m->n_stops ? m->n_stops : 1) * sizeof *m->state);
    m->fed = 0;
    m->stopped = false;
    m->stop_index = 0;
    m->stop_at = 0;
}

bool mmx_stop_is_eos(const mmx_stop_matcher *m, int32_t token) {
    for (size_t i = 0; i < m->n_eos; i++)
        if (m->eos[i] == token) return true;
    return false;
}

static void stop_report(const mmx_stop_matcher *m, mmx_stop_result *r) {
    r->stopped = m->stopped;
    r->stop_index = m->stop_index;
    r->stop_at = m->stop_at;
    if (m->stopped) {
        r->safe = m->stop_at;
        r->hold = 0;
        return;
    }
    size_t hold = 0;
    for (size_t i = 0; i < m->n_stops; i++) hold = m->state[i] > hold ? m->state[i] : hold;
    r->hold = hold;
    r->safe = m->fed - hold;
}

bool mmx_stop_matcher_feed(mmx_stop_matcher *m, const char *bytes, size_t len, mmx_stop_result *r) {
    for (size_t b = 0; b < len && !m->stopped; b++) {
        const char c = bytes[b];
        m->fed++;
        size_t best_len = 0;
        for (size_t i = 0; i < m->n_stops; i++) {
            size_t n = m->len[i], k = m->state[i];
            if (!n) continue;
            const char *p = m->stop[i];
            while (k > 0 && c != p[k]) k = m->fail[i][k - 1];
            if (c == p[k]) k++;
            if (k == n) {
                if (n > best_len) best_len = n, m->stop_index = i;
                k = m->fail[i][k - 1];
            }
            m->state[i] = k;
        }
        if (best_len) {
            m->stopped = true;
            m->stop_at = m->fed - best_len;
        }
    }
    stop_report(m, r);
    return r->stopped;
}
