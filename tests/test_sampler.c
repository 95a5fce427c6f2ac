/* Sampler chain: determinism, each stage's effect on crafted distributions, frequencies, stops. */
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
    for (size_t i = 0; i < n; i++) mmx_sampler_add(s, stages[i]);
    return s;
}

/* The set of ids a chain can produce, found by sweeping the coin over [0,1). */
static unsigned reachable(mmx_sampler *s, const float *logits) {
    unsigned mask = 0;
    for (int i = 0; i < 1000; i++) mask |= 1u << mmx_sampler_sample_coin(s, logits, (float)i / 1000.0f);
    return mask;
}

static const float L[V] = {1.0f, 3.0f, 2.0f, 0.5f, 3.0f, -1.0f, 0.0f, 2.5f, 1.5f, -2.0f};

TEST(sampler_greedy_argmax_lowest_id_on_ties) {
    mmx_sampler_stage st[] = {mmx_stage_greedy()};
    mmx_sampler *s = chain(st, 1, V);
    REQUIRE(s);
    CHECK(mmx_sampler_sample_coin(s, L, 0.99f) == 1); /* ids 1 and 4 tie at 3.0 */
    mmx_sampler_free(s);
}

TEST(sampler_top_k_keeps_exactly_k) {
    mmx_sampler_stage st[] = {mmx_stage_top_k(3)};
    mmx_sampler *s = chain(st, 1, V);
    REQUIRE(s);
    CHECK(reachable(s, L) == ((1u << 1) | (1u << 4) | (1u << 7)));
    mmx_sampler_free(s);
}

TEST(sampler_top_p_keeps_minimal_nucleus) {
    /* probabilities 0.5, 0.3, 0.15, 0.05: p = 0.75 needs the first two, 0.85 the first three */
    float lg[V];
    for (int i = 0; i < V; i++) lg[i] = -INFINITY;
    lg[2] = logf(0.5f), lg[5] = logf(0.3f), lg[8] = logf(0.15f), lg[0] = logf(0.05f);
    mmx_sampler_stage a[] = {mmx_stage_top_p(0.75f)};
    mmx_sampler *s = chain(a, 1, V);
    CHECK(reachable(s, lg) == ((1u << 2) | (1u << 5)));
    mmx_sampler_free(s);
    mmx_sampler_stage b[] = {mmx_stage_top_p(0.85f)};
    s = chain(b, 1, V);
    CHECK(reachable(s, lg) == ((1u << 2) | (1u << 5) | (1u << 8)));
    mmx_sampler_free(s);
}

TEST(sampler_min_p_threshold_relative_to_max) {
    /* keep p >= 0.3 * p_max: logit >= 3 + ln 0.3 = 1.796 -> ids 1, 4, 7, 2 */
    mmx_sampler_stage st[] = {mmx_stage_min_p(0.3f)};
    mmx_sampler *s = chain(st, 1, V);
    CHECK(reachable(s, L) == ((1u << 1) | (1u << 4) | (1u << 7) | (1u << 2)));
    mmx_sampler_free(s);
}

TEST(sampler_temperature_sharpens_and_flattens) {
    /* with coin 0.5 over two ids with logits 1 and 0: T small -> always id 0; T large -> near 50/50 */
    float lg[V];
    for (int i = 0; i < V; i++) lg[i] = -INFINITY;
    lg[0] = 1.0f, lg[1] = 0.0f;
    mmx_sampler_stage cold[] = {mmx_stage_temperature(0.05f)};
    mmx_sampler *s = chain(cold, 1, V);
    CHECK(mmx_sampler_sample_coin(s, lg, 0.99f) == 0);
    mmx_sampler_free(s);
    mmx_sampler_stage hot[] = {mmx_stage_temperature(100.0f)};
    s = chain(hot, 1, V);
    CHECK(mmx_sampler_sample_coin(s, lg, 0.49f) == 0);
    CHECK(mmx_sampler_sample_coin(s, lg, 0.51f) == 1);
    mmx_sampler_free(s);
}

