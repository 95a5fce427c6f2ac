/*
 * mmx bench: prefill (ppN) and decode (tgN) speed in the spirit of llama-bench, with the decode
 * bandwidth roofline: bytes read per token (weights actually touched, lightning state, KV cache)
 * against the machine's read bandwidth, which this command measures itself.
 */
#include "cli.h"
#include "common.h"
#include "kernels/kernels.h"
#include "model.h"
#include "tokenizer.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Machine read bandwidth: mmx_model_read_bandwidth streams every mapped weight byte through the
 * model's own pool (the threads decode uses, so no extra thread competes for the cores and no memory
 * is allocated).  It is taken right before and right after each decode repetition and paired with
 * it, because a shared machine's bandwidth swings (27..58 GB/s seen on the development VM); the
 * repetition's bandwidth is the best of those two and of the best one before the tests' start, so
 * neither a momentary dip nor the machine speeding up during the tests flatters the fraction (with
 * the probe before only, fractions above 100% were seen). */
typedef struct {
    double median, lo, hi;
} stats;

static stats summarize(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    stats s = {n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), v[0], v[n - 1]};
    return s;
}

static bool parse_list(const char *cmd, const char *text, size_t *out, int *n_out, int cap) {
    int n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        unsigned long long x = strtoull(p, &end, 10);
        if (end == p || n >= cap) {
            fprintf(stderr, "mmx %s: bad list '%s'\n", cmd, text);
            return false;
        }
        out[n++] = (size_t)x;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') {
            fprintf(stderr, "mmx %s: bad list '%s'\n", cmd, text);
            return false;
        }
    }
    *n_out = n;
    return true;
}

static void usage(FILE *f) {
    fprintf(f, "usage: mmx bench -m MODEL [-p 512,4096] [-n 128] [-t THREADS] [-r REPS] [--block-size B]\n"
               "                 [--batch N] [--json] [--reference] [--hugepages]\n"
               "       mmx bench --tokenizer FILE [--text FILE] [-r REPS] [--json]\n"
               "  pp: prefill of N tokens into an empty sequence (tokens/s)\n"
               "  tg: N decode steps of one token from an empty sequence (tokens/s), with bytes read per\n"
               "      token, achieved bandwidth and the fraction of the measured machine read bandwidth\n"
               "  Values are the median over REPS repetitions (default 5) after one warm-up; spread is\n"
               "  min..max.  -p 0 or -n 0 skips that test.\n"
               "  --hugepages: read the weights into huge-page memory instead of mapping them (as env\n"
               "      MMX_HUGEPAGES=1; faster decode where 4 KiB page translations are costly)\n");
}

/* mmx bench --tokenizer FILE: tokenizer load time and single-thread encoding speed on English prose
 * (--text FILE, default: the license texts in /usr/share/common-licenses, repeated to >= 8 MB). */
