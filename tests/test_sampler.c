/* Sampler chain: determinism, each stage's exact effect on crafted distributions (seen through a
 * probe stage), frequencies, padding mask; stop conditions: every split of the text into tokens,
 * hold-back, UTF-8-safe streaming. */
#include "sampler.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define V 10

static mmx_sampler *chain(mmx_sampler_stage *stages, size_t n, size_t valid) {
    mmx_sampler *s;
    mmx_error err;
    if (mmx_sampler_create(V, valid, 1, &s, &err) != MMX_OK) return NULL;
    for (size_t i = 0; i < n; i++)
        if (mmx_sampler_add(s, stages[i]) != MMX_OK) {
            mmx_sampler_free(s);
            return NULL;
        }
    return s;
}

/* A stage that records the candidate list it sees (a user-defined stage through the vtable). */
typedef struct {
    size_t n;
    int32_t id[V];
    float logit[V];
} probe_t;

static void probe_apply(void *ctx, mmx_candidates *c, const int32_t *h, size_t nh) {
    probe_t *p = ctx;
    p->n = c->n;
    for (size_t i = 0; i < c->n && i < V; i++) p->id[i] = c->id[i], p->logit[i] = c->logit[i];
}
static mmx_sampler_stage probe_stage(probe_t *p) { return (mmx_sampler_stage){"probe", probe_apply, NULL, p}; }

/* logit the probe saw for an id, NAN when the id was not a candidate */
static float seen(const probe_t *p, int32_t id) {
    for (size_t i = 0; i < p->n; i++)
        if (p->id[i] == id) return p->logit[i];
    return NAN;
}
static unsigned seen_mask(const probe_t *p) {
    unsigned m = 0;
    for (size_t i = 0; i < p->n; i++) m |= 1u << p->id[i];
    return m;
}

/* The set of ids a chain can produce, found by sweeping the coin over [0,1). */
static unsigned reachable(mmx_sampler *s, const float *logits) {
    unsigned mask = 0;
    for (int i = 0; i < 1000; i++) mask |= 1u << mmx_sampler_sample_coin(s, logits, (float)i / 1000.0f);
    return mask;
}

static const float L[V] = {1.0f, 3.0f, 2.0f, 0.5f, 3.0f, -1.0f, 0.0f, 2.5f, 1.5f, -2.0f};
#define B(i) (1u << (i))

TEST(sampler_greedy_argmax_lowest_id_on_ties) {
    mmx_sampler_stage st[] = {mmx_stage_greedy()};
    mmx_sampler *s = chain(st, 1, V);
    REQUIRE(s);
    CHECK(mmx_sampler_sample_coin(s, L, 0.99f) == 1); /* ids 1 and 4 tie at 3.0 */
    CHECK(reachable(s, L) == B(1));
    mmx_sampler_free(s);
}

TEST(sampler_top_k_keeps_exactly_k) {
    for (int32_t k = 1; k <= V; k++) {
        probe_t p;
        mmx_sampler_stage st[] = {mmx_stage_top_k(k), probe_stage(&p)};
        mmx_sampler *s = chain(st, 2, V);
        REQUIRE(s);
        mmx_sampler_sample_coin(s, L, 0.5f);
        CHECKF(p.n == (size_t)k, "k=%d kept %zu", k, p.n);
        /* the k best by logit, ties (ids 1 and 4 at 3.0) by lower id: 1 4 7 2 8 0 3 6 5 9 */
        static const int32_t order[V] = {1, 4, 7, 2, 8, 0, 3, 6, 5, 9};
        unsigned want = 0;
        for (int32_t i = 0; i < k; i++) want |= B(order[i]);
        CHECKF(seen_mask(&p) == want && reachable(s, L) == want, "k=%d", k);
        for (size_t i = 0; i < p.n; i++) CHECK(p.logit[i] == L[p.id[i]]); /* values untouched */
        mmx_sampler_free(s);
    }
    /* a tie at the boundary: k=1 of ids 1 and 4 keeps the lower id */
    mmx_sampler_stage st[] = {mmx_stage_top_k(1)};
    mmx_sampler *s = chain(st, 1, V);
    CHECK(reachable(s, L) == B(1));
    mmx_sampler_free(s);
}

