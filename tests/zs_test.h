/*  zs_test.h - the one check macro every unit test uses: records a failure
    with its place and a message, and goes on (a test reports every failed
    check, then exits non-zero through ZS_TEST_END). */
#ifndef ZS_TEST_H
#define ZS_TEST_H

#include <stdio.h>

static int zs_test_failures = 0;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            zs_test_failures++;                                            \
            fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__);          \
            fprintf (stderr, __VA_ARGS__);                                 \
            fputc ('\n', stderr);                                          \
        }                                                                  \
    } while (0)

/* Returns the test's exit code, printing how many checks failed. */
#define ZS_TEST_END(name)                                                  \
    (zs_test_failures                                                      \
         ? (fprintf (stderr, "%d checks failed\n", zs_test_failures), 1)   \
         : (printf ("%s: all checks passed\n", name), 0))

#endif