static int bench_tokenizer(const char *path, const char *text_path, size_t reps, bool json) {
    double t0 = now_s();
    mmx_tokenizer *tok = cli_load_tokenizer("bench", NULL, path);
    double t_load = now_s() - t0;
    if (!tok) return 1;
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap);
    const char *files[64];
    size_t n_files = 0;
    char names[64][512];
    if (text_path) {
        files[n_files++] = text_path;
    } else {
        DIR *d = opendir("/usr/share/common-licenses");
        struct dirent *de;
        while (d && (de = readdir(d)) && n_files < 64)
            if (de->d_name[0] != '.') {
                snprintf(names[n_files], sizeof names[0], "/usr/share/common-licenses/%s", de->d_name);
                files[n_files] = names[n_files];
                n_files++;
            }
        if (d) closedir(d);
    }
    for (size_t i = 0; i < n_files && text; i++) {
        FILE *f = fopen(files[i], "rb");
        if (!f) continue;
        size_t got;
        char buf[65536];
        while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
            if (len + got > cap) {
                while (len + got > cap) cap *= 2;
                char *nt = realloc(text, cap);
                if (!nt) break;
                text = nt;
            }
            memcpy(text + len, buf, got);
            len += got;
        }
        fclose(f);
    }
    if (!text || len == 0) {
        fprintf(stderr, "mmx bench: no text to encode (give --text FILE)\n");
        free(text);
        mmx_tokenizer_free(tok);
        return 1;
    }
    size_t base = len; /* repeat the corpus up to 8 MB */
    while (len < (8u << 20)) {
        if (len + base > cap) {
            cap = 2 * (len + base);
            char *nt = realloc(text, cap);
            if (!nt) break;
            text = nt;
        }
        memcpy(text + len, text, base);
        len += base;
    }
    int32_t *ids = malloc((len + 16) * sizeof *ids);
    double *mbs = malloc(reps * sizeof *mbs);
    size_t n_ids = 0;
    mmx_error err;
    for (size_t r = 0; r <= reps && ids && mbs; r++) {
        double t = now_s();
        if (mmx_tokenizer_encode(tok, text, len, true, ids, len + 16, &n_ids, &err) != MMX_OK) break;
        double dt = now_s() - t;
        if (r > 0) mbs[r - 1] = (double)len / dt / 1e6;
    }
    stats st = summarize(mbs, (int)reps);
    if (json)
        printf("{\"test\":\"tokenizer\",\"threads\":1,\"load_s\":%.4f,\"bytes\":%zu,\"tokens\":%zu,"
               "\"mb_per_s\":%.3f,\"mb_per_s_min\":%.3f,\"mb_per_s_max\":%.3f,\"tokens_per_s\":%.0f}\n",
               t_load, len, n_ids, st.median, st.lo, st.hi, st.median * 1e6 * (double)n_ids / (double)len);
    else
        printf("tokenizer %s: load %.3f s; encode %zu bytes -> %zu tokens on 1 thread: %.2f MB/s (%.2f..%.2f), %.0f "
               "tokens/s\n",
               path, t_load, len, n_ids, st.median, st.lo, st.hi, st.median * 1e6 * (double)n_ids / (double)len);
    free(ids);
    free(mbs);
    free(text);
    mmx_tokenizer_free(tok);
    return 0;
}