TEST(sampler_top_p_keeps_minimal_nucleus) {
    /* probabilities 0.5, 0.3, 0.15, 0.05: p = 0.75 needs the first two, 0.85 the first three,
     * 0.8 exactly the first two (mass >= p), 0.96 all four */
    float lg[V];
    for (int i = 0; i < V; i++) lg[i] = -INFINITY;
    lg[2] = logf(0.5f), lg[5] = logf(0.3f), lg[8] = logf(0.15f), lg[0] = logf(0.05f);
    struct {
        float p;
        unsigned want;
    } cases[] = {{0.3f, B(2)}, {0.5f, B(2)}, {0.75f, B(2) | B(5)}, {0.79f, B(2) | B(5)}, {0.85f, B(2) | B(5) | B(8)},
                 {0.96f, B(2) | B(5) | B(8) | B(0)}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mmx_sampler_stage a[] = {mmx_stage_top_p(cases[i].p)};
        mmx_sampler *s = chain(a, 1, V);
        REQUIRE(s);
        CHECKF(reachable(s, lg) == cases[i].want, "p=%.2f", cases[i].p);
        mmx_sampler_free(s);
    }
}

/* Top-p over a large vocabulary where the pre-sort pruning removes most candidates: the nucleus
 * mass is measured against all candidates, not the pruned ones (0.45 alone is < 0.5). */
TEST(sampler_top_p_with_pruning_large_vocab) {
    enum { N = 1000 };
    static float lg[N];
    /* p: id 7 = 0.45, id 3 = 0.10, 998 others share 0.45 (each 0.000451 < the (1-p)/(n-1) cutoff 0.0005) */
    for (int i = 0; i < N; i++) lg[i] = logf(0.45f / 998);
    lg[7] = logf(0.45f), lg[3] = logf(0.10f);
    mmx_sampler *s;
    mmx_error err;
    REQUIRE(mmx_sampler_create(N, N, 1, &s, &err) == MMX_OK);
    REQUIRE(mmx_sampler_add(s, mmx_stage_top_p(0.5f)) == MMX_OK);
    bool saw[N] = {false};
    for (int i = 0; i < 1000; i++) saw[mmx_sampler_sample_coin(s, lg, (float)i / 1000.0f)] = true;
    size_t kinds = 0;
    for (int i = 0; i < N; i++) kinds += saw[i];
    CHECKF(saw[7] && saw[3] && kinds == 2, "nucleus of %zu ids", kinds);
    mmx_sampler_free(s);
}

TEST(sampler_min_p_threshold_relative_to_max) {
    /* keep p >= 0.3 * p_max: logit >= 3 + ln 0.3 = 1.796 -> ids 1, 4, 7, 2 */
    probe_t p;
    mmx_sampler_stage st[] = {mmx_stage_min_p(0.3f), probe_stage(&p)};
    mmx_sampler *s = chain(st, 2, V);
    REQUIRE(s);
    CHECK(reachable(s, L) == (B(1) | B(4) | B(7) | B(2)));
    CHECK(seen_mask(&p) == (B(1) | B(4) | B(7) | B(2)));
    mmx_sampler_free(s);
    /* exactly at the threshold: p = e^-1 keeps logit 2.0 = 3 - 1 */
    mmx_sampler_stage st2[] = {mmx_stage_min_p(expf(-1.0f) * 0.9999f)};
    s = chain(st2, 1, V);
    CHECK(reachable(s, L) == (B(1) | B(4) | B(7) | B(2)));
    mmx_sampler_free(s);
}

