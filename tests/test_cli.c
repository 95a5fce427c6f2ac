/*
 * End-to-end CLI tests on a small random model carrying the real MiniMax tokenizer (made at test
 * time by tools/make_random_model.py): mmx run / chat / template / tokenize / detokenize.
 */
#include "test.h"

#include <stdlib.h>
#include <string.h>

static const char *demo_model(void) {
    static char dir[600];
    static int state; /* 0 not made, 1 ok, -1 failed */
    if (state == 0) {
        snprintf(dir, sizeof dir, "%s/cli-demo", mmx_test_tmpdir());
        char cmd[1200], out[2048];
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 tools/make_random_model.py %s --layers 3 --attn-types 0,0,1 --hidden 32 --heads 2 "
                 "--kv-heads 1 --head-dim 16 --experts 2 --ffn 32 --vocab 200064 --dtype BF16 "
                 "--tokenizer data/tokenizer/minimax-01/tokenizer.json --seed 5",
                 dir);
        state = mmx_test_run(cmd, out, sizeof out) == 0 ? 1 : -1;
        if (state < 0) printf("    %s\n", out);
    }
    return state > 0 ? dir : NULL;
}

/* true when s[0..n) is valid UTF-8 */
static bool valid_utf8(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!len || i + len > n) return false;
        for (size_t k = 1; k < len; k++)
            if (((unsigned char)s[i + k] & 0xc0) != 0x80) return false;
        i += len;
    }
    return true;
}

static int run_stdout(const char *args, char *out, size_t cap) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s 2>/dev/null", mmx_test_bin(), args);
    return mmx_test_run(cmd, out, cap);
}

TEST(cli_run_streams_valid_utf8_and_is_deterministic) {
    const char *m = demo_model();
    REQUIRE(m);
    char args[1024], a[16384], b[16384], c[16384];
    snprintf(args, sizeof args, "run -m %s -p 'Bonjour, 世界' -n 60 --temp 1.5 --top-k 0 --top-p 1 --min-p 0 --seed 7", m);
    CHECK(run_stdout(args, a, sizeof a) == 0);
    CHECK(run_stdout(args, b, sizeof b) == 0);
    snprintf(args, sizeof args, "run -m %s -p 'Bonjour, 世界' -n 60 --temp 1.5 --top-k 0 --top-p 1 --min-p 0 --seed 8", m);
    CHECK(run_stdout(args, c, sizeof c) == 0);
    CHECK(!strncmp(a, "Bonjour, 世界", strlen("Bonjour, 世界")));
    CHECK(valid_utf8(a, strlen(a)) && valid_utf8(c, strlen(c)));
    CHECK(!strcmp(a, b));
    CHECK(strcmp(a, c) != 0);
}

TEST(cli_run_stop_string_ends_output) {
    const char *m = demo_model();
    REQUIRE(m);
    char args[1024], full[16384], cut[16384];
    snprintf(args, sizeof args, "run -m %s -p 'Hello' -n 40 --temp 0", m);
    REQUIRE(run_stdout(args, full, sizeof full) == 0);
    /* a stop string taken from the middle of the greedy continuation (after the prompt) */
    size_t plen = strlen("Hello"), n = strlen(full);
    REQUIRE(n > plen + 12);
    size_t at = plen + (n - plen) / 2;
    while (at < n && ((unsigned char)full[at] & 0xc0) == 0x80) at++;
    char stop[8];
    size_t sl = 0;
    while (sl < 3 && at + sl < n) sl++;
    while (at + sl < n && ((unsigned char)full[at + sl] & 0xc0) == 0x80) sl++; /* whole characters */
    if (sl >= sizeof stop) sl = sizeof stop - 1;
    memcpy(stop, full + at, sl);
    stop[sl] = 0;
    const char *first = strstr(full + plen, stop);
    REQUIRE(first);
    char quoted[64];
    snprintf(quoted, sizeof quoted, "'%s'", stop);
    REQUIRE(!strchr(stop, '\''));
    snprintf(args, sizeof args, "run -m %s -p 'Hello' -n 40 --temp 0 --stop %s", m, quoted);
    REQUIRE(run_stdout(args, cut, sizeof cut) == 0);
    size_t want = (size_t)(first - full);
    /* output = text before the stop string, then the final newline */
    CHECKF(strlen(cut) == want + 1 && !strncmp(cut, full, want), "stop '%s': got '%s' want '%.*s'", stop, cut, (int)want,
           full);
}