int mmx_cmd_bench(int argc, char **argv) {
    const char *model_path = NULL, *tokenizer_path = NULL, *text_path = NULL;
    size_t pp[16] = {512}, tg[16] = {128}, threads = 0, reps = 5, block = 0, batch = 512;
    bool hugepages = false;
    int n_pp = 1, n_tg = 1;
    bool json = false, reference = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--reference")) {
            reference = true;
        } else if (!strcmp(a, "--hugepages")) {
            hugepages = true;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
            if (!(model_path = cli_value("bench", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--tokenizer")) {
            if (!(tokenizer_path = cli_value("bench", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--text")) {
            if (!(text_path = cli_value("bench", argc, argv, &i))) return 2;
        } else if (!strcmp(a, "-p")) {
            if (!(v = cli_value("bench", argc, argv, &i)) || !parse_list("bench", v, pp, &n_pp, 16)) return 2;
        } else if (!strcmp(a, "-n")) {
            if (!(v = cli_value("bench", argc, argv, &i)) || !parse_list("bench", v, tg, &n_tg, 16)) return 2;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!(v = cli_value("bench", argc, argv, &i)) || !cli_parse_size("bench", a, v, &threads)) return 2;
        } else if (!strcmp(a, "-r") || !strcmp(a, "--reps")) {
            if (!(v = cli_value("bench", argc, argv, &i)) || !cli_parse_size("bench", a, v, &reps) || reps == 0) return 2;
        } else if (!strcmp(a, "--block-size")) {
            if (!(v = cli_value("bench", argc, argv, &i)) || !cli_parse_size("bench", a, v, &block)) return 2;
        } else if (!strcmp(a, "--batch")) {
            if (!(v = cli_value("bench", argc, argv, &i)) || !cli_parse_size("bench", a, v, &batch) || !batch) return 2;
        } else {
            fprintf(stderr, "mmx bench: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (tokenizer_path) return bench_tokenizer(tokenizer_path, text_path, reps, json);
    if (!model_path) {
        fprintf(stderr, "mmx bench: -m MODEL (or --tokenizer FILE) is required\n");
        return 2;
    }
    if (reps > 1000) reps = 1000;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (size_t)n : 1;
    }
    mmx_model_params mp = mmx_model_default_params();
    mp.n_threads = (int)threads;
    mp.lightning_block = block;
    mp.force_reference = reference;
    mp.weights_in_hugepages = hugepages; /* else env MMX_HUGEPAGES decides */
    mmx_model *m = cli_load_model_params("bench", model_path, &mp);
    if (!m) return 1;
    double bw = 0;
    mmx_model_read_bandwidth(m); /* the first pass maps every page */
    for (int i = 0; i < 5; i++) {
        double g = mmx_model_read_bandwidth(m);
        bw = g > bw ? g : bw;
    }
    double *bw_rep = malloc((reps + 1) * sizeof *bw_rep), *frac_rep = malloc((reps + 1) * sizeof *frac_rep);
    mmx_model_info info;
    mmx_model_get_info(m, &info);
    size_t max_ctx = 1;
    for (int i = 0; i < n_pp; i++) max_ctx = pp[i] > max_ctx ? pp[i] : max_ctx;
    for (int i = 0; i < n_tg; i++) max_ctx = tg[i] > max_ctx ? tg[i] : max_ctx;
    mmx_seq_params sp = mmx_seq_default_params();
    sp.n_ctx = max_ctx;
    sp.n_batch = batch < max_ctx ? batch : max_ctx;
    mmx_seq *s = NULL;
    mmx_error err;
    int rc = 1;
    int32_t *tokens = malloc(max_ctx * sizeof *tokens);
    float *logits = malloc(info.n_vocab * sizeof *logits);
    double *times = malloc(reps * sizeof *times);
    if (!tokens || !logits || !times || !bw_rep || !frac_rep || mmx_seq_create(m, &sp, &s, &err) != MMX_OK) {
        fprintf(stderr, "mmx bench: %s\n", s ? "out of memory" : err.message);
        goto done;
    }
    /* deterministic pseudo-random prompt over the valid ids */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < max_ctx; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        tokens[i] = (int32_t)(x % info.n_vocab_valid);
    }
    const double huge_frac =
        info.weight_file_bytes ? (double)info.weight_file_bytes_huge / (double)info.weight_file_bytes : 0.0;
    if (!json) {
        printf("model: %s (%s), %.2f GiB weights (%s, %.0f%% in 2 MiB pages), %zu threads, ISA via MMX_ISA/MMX_REFERENCE env\n",
               info.path, info.source_format, (double)info.weight_bytes / (1 << 30),
               info.weights_in_hugepages ? "in huge-page memory" : "memory-mapped",
               100.0 * huge_frac,
               threads);
        printf("machine read bandwidth (measured, %zu threads, reading the weights): %.2f GB/s before the tests;\n"
               "  decode rows: median over repetitions of achieved / max(that, bandwidth measured just before and just after it)\n",
               threads, bw);
        printf("%-8s %8s %14s %16s %12s %10s %10s %9s\n", "test", "threads", "tokens/s", "spread", "bytes/token",
               "GB/s", "machine", "roofline");
    }
    for (int kind = 0; kind < 2; kind++) {
        int nt = kind == 0 ? n_pp : n_tg;
        for (int ti = 0; ti < nt; ti++) {
            size_t n = kind == 0 ? pp[ti] : tg[ti];
            if (n == 0) continue;
            /* bytes per decoded token: touched weights + lightning state read and written + the KV
             * cache read, averaged over positions 0..n-1 */
            const double bytes = (double)info.decode_weight_bytes + 2.0 * (double)info.state_bytes +
                                 (double)info.kv_bytes_per_token * (double)(n + 1) / 2.0;
            for (size_t r = 0; r <= reps; r++) { /* r == 0 is the warm-up */
                mmx_seq_reset(s);
                if (kind == 1 && r > 0) {
                    const double g = mmx_model_read_bandwidth(m);
                    bw_rep[r - 1] = g > bw ? g : bw;
                }
                double t0 = now_s();
                if (kind == 0) {
                    if (mmx_seq_eval(s, tokens, n, MMX_LOGITS_LAST, logits, &err) != MMX_OK) goto eval_fail;
                } else {
                    for (size_t i = 0; i < n; i++)
                        if (mmx_seq_eval(s, tokens + i, 1, MMX_LOGITS_LAST, logits, &err) != MMX_OK) goto eval_fail;
                }
                if (r > 0) times[r - 1] = (double)n / (now_s() - t0);
                if (kind == 1 && r > 0) {
                    const double g = mmx_model_read_bandwidth(m); /* right after: see the comment on top */
                    bw_rep[r - 1] = g > bw_rep[r - 1] ? g : bw_rep[r - 1];
                    frac_rep[r - 1] = bw_rep[r - 1] > 0 ? bytes * times[r - 1] / 1e9 / bw_rep[r - 1] : 0;
                }
            }
            stats st = summarize(times, (int)reps);
            char name[32];
            snprintf(name, sizeof name, "%s%zu", kind == 0 ? "pp" : "tg", n);
            if (kind == 0) {
                if (json)
                    printf("{\"test\":\"%s\",\"threads\":%zu,\"n_tokens\":%zu,\"reps\":%zu,\"tokens_per_s\":%.3f,"
                           "\"tokens_per_s_min\":%.3f,\"tokens_per_s_max\":%.3f,\"hugepages\":%s,\"huge_fraction\":%.4f,\"model\":\"%s\"}\n",
                           name, threads, n, reps, st.median, st.lo, st.hi, info.weights_in_hugepages ? "true" : "false",
                           huge_frac, info.path);
                else
                    printf("%-8s %8zu %14.2f %7.2f..%-8.2f %12s %10s %10s %9s\n", name, threads, st.median, st.lo, st.hi,
                           "", "", "", "");
            } else {
                double gbs = bytes * st.median / 1e9;
                double frac = summarize(frac_rep, (int)reps).median, bw_med = summarize(bw_rep, (int)reps).median;
                /* how BF16 rows off a cache line were read (kernels.h: timed at the first decode product) */
                const mmx_bf16_rows br = mmx_kernel_bf16_rows();
                const char *bf16_rows = br == MMX_BF16_ROWS_LINES ? "lines" : br == MMX_BF16_ROWS_PLAIN ? "plain" : "n/a";
                if (json)
                    printf("{\"test\":\"%s\",\"threads\":%zu,\"n_tokens\":%zu,\"reps\":%zu,\"tokens_per_s\":%.3f,"
                           "\"tokens_per_s_min\":%.3f,\"tokens_per_s_max\":%.3f,\"bytes_per_token\":%.0f,"
                           "\"achieved_gb_per_s\":%.3f,\"machine_gb_per_s\":%.3f,\"roofline_fraction\":%.4f,"
                           "\"hugepages\":%s,\"huge_fraction\":%.4f,\"bf16_rows\":\"%s\",\"model\":\"%s\"}\n",
                           name, threads, n, reps, st.median, st.lo, st.hi, bytes, gbs, bw_med, frac,
                           info.weights_in_hugepages ? "true" : "false", huge_frac, bf16_rows, info.path);
                else {
                    printf("%-8s %8zu %14.2f %7.2f..%-8.2f %12.0f %10.2f %10.2f %8.1f%%\n", name, threads, st.median,
                           st.lo, st.hi, bytes, gbs, bw_med, 100 * frac);
                    if (br != MMX_BF16_ROWS_UNDECIDED)
                        printf("  (BF16 rows off a cache line read as %s: timed at the first decode product, MMX_BF16_LINES=0|1 forces)\n",
                               bf16_rows);
                }
            }
            fflush(stdout);
        }
    }
    rc = 0;
    goto done;
eval_fail:
    fprintf(stderr, "mmx bench: %s\n", err.message);
done:
    mmx_seq_free(s);
    free(tokens);
    free(logits);
    free(times);
    free(bw_rep);
    free(frac_rep);
    mmx_model_free(m);
    return rc;
}