TEST(sampler_temperature_sharpens_and_flattens) {
    probe_t p;
    mmx_sampler_stage st[] = {mmx_stage_temperature(0.5f), probe_stage(&p)};
    mmx_sampler *s = chain(st, 2, V);
    REQUIRE(s);
    mmx_sampler_sample_coin(s, L, 0.5f);
    for (int i = 0; i < V; i++) CHECKF(seen(&p, i) == L[i] / 0.5f, "id %d: %g", i, seen(&p, i));
    mmx_sampler_free(s);
    /* two ids with logits 1 and 0: T small -> always id 0; T large -> near 50/50 */
    float lg[V];
    for (int i = 0; i < V; i++) lg[i] = -INFINITY;
    lg[0] = 1.0f, lg[1] = 0.0f;
    mmx_sampler_stage cold[] = {mmx_stage_temperature(0.05f)};
    s = chain(cold, 1, V);
    CHECK(mmx_sampler_sample_coin(s, lg, 0.99f) == 0);
    mmx_sampler_free(s);
    mmx_sampler_stage hot[] = {mmx_stage_temperature(100.0f)};
    s = chain(hot, 1, V);
    CHECK(mmx_sampler_sample_coin(s, lg, 0.49f) == 0);
    CHECK(mmx_sampler_sample_coin(s, lg, 0.51f) == 1);
    mmx_sampler_free(s);
    /* T = 1: P(id 0) = e/(e+1) = 0.731 */
    mmx_sampler_stage one[] = {mmx_stage_temperature(1.0f)};
    s = chain(one, 1, V);
    CHECK(mmx_sampler_sample_coin(s, lg, 0.73f) == 0);
    CHECK(mmx_sampler_sample_coin(s, lg, 0.735f) == 1);
    mmx_sampler_free(s);
}

TEST(sampler_penalties_follow_their_formulas) {
    /* history: id 1 twice, id 5 once, id 9 three times but outside a window of 4 (oldest) */
    probe_t p;
    mmx_sampler_stage st[] = {mmx_stage_penalties(4, 2.0f, 0.5f, 0.25f), probe_stage(&p)};
    mmx_sampler *s = chain(st, 2, V);
    REQUIRE(s);
    const int32_t hist[] = {9, 9, 9, 1, 5, 1, 3};
    for (size_t i = 0; i < sizeof hist / sizeof hist[0]; i++) mmx_sampler_accept(s, hist[i]);
    mmx_sampler_sample_coin(s, L, 0.5f);
    /* window = last 4: 1, 5, 1, 3 */
    for (int i = 0; i < V; i++) {
        float want = L[i];
        int count = (i == 1) ? 2 : (i == 5 || i == 3) ? 1 : 0;
        if (count) want = (want > 0 ? want / 2.0f : want * 2.0f) - 0.5f - 0.25f * (float)count;
        CHECKF(seen(&p, i) == want, "id %d: got %g want %g", i, seen(&p, i), want);
    }
    mmx_sampler_free(s);
    /* window -1: the whole history (id 9 counted 3 times; negative logit doubled) */
    mmx_sampler_stage st2[] = {mmx_stage_penalties(-1, 2.0f, 0.0f, 1.0f), probe_stage(&p)};
    s = chain(st2, 2, V);
    for (size_t i = 0; i < sizeof hist / sizeof hist[0]; i++) mmx_sampler_accept(s, hist[i]);
    mmx_sampler_sample_coin(s, L, 0.5f);
    CHECK(seen(&p, 9) == -2.0f * 2.0f - 3.0f);
    CHECK(seen(&p, 0) == L[0]);
    mmx_sampler_free(s);
    /* greedy decisions change accordingly: id 1 penalised below id 4 */
    mmx_sampler_stage st3[] = {mmx_stage_penalties(64, 2.0f, 0.5f, 0.25f), mmx_stage_greedy()};
    s = chain(st3, 2, V);
    mmx_sampler_accept(s, 1), mmx_sampler_accept(s, 1), mmx_sampler_accept(s, 5);
    CHECK(mmx_sampler_sample_coin(s, L, 0.5f) == 4);
    mmx_sampler_free(s);
}