TEST(cli_chat_scripted_turns) {
    const char *m = demo_model();
    REQUIRE(m);
    char cmd[1024], out[16384];
    snprintf(cmd, sizeof cmd, "printf 'Hi\\n\\n/reset\\nWho are you?\\n' | %s chat -m %s -n 8 --seed 1 --system 'Be brief.' 2>&1",
             mmx_test_bin(), m);
    int rc = mmx_test_run(cmd, out, sizeof out);
    CHECKF(rc == 0, "exit %d: %s", rc, out);
    size_t lines = 0;
    for (char *p = out; *p; p++) lines += *p == '\n';
    CHECKF(lines >= 2 && valid_utf8(out, strlen(out)), "output: %s", out);
}

TEST(cli_template_matches_reference_and_ids) {
    const char *m = demo_model();
    REQUIRE(m);
    char path[700], cmd[1400], out[8192];
    snprintf(path, sizeof path, "%s/msgs.json", mmx_test_tmpdir());
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("[{\"role\":\"system\",\"content\":\"You are terse.\"},{\"role\":\"user\",\"content\":\"Hi\"}]", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s template -m %s --messages %s", mmx_test_bin(), m, path);
    REQUIRE(mmx_test_run(cmd, out, sizeof out) == 0);
    /* a two-turn conversation with a system prompt (the M1 template) */
    CHECK(!strcmp(out, "<begin_of_document><beginning_of_sentence>system ai_setting=assistant\nYou are terse."
                       "<end_of_sentence>\n<beginning_of_sentence>user name=user\nHi<end_of_sentence>\n"
                       "<beginning_of_sentence>ai name=assistant\n"));
    snprintf(cmd, sizeof cmd, "%s template -m %s --messages %s --ids", mmx_test_bin(), m, path);
    REQUIRE(mmx_test_run(cmd, out, sizeof out) == 0);
    CHECK(!strncmp(out, "[200034, 200019, ", 17));
}

TEST(cli_tokenize_detokenize_roundtrip) {
    char cmd[1024], out[4096];
    const char *tj = "data/tokenizer/minimax-01/tokenizer.json";
    snprintf(cmd, sizeof cmd, "printf 'Hello world<end_of_sentence>' | %s tokenize --tokenizer %s", mmx_test_bin(), tj);
    REQUIRE(mmx_test_run(cmd, out, sizeof out) == 0);
    CHECK(!strcmp(out, "[19739, 2035, 200020]\n"));
    snprintf(cmd, sizeof cmd, "printf 'Hello world<end_of_sentence>' | %s tokenize --no-special --tokenizer %s", mmx_test_bin(), tj);
    REQUIRE(mmx_test_run(cmd, out, sizeof out) == 0);
    CHECK(strstr(out, "200020") == NULL);
    snprintf(cmd, sizeof cmd,
             "printf '{\"text\":\"caf\\\\u00e9 \\\\ud83d\\\\ude00\"}\\n{\"text\":\"\"}\\n' | %s tokenize --jsonl --tokenizer %s | "
             "%s detokenize --jsonl --tokenizer %s",
             mmx_test_bin(), tj, mmx_test_bin(), tj);
    REQUIRE(mmx_test_run(cmd, out, sizeof out) == 0);
    CHECKF(!strcmp(out, "{\"text\":\"café 😀\"}\n{\"text\":\"\"}\n"), "%s", out);
    snprintf(cmd, sizeof cmd, "echo '[1, -3]' | %s detokenize --tokenizer %s", mmx_test_bin(), tj);
    CHECK(mmx_test_run(cmd, out, sizeof out) == 1);
}
