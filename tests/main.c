/* Test runner: see test.h. */
#define _GNU_SOURCE
#include "test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TESTS 1024
static struct {
    const char *name;
    mmx_test_fn fn;
} tests[MAX_TESTS];
static int n_tests;
static int current_failures;

void mmx_test_register(const char *name, mmx_test_fn fn) {
    if (n_tests >= MAX_TESTS) {
        fprintf(stderr, "too many tests\n");
        exit(2);
    }
    tests[n_tests].name = name;
    tests[n_tests].fn = fn;
    n_tests++;
}

void mmx_test_fail(const char *file, int line, const char *fmt, ...) {
    current_failures++;
    fprintf(stdout, "    %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

const char *mmx_test_bin(void) {
    const char *b = getenv("MMX_BIN");
    return b && *b ? b : "build/mmx";
}

int mmx_test_run(const char *cmd, char *out, size_t cap) {
    char full[8192];
    snprintf(full, sizeof full, "( %s ) 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p) return -1;
    size_t len = 0;
    char sink[4096];
    for (;;) {
        size_t n;
        if (out && len + 1 < cap) {
            n = fread(out + len, 1, cap - 1 - len, p);
            len += n;
        } else {
            n = fread(sink, 1, sizeof sink, p);
        }
        if (n == 0) break;
    }
    if (out && cap) out[len] = 0;
    int st = pclose(p);
    if (st == -1) return -1;
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return -1;
}

static char tmpdir[512];
static void rm_tmpdir(void) {
    if (tmpdir[0]) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}
const char *mmx_test_tmpdir(void) {
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/mmx-test-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
        atexit(rm_tmpdir);
    }
    return tmpdir;
}

int main(int argc, char **argv) {
    int passed = 0, failed = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < n_tests; i++) {
        if (argc > 1) {
            bool match = false;
            for (int a = 1; a < argc; a++)
                if (strstr(tests[i].name, argv[a])) match = true;
            if (!match) continue;
        }
        current_failures = 0;
        tests[i].fn();
        if (current_failures) {
            printf("FAIL %s\n", tests[i].name);
            failed++;
        } else {
            printf("ok   %s\n", tests[i].name);
            passed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
