/* mmx run: raw completion of a prompt, streamed. */
#include "cli.h"
#include "common.h"
#include "gen.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t cancelled;
static void on_sigint(int sig) {
    (void)sig;
    cancelled = 1;
}

static void emit_stdout(const char *t, size_t n, void *u) {
    (void)u;
    fwrite(t, 1, n, stdout);
    fflush(stdout);
}

int mmx_cmd_run(int argc, char **argv) {
    gen_opts o;
    gen_opts_default(&o, 256);
    const char *prompt = NULL;
    for (int i = 1; i < argc; i++) {
        int r = gen_parse_opt("run", &o, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: mmx run -m MODEL -p PROMPT [options]\n"
                   "  Completes PROMPT (raw text, no chat template) and streams the continuation; speeds on\n"
                   "  stderr at the end.  -p - reads the prompt from stdin.  Special-token text in the prompt\n"
                   "  (e.g. <beginning_of_sentence>) is recognised unless --no-special.\n");
            gen_print_opts_help(stdout);
            return 0;
        } else if (!strcmp(argv[i], "-p") || !strcmp(argv[i], "--prompt")) {
            if (!(prompt = cli_value("run", argc, argv, &i))) return 2;
        } else {
            fprintf(stderr, "mmx run: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!prompt) {
        fprintf(stderr, "mmx run: -p PROMPT is required\n");
        return 2;
    }
    char *stdin_text = NULL;
    size_t plen = strlen(prompt);
    if (!strcmp(prompt, "-")) {
        stdin_text = cli_read_stdin(&plen);
        if (!stdin_text) return 1;
        prompt = stdin_text;
    }
    gen_session s;
    if (!gen_session_open("run", &s, &o)) {
        free(stdin_text);
        return 1;
    }
    int32_t *ids;
    size_t n;
    mmx_error err;
    int rc = 0;
    if (mmx_tokenizer_encode_alloc(s.tok, prompt, plen, !o.no_special, &ids, &n, &err) != MMX_OK) {
        fprintf(stderr, "mmx run: %s\n", err.message);
        rc = 1;
    } else if (n == 0) {
        fprintf(stderr, "mmx run: the prompt is empty\n");
        free(ids);
        rc = 2;
    } else {
        signal(SIGINT, on_sigint);
        fwrite(prompt, 1, plen, stdout);
        fflush(stdout);
        gen_stats st;
        gen_generate("run", &s, &o, ids, n, emit_stdout, NULL, &cancelled, &st);
        printf("\n");
        gen_print_stats(&st);
        if (st.stop == GEN_STOP_ERROR || st.stop == GEN_STOP_CONTEXT) rc = 1;
        free(ids);
    }
    gen_session_close(&s);
    free(stdin_text);
    return rc;
}