TEST(sampler_masked_padding_never_sampled) {
    float lg[V] = {0, 0, 0, 0, 0, 0, 0, 0, 100.0f, INFINITY};
    mmx_sampler_params p = mmx_sampler_default_params();
    p.top_k = 0, p.top_p = 1, p.min_p = 0, p.temperature = 5.0f;
    mmx_sampler *s;
    mmx_error err;
    REQUIRE(mmx_sampler_from_params(&p, V, 8, &s, &err) == MMX_OK);
    for (int i = 0; i < 2000; i++) CHECK(mmx_sampler_sample(s, lg) < 8);
    mmx_sampler_free(s);
    p.temperature = 0; /* greedy */
    REQUIRE(mmx_sampler_from_params(&p, V, 8, &s, &err) == MMX_OK);
    lg[3] = 1.0f;
    CHECK(mmx_sampler_sample(s, lg) == 3);
    mmx_sampler_free(s);
    p = mmx_sampler_default_params(); /* the default chain too */
    REQUIRE(mmx_sampler_from_params(&p, V, 8, &s, &err) == MMX_OK);
    for (int i = 0; i < 500; i++) CHECK(mmx_sampler_sample(s, lg) < 8);
    mmx_sampler_free(s);
}

TEST(sampler_nan_and_infinite_logits) {
    float lg[V] = {NAN, 1.0f, NAN, 0.0f, 0, 0, 0, 0, 0, 0};
    mmx_sampler_stage st[] = {mmx_stage_top_p(0.9f)};
    mmx_sampler *s = chain(st, 1, V);
    REQUIRE(s);
    for (int i = 0; i < 100; i++) {
        int32_t t = mmx_sampler_sample_coin(s, lg, (float)i / 100.0f);
        CHECK(t != 0 && t != 2);
    }
    mmx_sampler_free(s);
    float inf[V] = {0, INFINITY, 0, INFINITY, 0, 0, 0, 0, 0, 0};
    s = chain(NULL, 0, V);
    CHECK(reachable(s, inf) == (B(1) | B(3)));
    mmx_sampler_free(s);
    float none[V];
    for (int i = 0; i < V; i++) none[i] = -INFINITY;
    s = chain(NULL, 0, V);
    CHECK(reachable(s, none) == (1u << V) - 1); /* nothing to prefer: uniform */
    mmx_sampler_free(s);
}

TEST(sampler_seed_determinism) {
    float lg[V];
    for (int i = 0; i < V; i++) lg[i] = (float)(i % 4);
    mmx_sampler_params p = mmx_sampler_default_params();
    p.top_k = 0, p.min_p = 0, p.top_p = 1, p.temperature = 1.0f;
    int32_t a[64], b[64], c[64], d[64];
    mmx_sampler *keep = NULL;
    for (int run = 0; run < 3; run++) {
        p.seed = run == 2 ? 77 : 42;
        mmx_sampler *s;
        mmx_error err;
        REQUIRE(mmx_sampler_from_params(&p, V, V, &s, &err) == MMX_OK);
        for (int i = 0; i < 64; i++) (run == 0 ? a : run == 1 ? b : c)[i] = mmx_sampler_sample(s, lg);
        if (run == 0) keep = s;
        else mmx_sampler_free(s);
    }
    CHECK(!memcmp(a, b, sizeof a));
    CHECK(memcmp(a, c, sizeof a) != 0);
    /* reset with the same seed replays the sequence */
    mmx_sampler_reset(keep, 42);
    for (int i = 0; i < 64; i++) d[i] = mmx_sampler_sample(keep, lg);
    CHECK(!memcmp(a, d, sizeof a));
    mmx_sampler_free(keep);
    /* the generator itself: uniform in [0, 1), fixed by the seed */
    uint64_t st = 42, st2 = 42;
    for (int i = 0; i < 10000; i++) {
        float u = mmx_rng_uniform(&st);
        CHECK(u >= 0.0f && u < 1.0f && u == mmx_rng_uniform(&st2));
    }
}

