#include "gen.h"
#include "common.h"
#include "gguf.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void gen_opts_default(gen_opts *o, size_t n_predict) {
    memset(o, 0, sizeof *o);
    o->n_predict = n_predict;
    o->n_ctx = 4096;
    o->sampling = mmx_sampler_default_params();
}

void gen_print_opts_help(FILE *f) {
    fprintf(f, "  -m, --model PATH         HF model directory or .gguf file\n"
               "  --tokenizer PATH         tokenizer.json / .gguf to use instead of the model's\n"
               "  -n N                     most tokens to generate\n"
               "  -c, --ctx N              context size in tokens (default 4096)\n"
               "  -t, --threads N          threads (default: all cores)\n"
               "  --temp T                 temperature (default 0.8; 0 = greedy)\n"
               "  --top-k K, --top-p P, --min-p P   (defaults 40, 0.95, 0.05; 0 / 1 / 0 = off)\n"
               "  --repeat-penalty X, --presence-penalty X, --frequency-penalty X, --repeat-last-n N\n"
               "  --seed S                 random seed (same seed, same output)\n"
               "  --stop TEXT              stop when TEXT is generated (repeatable)\n"
               "  --ignore-eos             keep generating after <end_of_sentence>\n");
}

static bool f_arg(const char *cmd, const char *opt, const char *v, float *out) {
    char *end;
    float x = strtof(v, &end);
    if (!*v || *end) {
        fprintf(stderr, "mmx %s: option %s needs a number, got '%s'\n", cmd, opt, v);
        return false;
    }
    *out = x;
    return true;
}

int gen_parse_opt(const char *cmd, gen_opts *o, int argc, char **argv, int *i) {
    const char *a = argv[*i], *v;
    size_t z;
    float f;
#define VAL() if (!(v = cli_value(cmd, argc, argv, i))) return -1
    if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
        VAL();
        o->model = v;
    } else if (!strcmp(a, "--tokenizer")) {
        VAL();
        o->tokenizer = v;
    } else if (!strcmp(a, "--template")) {
        VAL();
        o->template_name = v;
    } else if (!strcmp(a, "-n") || !strcmp(a, "--n-predict")) {
        VAL();
        if (!cli_parse_size(cmd, a, v, &o->n_predict)) return -1;
    } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx")) {
        VAL();
        if (!cli_parse_size(cmd, a, v, &o->n_ctx) || o->n_ctx == 0) return -1;
    } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
        VAL();
        if (!cli_parse_size(cmd, a, v, &o->threads)) return -1;
    } else if (!strcmp(a, "--temp") || !strcmp(a, "--temperature")) {
        VAL();
        if (!f_arg(cmd, a, v, &o->sampling.temperature)) return -1;
    } else if (!strcmp(a, "--top-k")) {
        VAL();
        if (!cli_parse_size(cmd, a, v, &z)) return -1;
        o->sampling.top_k = (int32_t)z;
    } else if (!strcmp(a, "--top-p")) {
        VAL();
        if (!f_arg(cmd, a, v, &o->sampling.top_p)) return -1;
    } else if (!strcmp(a, "--min-p")) {
        VAL();
        if (!f_arg(cmd, a, v, &o->sampling.min_p)) return -1;
    } else if (!strcmp(a, "--repeat-penalty")) {
        VAL();
        if (!f_arg(cmd, a, v, &o->sampling.repeat_penalty)) return -1;
    } else if (!strcmp(a, "--presence-penalty")) {
        VAL();
        if (!f_arg(cmd, a, v, &o->sampling.presence_penalty)) return -1;
    } else if (!strcmp(a, "--frequency-penalty")) {
        VAL();
        if (!f_arg(cmd, a, v, &o->sampling.frequency_penalty)) return -1;
    } else if (!strcmp(a, "--repeat-last-n")) {
        VAL();
        if (!f_arg(cmd, a, v, &f)) return -1;
        o->sampling.penalty_last_n = (int32_t)f;
    } else if (!strcmp(a, "--seed")) {
        VAL();
        if (!cli_parse_size(cmd, a, v, &z)) return -1;
        o->sampling.seed = (uint64_t)z;
    } else if (!strcmp(a, "--stop")) {
        VAL();
        if (o->n_stops == GEN_MAX_STOPS || !*v) {
            fprintf(stderr, "mmx %s: at most %d non-empty --stop strings\n", cmd, GEN_MAX_STOPS);
            return -1;
        }
        o->stops[o->n_stops++] = v;
    } else if (!strcmp(a, "--no-special")) {
        o->no_special = true;
    } else if (!strcmp(a, "--ignore-eos")) {
        o->ignore_eos = true;
    } else {
        return 0;
    }
    return 1;
