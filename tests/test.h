/*
 * test.h — the project's tiny test framework.  Each tests/test_*.c file defines tests with
 *     TEST(name) { CHECK(x == 1); CHECKF(d < tol, "d=%g", d); }
 * Tests register themselves at start-up (constructor), run in file order, and the runner prints
 * "ok"/"FAIL" per test and a final "N passed, N failed" line; the exit code is non-zero on any failure.
 * `build/mmx-test PATTERN...` runs only tests whose name contains one of the patterns.
 */
#ifndef MMX_TEST_H
#define MMX_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef void (*mmx_test_fn)(void);
void mmx_test_register(const char *name, mmx_test_fn fn);
void mmx_test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Path to the mmx binary under test (env MMX_BIN, default build/mmx). */
const char *mmx_test_bin(void);
/* Runs a shell command, captures stdout+stderr (truncated to cap-1 bytes) and returns its exit status
 * (the process exit code, 128+signal when killed, -1 if it could not run). */
int mmx_test_run(const char *cmd, char *out, size_t cap);
/* A fresh empty directory under $TMPDIR for this test run (removed at exit). */
const char *mmx_test_tmpdir(void);

#define TEST(name)                                                                                  \
    static void test_##name(void);                                                                  \
    __attribute__((constructor)) static void test_register_##name(void) {                          \
        mmx_test_register(#name, test_##name);                                                      \
    }                                                                                               \
    static void test_##name(void)

#define CHECK(cond)                                                                                 \
    do {                                                                                            \
        if (!(cond)) mmx_test_fail(__FILE__, __LINE__, "%s", #cond);                                \
    } while (0)
#define CHECKF(cond, ...)                                                                           \
    do {                                                                                            \
        if (!(cond)) mmx_test_fail(__FILE__, __LINE__, __VA_ARGS__);                                \
    } while (0)
/* Stops the current test (after a failed CHECK that makes the rest meaningless). */
#define REQUIRE(cond)                                                                               \
    do {                                                                                            \
        if (!(cond)) {                                                                              \
            mmx_test_fail(__FILE__, __LINE__, "%s", #cond);                                         \
            return;                                                                                 \
        }                                                                                           \
    } while (0)

#endif