/* Frequencies follow the softmax: a fixed seed makes this deterministic; bound is P = 0.001. */
TEST(sampler_frequencies_match_probabilities) {
    float lg[V] = {0.0f, 1.0f, 2.0f, -1.0f, 0.5f, -3.0f, 1.5f, 0.0f, -0.5f, 0.25f};
    mmx_sampler_params p = mmx_sampler_default_params();
    p.top_k = 0, p.min_p = 0, p.top_p = 1, p.temperature = 1.0f, p.seed = 1234;
    mmx_sampler *s;
    mmx_error err;
    REQUIRE(mmx_sampler_from_params(&p, V, V, &s, &err) == MMX_OK);
    const int N = 20000;
    int counts[V] = {0};
    for (int i = 0; i < N; i++) counts[mmx_sampler_sample(s, lg)]++;
    double z = 0;
    for (int i = 0; i < V; i++) z += exp(lg[i]);
    double chi2 = 0;
    for (int i = 0; i < V; i++) {
        double e = N * exp(lg[i]) / z;
        chi2 += (counts[i] - e) * (counts[i] - e) / e;
    }
    /* 9 degrees of freedom: P(chi2 > 27.9) = 0.001 */
    CHECKF(chi2 < 27.9, "chi-square %.2f", chi2);
    mmx_sampler_free(s);
}