#undef VAL
}

/* Chat template kind from the model's files (tokenizer_config.json / config.json, or the GGUF's
 * tokenizer.chat_template), overridable with --template. */
mmx_chat_kind gen_detect_chat_kind(const char *model) {
    struct stat sb;
    char path[4096];
    char *tmpl = NULL, *arch = NULL;
    if (stat(model, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        /* The template lives in chat_template.jinja (newer transformers) or tokenizer_config.json's
         * chat_template: a string, or a list of {"name", "template"} where "default" is the chat one. */
        snprintf(path, sizeof path, "%s/chat_template.jinja", model);
        size_t n;
        mmx_error ignored;
        if (mmx_read_file(path, &tmpl, &n, &ignored) != MMX_OK) {
            tmpl = NULL;
            snprintf(path, sizeof path, "%s/tokenizer_config.json", model);
            json_t *tc = json_load_file(path, 0, NULL);
            json_t *ct = json_object_get(tc, "chat_template");
            if (json_is_array(ct)) {
                size_t i;
                json_t *e, *pick = NULL;
                json_array_foreach(ct, i, e) {
                    const char *name = json_string_value(json_object_get(e, "name"));
                    if (!pick || (name && !strcmp(name, "default"))) pick = json_object_get(e, "template");
                }
                ct = pick;
            }
            if (json_is_string(ct)) tmpl = strdup(json_string_value(ct));
            json_decref(tc);
        }
        snprintf(path, sizeof path, "%s/config.json", model);
        json_t *cf = json_load_file(path, 0, NULL);
        json_t *a0 = json_array_get(json_object_get(cf, "architectures"), 0);
        if (json_is_string(a0)) arch = strdup(json_string_value(a0));
        json_decref(cf);
    } else {
        mmx_gguf *g;
        if (mmx_gguf_open(model, &g, NULL) == MMX_OK) {
            const char *s;
            size_t n;
            if (mmx_gguf_get_str(g, "tokenizer.chat_template", &s, &n)) tmpl = strndup(s, n);
            mmx_gguf_free(g);
        }
    }
    mmx_chat_kind k = mmx_chat_detect(tmpl, arch);
    free(tmpl);
    free(arch);
    return k;
}

bool gen_session_open(const char *cmd, gen_session *s, const gen_opts *o) {
    memset(s, 0, sizeof *s);
    if (!o->model) {
        fprintf(stderr, "mmx %s: -m MODEL is required\n", cmd);
        return false;
    }
    s->model = cli_load_model(cmd, o->model, (int)o->threads, 0, false);
    if (!s->model) return false;
    s->tok = cli_load_tokenizer(cmd, o->model, o->tokenizer);
    if (!s->tok) return gen_session_close(s), false;
    mmx_model_info info;
    mmx_model_get_info(s->model, &info);
    s->n_vocab = info.n_vocab;
    s->n_valid = info.n_vocab_valid;
    s->eos = mmx_tokenizer_eos(s->tok);
    mmx_error err;
    mmx_seq_params sp = mmx_seq_default_params();
    sp.n_ctx = o->n_ctx;
    if (mmx_seq_create(s->model, &sp, &s->seq, &err) != MMX_OK ||
        mmx_sampler_from_params(&o->sampling, s->n_vocab, s->n_valid, &s->sampler, &err) != MMX_OK) {
        fprintf(stderr, "mmx %s: %s\n", cmd, err.message);
        return gen_session_close(s), false;
    }
    s->logits = malloc(s->n_vocab * sizeof *s->logits);
    if (!s->logits) {
        fprintf(stderr, "mmx %s: out of memory\n", cmd);
        return gen_session_close(s), false;
    }
    s->chat_kind = gen_detect_chat_kind(o->model);
    if (o->template_name && !mmx_chat_kind_parse(o->template_name, &s->chat_kind)) {
        fprintf(stderr, "mmx %s: unknown --template '%s' (m1, text01, vllm, llamacpp)\n", cmd, o->template_name);
        return gen_session_close(s), false;
    }
    return true;
}

void gen_session_close(gen_session *s) {
    free(s->logits);
    mmx_sampler_free(s->sampler);
    mmx_seq_free(s->seq);
    mmx_tokenizer_free(s->tok);
    mmx_model_free(s->model);
    memset(s, 0, sizeof *s);
}

/* Emits text as valid UTF-8: bytes the model produced that can never form a character are shown as
 * U+FFFD (the caller already held back a possibly unfinished last character). */
static void emit_valid(gen_emit_fn emit, void *user, const char *t, size_t n) {
    char small[1024];
    char *buf = 3 * n <= sizeof small ? small : malloc(3 * n);
    if (!buf) return;
    size_t m = mmx_utf8_sanitize(t, n, buf);
    emit(buf, m, user);
    if (buf != small) free(buf);
}

void gen_generate(const char *cmd, gen_session *s, const gen_opts *o, const int32_t *prompt, size_t n_prompt,
                  gen_emit_fn emit, void *user, volatile sig_atomic_t *cancel, gen_stats *st) {
    memset(st, 0, sizeof *st);
    st->n_prompt = n_prompt;
    st->stop = GEN_STOP_LENGTH;
    mmx_error err;
    for (size_t i = 0; i < n_prompt; i++) mmx_sampler_accept(s->sampler, prompt[i]);
    double t0 = mmx_time_s();
    if (n_prompt && mmx_seq_eval(s->seq, prompt, n_prompt, MMX_LOGITS_LAST, s->logits, &err) != MMX_OK) {
        fprintf(stderr, "mmx %s: %s\n", cmd, err.message);
        st->stop = err.status == MMX_ERR_CONTEXT_FULL ? GEN_STOP_CONTEXT : GEN_STOP_ERROR;
        return;
    }
    st->t_prompt = mmx_time_s() - t0;
    /* generated text so far; `shown` bytes of it were emitted */
    size_t cap = 4096, len = 0, shown = 0;
    char *text = malloc(cap);
    t0 = mmx_time_s();
    for (size_t g = 0; g < o->n_predict && text; g++) {
        if (cancel && *cancel) {
            st->stop = GEN_STOP_CANCEL;
            break;
        }
        int32_t tok = mmx_sampler_sample(s->sampler, s->logits);
        if (tok == s->eos && !o->ignore_eos) {
            st->stop = GEN_STOP_EOS;
            break;
        }
        st->n_gen++;
        mmx_sampler_accept(s->sampler, tok);
        size_t tl;
        const char *tb = mmx_tokenizer_token_bytes(s->tok, tok, &tl);
        if (!tb) tb = "", tl = 0;
        if (len + tl + 1 > cap) {
            while (len + tl + 1 > cap) cap *= 2;
            char *nt = realloc(text, cap);
            if (!nt) break;
            text = nt;
        }
        memcpy(text + len, tb, tl);
        len += tl;
        /* stop strings may span tokens: hold back what could still become one */
        long at = mmx_stop_find(o->stops, o->n_stops, text + (shown > 64 ? shown - 64 : 0), len - (shown > 64 ? shown - 64 : 0));
        size_t safe;
        if (at >= 0) {
            safe = (size_t)at + (shown > 64 ? shown - 64 : 0);
            if (safe < shown) safe = shown;
        } else {
            safe = len - mmx_stop_holdback(o->stops, o->n_stops, text, len);
        }
        if (safe > shown) {
            size_t ok = at >= 0 ? safe - shown : mmx_utf8_complete_prefix(text + shown, safe - shown);
            if (ok) emit_valid(emit, user, text + shown, ok);
            shown += ok;
        }
        if (at >= 0) {
            st->stop = GEN_STOP_STRING;
            break;
        }
        if (mmx_seq_n_past(s->seq) + 1 > o->n_ctx) {
            st->stop = GEN_STOP_CONTEXT;
            break;
        }
        if (mmx_seq_eval(s->seq, &tok, 1, MMX_LOGITS_LAST, s->logits, &err) != MMX_OK) {
            fprintf(stderr, "mmx %s: %s\n", cmd, err.message);
            st->stop = GEN_STOP_ERROR;
            break;
        }
    }
    /* flush what was held back for stop strings; an unfinished last character shows as U+FFFD */
    if (text && st->stop != GEN_STOP_STRING && len > shown) emit_valid(emit, user, text + shown, len - shown);
    st->t_gen = mmx_time_s() - t0;
    free(text);
}

void gen_print_stats(const gen_stats *st) {
    static const char *why[] = {"end of sequence", "stop string", "length limit", "cancelled", "context full", "error"};
    fprintf(stderr, "\n[prompt: %zu tokens, %.2f tok/s | generated: %zu tokens, %.2f tok/s | stop: %s]\n", st->n_prompt,
            st->t_prompt > 0 ? (double)st->n_prompt / st->t_prompt : 0.0, st->n_gen,
            st->t_gen > 0 ? (double)st->n_gen / st->t_gen : 0.0, why[st->stop]);
}