TEST(sampler_penalties_follow_their_formulas) {
    /* history: id 1 twice, id 5 once.  repeat 2: positive logits halve, negative double;
     * presence 0.5 once per present id; frequency 0.25 per occurrence. */
    mmx_sampler_stage st[] = {mmx_stage_penalties(64, 2.0f, 0.5f, 0.25f), mmx_stage_greedy()};
    mmx_sampler *s = chain(st, 2, V);
    mmx_sampler_accept(s, 1), mmx_sampler_accept(s, 1), mmx_sampler_accept(s, 5);
    /* id 1: 3/2 - 0.5 - 0.5 = 0.5; id 4 stays 3.0 and wins */
    CHECK(mmx_sampler_sample_coin(s, L, 0.5f) == 4);
    float lg[V];
    for (int i = 0; i < V; i++) lg[i] = -10.0f;
    lg[1] = 2.0f, lg[5] = 1.5f, lg[2] = 0.9f;
    /* id 1 -> 2/2 - 0.5 - 0.5 = 0.0; id 5 -> 1.5/2 - 0.5 - 0.25 = 0.0; id 2 = 0.9 wins */
    CHECK(mmx_sampler_sample_coin(s, lg, 0.5f) == 2);
    lg[2] = -0.1f; /* now ids 1 and 5 tie at 0.0: lowest id */
    CHECK(mmx_sampler_sample_coin(s, lg, 0.5f) == 1);
    mmx_sampler_free(s);
}

TEST(sampler_masked_padding_never_sampled) {
    float lg[V] = {0, 0, 0, 0, 0, 0, 0, 0, 100.0f, 100.0f};
    mmx_sampler_params p = mmx_sampler_default_params();
    p.top_k = 0, p.top_p = 1, p.min_p = 0, p.temperature = 5.0f;
    mmx_sampler *s;
    mmx_error err;
    REQUIRE(mmx_sampler_from_params(&p, V, 8, &s, &err) == MMX_OK);
    for (int i = 0; i < 2000; i++) CHECK(mmx_sampler_sample(s, lg) < 8);
    mmx_sampler_free(s);
}

TEST(sampler_seed_determinism) {
    float lg[V];
    for (int i = 0; i < V; i++) lg[i] = (float)(i % 4);
    mmx_sampler_params p = mmx_sampler_default_params();
    p.top_k = 0, p.min_p = 0, p.top_p = 1, p.temperature = 1.0f;
    int32_t a[64], b[64], c[64];
    for (int run = 0; run < 3; run++) {
        p.seed = run == 2 ? 77 : 42;
        mmx_sampler *s;
        mmx_error err;
        REQUIRE(mmx_sampler_from_params(&p, V, V, &s, &err) == MMX_OK);
        for (int i = 0; i < 64; i++) (run == 0 ? a : run == 1 ? b : c)[i] = mmx_sampler_sample(s, lg);
        mmx_sampler_free(s);
    }
    CHECK(!memcmp(a, b, sizeof a));
    CHECK(memcmp(a, c, sizeof a) != 0);
}

/* Frequencies follow the softmax: a fixed seed makes this deterministic; bound is ~5 sigma. */
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
}

TEST(sampler_stop_strings_across_token_boundaries) {
    const char *stops[] = {"</answer>", "STOP"};
    const char *text = "The result is 42</answer> trailing";
    size_t len = strlen(text);
    /* feed the text split at every possible point into two "tokens" */
    for (size_t cut = 0; cut <= len; cut++) {
        char buf[128];
        size_t n = 0, emitted = 0;
        long found = -1;
        char shown[128];
        size_t shown_len = 0;
        for (int part = 0; part < 2 && found < 0; part++) {
            const char *src = part == 0 ? text : text + cut;
            size_t m = part == 0 ? cut : len - cut;
            memcpy(buf + n, src, m);
            n += m;
            found = mmx_stop_find(stops, 2, buf, n);
            size_t safe = found >= 0 ? (size_t)found : n - mmx_stop_holdback(stops, 2, buf, n);
            if (safe > emitted) {
                memcpy(shown + shown_len, buf + emitted, safe - emitted);
                shown_len += safe - emitted;
                emitted = safe;
            }
        }
        CHECKF(found == 16, "cut %zu: stop found at %ld", cut, found);
        CHECKF(shown_len == 16 && !memcmp(shown, "The result is 42", 16), "cut %zu: shown '%.*s'", cut, (int)shown_len,
               shown);
    }
    CHECK(mmx_stop_holdback(stops, 2, "abc</ans", 8) == 5);
    CHECK(mmx_stop_holdback(stops, 2, "abcST", 5) == 2);
    CHECK(mmx_stop_holdback(stops, 2, "abc", 3) == 0);
    CHECK(mmx_stop_find(stops, 2, "xSTOPy</answer>", 15) == 1);
}