TEST(sampler_pure_draw_index) {
    float p[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    CHECK(mmx_sample_index(p, 4, 0.0f) == 0);
    CHECK(mmx_sample_index(p, 4, 0.099f) == 0);
    CHECK(mmx_sample_index(p, 4, 0.11f) == 1);
    CHECK(mmx_sample_index(p, 4, 0.61f) == 3);
    CHECK(mmx_sample_index(p, 4, 0.9999f) == 3);
    float q[3] = {2.0f, 0.0f, 2.0f}; /* not normalised; a zero never drawn */
    CHECK(mmx_sample_index(q, 3, 0.49f) == 0);
    CHECK(mmx_sample_index(q, 3, 0.5f) == 2);
}

TEST(sampler_bad_params_and_stage_limits) {
    mmx_sampler *s;
    mmx_error err;
    mmx_sampler_params p = mmx_sampler_default_params();
    p.top_p = 0;
    CHECK(mmx_sampler_from_params(&p, V, V, &s, &err) == MMX_ERR_INVALID_ARG);
    p = mmx_sampler_default_params(), p.temperature = NAN;
    CHECK(mmx_sampler_from_params(&p, V, V, &s, &err) == MMX_ERR_INVALID_ARG);
    p = mmx_sampler_default_params(), p.penalty_last_n = -2;
    CHECK(mmx_sampler_from_params(&p, V, V, &s, &err) == MMX_ERR_INVALID_ARG);
    CHECK(mmx_sampler_create(V, V + 1, 0, &s, &err) == MMX_ERR_INVALID_ARG);
    CHECK(mmx_sampler_create(V, 0, 0, &s, &err) == MMX_ERR_INVALID_ARG);
    REQUIRE(mmx_sampler_create(V, V, 0, &s, &err) == MMX_OK);
    CHECK(mmx_sampler_add(s, (mmx_sampler_stage){"broken", NULL, NULL, NULL}) == MMX_ERR_NOMEM);
    size_t added = 0;
    while (mmx_sampler_add(s, mmx_stage_top_k(5)) == MMX_OK && added < 100) added++;
    CHECK(added == 16); /* the stage that did not fit had its ctx freed (ASan checks the leak) */
    mmx_sampler_free(s);
    /* a long penalty window survives the history buffer compaction */
    p = mmx_sampler_default_params(), p.penalty_last_n = 5000, p.frequency_penalty = 1.0f, p.temperature = 0;
    REQUIRE(mmx_sampler_from_params(&p, V, V, &s, &err) == MMX_OK);
    for (int i = 0; i < 12000; i++) mmx_sampler_accept(s, i < 7000 ? 2 : 0);
    float lg[V] = {5000.5f, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    /* window of the last 5000: id 0 counted 5000 times -> 0.5, still above 0; id 2 not counted */
    CHECK(mmx_sampler_sample(s, lg) == 0);
    lg[0] = 4999.5f; /* -> -0.5: below the zeros */
    CHECK(mmx_sampler_sample(s, lg) == 1);
    mmx_sampler_free(s);
}

/* ---- stop conditions ------------------------------------------------------------------------- */

/* Streams `text` cut into tokens at the cut points in `mask` (bit i: cut after byte i) through the
 * matcher, showing safe bytes as they become safe; checks the shown text and the stop. */
static bool stream_once(mmx_stop_matcher *m, const char *text, size_t len, uint32_t mask, const char *want_shown,
                        long want_stop) {
    mmx_stop_matcher_reset(m);
    char shown[256];
    size_t n_shown = 0, start = 0;
    mmx_stop_result r = {0};
    for (size_t i = 0; i < len && !r.stopped; i++) {
        if (i + 1 < len && !(mask >> i & 1)) continue;
        mmx_stop_matcher_feed(m, text + start, i + 1 - start, &r);
        start = i + 1;
        if (r.safe < n_shown) return false; /* never take back what was shown */
        memcpy(shown + n_shown, text + n_shown, r.safe - n_shown);
        n_shown = r.safe;
    }
    if (!r.stopped) { /* end of generation: flush what was held back */
        memcpy(shown + n_shown, text + n_shown, len - n_shown);
        n_shown = len;
    }
    return (want_stop < 0 ? !r.stopped : r.stopped && r.stop_at == (uint64_t)want_stop) &&
           n_shown == strlen(want_shown) && !memcmp(shown, want_shown, n_shown);
}

TEST(sampler_stop_strings_every_split) {
    const char *stops[] = {"</answer>", "STOP", "\n\n\n"};
    mmx_stop_matcher *m;
    mmx_error err;
    const int32_t eos[] = {200020, 7};
    REQUIRE(mmx_stop_matcher_create(eos, 2, stops, 3, &m, &err) == MMX_OK);
    CHECK(mmx_stop_is_eos(m, 200020) && mmx_stop_is_eos(m, 7) && !mmx_stop_is_eos(m, 200019));
    struct {
        const char *text, *shown;
        long stop;
    } cases[] = {
        {"is 42</ans</answer>x", "is 42</ans", 10}, /* a false start, then the stop */
        {"STSTOP", "ST", 2},                         /* overlapping partial match */
        {"a\n\nb\n\n\nc", "a\n\nb", 4},
        {"no stop </answ", "no stop </answ", -1},   /* held back, then flushed at the end */
        {"</answer>", "", 0},
    };
    size_t splits = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t len = strlen(cases[c].text);
        /* every way of cutting the text into tokens: 2^(len-1) */
        for (uint32_t mask = 0; mask < (1u << (len - 1)); mask++, splits++)
            if (!stream_once(m, cases[c].text, len, mask, cases[c].shown, cases[c].stop)) {
                CHECKF(false, "case %zu split mask %#x", c, mask);
                break;
            }
        /* and the stateless helpers agree on the whole text */
        CHECK(mmx_stop_find(stops, 3, cases[c].text, len) == cases[c].stop);
    }
    printf("    %zu token splits streamed\n", splits);
    /* once stopped, more input changes nothing; which stop string matched */
    mmx_stop_result r;
    mmx_stop_matcher_reset(m);
    CHECK(mmx_stop_matcher_feed(m, "xxSTOPyy", 8, &r) && r.stop_index == 1 && r.stop_at == 2 && r.safe == 2);
    CHECK(mmx_stop_matcher_feed(m, "</answer>", 9, &r) && r.stop_index == 1 && r.stop_at == 2);
    mmx_stop_matcher_free(m);
    /* first completion wins in streaming (mmx_stop_find sees the whole text and prefers "abcd") */
    const char *ov[] = {"abcd", "bc"};
    REQUIRE(mmx_stop_matcher_create(NULL, 0, ov, 2, &m, &err) == MMX_OK);
    CHECK(mmx_stop_matcher_feed(m, "xabcd", 5, &r) && r.stop_index == 1 && r.stop_at == 2);
    CHECK(mmx_stop_find(ov, 2, "xabcd", 5) == 1);
    /* same end: the longer one */
    const char *suf[] = {"cd", "bcd"};
    mmx_stop_matcher_free(m);
    REQUIRE(mmx_stop_matcher_create(NULL, 0, suf, 2, &m, &err) == MMX_OK);
    CHECK(mmx_stop_matcher_feed(m, "abcd", 4, &r) && r.stop_index == 1 && r.stop_at == 1);
    mmx_stop_matcher_free(m);
    /* no stop strings: nothing held; empty strings ignored; NULL refused */
    const char *empty[] = {""};
    REQUIRE(mmx_stop_matcher_create(NULL, 0, empty, 1, &m, &err) == MMX_OK);
    CHECK(!mmx_stop_matcher_feed(m, "abc", 3, &r) && r.safe == 3 && r.hold == 0);
    mmx_stop_matcher_free(m);
    const char *null_stop[] = {NULL};
    CHECK(mmx_stop_matcher_create(NULL, 0, null_stop, 1, &m, &err) == MMX_ERR_INVALID_ARG);
}

TEST(sampler_stop_holdback_stateless) {
    const char *stops[] = {"</answer>", "STOP"};
    CHECK(mmx_stop_holdback(stops, 2, "abc</ans", 8) == 5);
    CHECK(mmx_stop_holdback(stops, 2, "abcST", 5) == 2);
    CHECK(mmx_stop_holdback(stops, 2, "abc", 3) == 0);
    CHECK(mmx_stop_holdback(stops, 2, "<", 1) == 1);
    CHECK(mmx_stop_find(stops, 2, "xSTOPy</answer>", 15) == 1);
    CHECK(mmx_stop_find(stops, 2, "none", 4) == -1);
}

/* Streaming as the generator does it: show the bytes the stop matcher calls safe, but only up to
 * the last complete UTF-8 character; every chunk shown is valid UTF-8 and never part of a stop. */
TEST(sampler_stop_utf8_safe_streaming) {
    /* "Zürich 東京 😀 ende</s>" with multi-byte characters split across tokens and the stop "</s>" */
    const char *text = "Z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80 ende</s>after";
    const char *want = "Z\xc3\xbcrich \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80 ende";
    const char *stops[] = {"</s>", "\xf0\x9f\x98\x81"}; /* a stop sharing 3 bytes with the emoji */
    mmx_stop_matcher *m;
    mmx_error err;
    REQUIRE(mmx_stop_matcher_create(NULL, 0, stops, 2, &m, &err) == MMX_OK);
    size_t len = strlen(text), trials = 0;
    /* token boundaries after every byte, every 2nd, every 3rd, ... and a few fixed mixes */
    for (size_t step = 1; step <= 7; step++) {
        for (size_t phase = 0; phase < step; phase++, trials++) {
            mmx_stop_matcher_reset(m);
            char shown[128];
            size_t n_shown = 0, start = 0;
            bool chunks_valid = true;
            mmx_stop_result r = {0};
            for (size_t i = 0; i < len && !r.stopped; i++) {
                if ((i + 1) % step != phase % step && i + 1 < len) continue;
                mmx_stop_matcher_feed(m, text + start, i + 1 - start, &r);
                start = i + 1;
                size_t avail = (size_t)r.safe - n_shown;
                /* at a stop the text before it is complete; otherwise only whole characters */
                size_t ok = r.stopped ? avail : mmx_utf8_complete_prefix(text + n_shown, avail);
                char tmp[256];
                chunks_valid &= mmx_utf8_sanitize(text + n_shown, ok, tmp) == ok && !memcmp(tmp, text + n_shown, ok);
                memcpy(shown + n_shown, text + n_shown, ok);
                n_shown += ok;
            }
            CHECKF(r.stopped && n_shown == strlen(want) && !memcmp(shown, want, n_shown) && chunks_valid,
                   "step %zu phase %zu: shown %zu bytes", step, phase, n_shown);
        }
    }
    CHECK(trials == 28);
    mmx_stop_matcher_free(m);
}
