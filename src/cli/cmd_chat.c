/*
 * mmx chat: interactive chat with the model's chat template.  The sequence state is kept across
 * turns (each turn only feeds its new tokens).  M1 reasoning (<think>...</think>) is shown apart
 * from the answer.  With stdin not a terminal, each input line is one user turn.
 */
#include "cli.h"
#include "common.h"
#include "gen.h"
#include "reasoning.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t cancelled;
static void on_sigint(int sig) {
    (void)sig;
    cancelled = 1;
}

/* Shows reasoning (<think>...</think>, split off by the library) dimmed on a terminal, and between
 * [thinking] / [/thinking] markers. */
typedef struct {
    bool tty, in_reasoning;
} chat_view;

static void show(mmx_text_kind kind, const char *t, size_t n, void *user) {
    chat_view *v = user;
    if (kind == MMX_TEXT_REASONING && !v->in_reasoning) {
        fputs(v->tty ? "\x1b[2m[thinking]" : "[thinking]", stdout);
        v->in_reasoning = true;
    } else if (kind == MMX_TEXT_ANSWER && v->in_reasoning) {
        fputs(v->tty ? "[/thinking]\x1b[0m" : "[/thinking]", stdout);
        v->in_reasoning = false;
    }
    fwrite(t, 1, n, stdout);
    fflush(stdout);
}

static void emit_chat(const char *t, size_t n, void *user) { mmx_reasoning_feed(user, t, n); }

static void end_answer(mmx_reasoning_splitter *rs, chat_view *v) {
    mmx_reasoning_finish(rs);
    if (v->in_reasoning) fputs(v->tty ? "[/thinking]\x1b[0m" : "[/thinking]", stdout);
    v->in_reasoning = false;
}

/* Tokens of one rendered conversation fragment, markers as special ids, text as plain text. */
static int32_t *render_tokens(gen_session *s, json_t *messages, bool add_gen, bool skip_bod, size_t *n) {
    char *text;
    size_t len, *marks, n_marks;
    mmx_error err;
    int32_t *ids = NULL;
    if (mmx_chat_render_marked(s->chat_kind, messages, NULL, add_gen, &text, &len, &marks, &n_marks, &err) != MMX_OK) {
        fprintf(stderr, "mmx chat: %s\n", err.message);
        return NULL;
    }
    if (mmx_chat_tokenize(s->tok, text, len, marks, n_marks, &ids, n, &err) != MMX_OK)
        fprintf(stderr, "mmx chat: %s\n", err.message);
    free(text);
    free(marks);
    if (ids && skip_bod && *n > 0) {
        /* later turns continue the document: drop its <begin_of_document> */
        memmove(ids, ids + 1, (*n - 1) * sizeof *ids);
        (*n)--;
    }
    return ids;
}

int mmx_cmd_chat(int argc, char **argv) {
    gen_opts o;
    gen_opts_default(&o, 2048);
    const char *system = NULL;
    for (int i = 1; i < argc; i++) {
        int r = gen_parse_opt("chat", &o, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: mmx chat -m MODEL [--system TEXT] [--template m1|text01|vllm] [options]\n"
                   "  Interactive chat.  Commands: /reset (forget the conversation), /system TEXT (new system\n"
                   "  prompt, resets), /quit.  Ctrl-C stops the current answer.  With stdin not a terminal,\n"
                   "  each line is one user turn.  Reasoning (<think>...</think>) is shown as [thinking].\n");
            gen_print_opts_help(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--system")) {
            if (!(system = cli_value("chat", argc, argv, &i))) return 2;
        } else {
            fprintf(stderr, "mmx chat: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    gen_session s;
    if (!gen_session_open("chat", &s, &o)) return 1;
    signal(SIGINT, on_sigint);
    const bool interactive = isatty(0);
    chat_view view = {isatty(1), false};
    mmx_reasoning_splitter rs;
    mmx_reasoning_init(&rs, show, &view);
    char *sys_text = system ? strdup(system) : NULL;
    bool first_turn = true, closed = true;
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    if (interactive)
        fprintf(stderr, "mmx chat (%s template). /reset, /system TEXT, /quit; Ctrl-C stops an answer.\n",
                mmx_chat_kind_name(s.chat_kind));
    for (;;) {
        if (interactive) {
            fputs("\n> ", stdout);
            fflush(stdout);
        }
        cancelled = 0;
        ssize_t n = getline(&line, &cap, stdin);
        if (n < 0) break;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n == 0) continue;
        if (!strcmp(line, "/quit") || !strcmp(line, "/exit")) break;
        if (!strcmp(line, "/reset") || !strncmp(line, "/system", 7)) {
            if (!strncmp(line, "/system", 7)) {
                free(sys_text);
                const char *t = line + 7;
                while (*t == ' ') t++;
                sys_text = *t ? strdup(t) : NULL;
            }
            mmx_seq_reset(s.seq);
            mmx_sampler_reset(s.sampler, o.sampling.seed);
            first_turn = true;
            closed = true;
            if (interactive) fprintf(stderr, "(conversation reset)\n");
            continue;
        }
        /* the new fragment: close the previous answer, then the user turn and the generation prompt */
        json_t *msgs = json_array();
        if (first_turn && sys_text) json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", "system", "content", sys_text));
        json_array_append_new(msgs, json_pack("{s:s,s:s%}", "role", "user", "content", line, (size_t)n));
        size_t nt;
        int32_t *turn = render_tokens(&s, msgs, true, !first_turn, &nt);
        json_decref(msgs);
        if (!turn) {
            rc = 1;
            break;
        }
        int32_t *prompt = turn;
        size_t np = nt;
        if (!first_turn && !closed) {
            /* previous answer ended without its end marker being fed: "<end_of_sentence>\n" */
            int32_t nl;
            size_t nn;
            mmx_error err;
            prompt = malloc((nt + 2) * sizeof *prompt);
            prompt[0] = mmx_tokenizer_find(s.tok, "<end_of_sentence>");
            mmx_tokenizer_encode(s.tok, "\n", 1, false, &nl, 1, &nn, &err);
            prompt[1] = nl;
            memcpy(prompt + 2, turn, nt * sizeof *turn);
            np = nt + 2;
        }
        gen_stats st;
        gen_generate("chat", &s, &o, prompt, np, emit_chat, &rs, &cancelled, &st);
        end_answer(&rs, &view);
        fputc('\n', stdout);
        fflush(stdout);
        if (interactive || getenv("MMX_CHAT_STATS")) gen_print_stats(&st);
        if (prompt != turn) free(prompt);
        free(turn);
        first_turn = false;
        closed = false; /* the answer's end marker is fed with the next turn */
        if (st.stop == GEN_STOP_ERROR || st.stop == GEN_STOP_CONTEXT) {
            rc = 1;
            break;
        }
    }
    free(line);
    free(sys_text);
    gen_session_close(&s);
    return rc;
}
