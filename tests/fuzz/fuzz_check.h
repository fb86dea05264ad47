/* Invariant checks for the fuzz targets: a failed one aborts, which
 * libFuzzer reports as a crash with the input that caused it. */
#ifndef ISP_FUZZ_CHECK_H
#define ISP_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "invariant failed: %s (line %d)\n", #cond, __LINE__); \
            abort(); \
        } \
    } while (0)

#endif
