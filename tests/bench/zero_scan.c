/*
 * make bench part 5: what learning zeros from READ data costs the proxy's
 * CPU.  zero_learn_is_zero scans every granule of a READ answer on LUNs
 * whose zeros come from data; all-zero data is its worst case (nothing
 * stops the scan early).  Timed over one 64 KiB buffer (a page of READ data
 * just received: in the CPU's cache) and over 256 MiB (from memory), next to
 * glibc's memcmp against a zero buffer (the library's vectorised compare,
 * which reads twice the bytes) and memcpy (a read and a write of every
 * byte: about what the kernel does to hand the proxy the data).
 * Prints GB/s, median of 5 timings of at least 0.2 s each.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zero_learn.h"

#define TIMINGS 5
#define MIN_SECONDS 0.2

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum op { OP_SCAN, OP_MEMCMP, OP_MEMCPY };

static const char *const op_names[] = { "zero_learn_is_zero", "memcmp with zeros", "memcpy" };

/* Sinks the compiler cannot see through, so no call is optimised away. */
static volatile size_t sink;
static void *(*volatile fill)(void *, int, size_t) = memset;

static void run_once(enum op op, uint8_t *buf, const uint8_t *zeros, uint8_t *dst, size_t len)
{
    switch (op) {
    case OP_SCAN:
        sink += zero_learn_is_zero(buf, len);
        break;
    case OP_MEMCMP:
        sink += memcmp(buf, zeros, len) == 0;
        break;
    case OP_MEMCPY:
        memcpy(dst, buf, len);
        sink += dst[len - 1];
        break;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* GB/s of op over len bytes: the median of TIMINGS timings. */
static double rate(enum op op, uint8_t *buf, const uint8_t *zeros, uint8_t *dst, size_t len)
{
    double gbps[TIMINGS];

    for (int t = 0; t < TIMINGS; t++) {
        double start = now_s(), elapsed;
        uint64_t bytes = 0;

        do {
            run_once(op, buf, zeros, dst, len);
            bytes += len;
            elapsed = now_s() - start;
        } while (elapsed < MIN_SECONDS);
        gbps[t] = (double)bytes / elapsed / 1e9;
    }
    qsort(gbps, TIMINGS, sizeof(gbps[0]), cmp_double);
    return gbps[TIMINGS / 2];
}

int main(void)
{
    static const size_t sizes[] = { 64u << 10, 256u << 20 };
    static const char *const where[] = { "64 KiB (in cache)", "256 MiB (memory)" };
    size_t max = sizes[1];
    uint8_t *buf = malloc(max), *zeros = malloc(max), *dst = malloc(max);

    if (!buf || !zeros || !dst) {
        fprintf(stderr, "zero_scan: out of memory\n");
        return 1;
    }
    /* Written through a pointer the compiler cannot see through: it would
     * turn malloc + memset(0) into calloc, whose untouched pages all map the
     * kernel's one zero page, which stays in the CPU's cache. */
    fill(buf, 0, max);
    fill(zeros, 0, max);
    fill(dst, 1, max);
    printf("zero detection: all-zero data (the whole buffer scanned), GB/s, median of %d\n",
           TIMINGS);
    printf("%-20s %-20s %8s %10s\n", "buffer", "operation", "GB/s", "x memcpy");
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        double copy = rate(OP_MEMCPY, buf, zeros, dst, sizes[s]);

        for (enum op op = OP_SCAN; op <= OP_MEMCPY; op++) {
            double r = op == OP_MEMCPY ? copy : rate(op, buf, zeros, dst, sizes[s]);

            printf("%-20s %-20s %8.2f %10.2f\n", where[s], op_names[op], r, r / copy);
        }
    }
    free(buf);
    free(zeros);
    free(dst);
    return 0;
}
