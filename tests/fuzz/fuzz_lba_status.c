/*
 * libFuzzer target for scsi_lba_status_parse(): GET LBA STATUS parameter data
 * from a backend is untrusted.  Input: 8 bytes asked LBA, 8 bytes LUN size
 * (big-endian), 1 byte run capacity, then the parameter data.
 *
 * Checked on every input: no run leaves the LUN, runs are non-empty, in
 * order, contiguous, non-overlapping and merged; the first starts at the
 * asked LBA; errors yield no runs; and, re-derived from the raw descriptors
 * independently of the parser, every block of an "unallocated" run lies in a
 * descriptor with PROVISIONING STATUS 1 or 2 (the cache invariant), and every
 * block of an allocated run in one with another status.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "scsi_lba_status.h"

#include "fuzz_check.h"

#define MAX_RUNS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Raw descriptor i of the data, read without the parser. */
static void raw_desc(const uint8_t *pd, size_t i, uint64_t *lba, uint64_t *n, unsigned *st)
{
    const uint8_t *d = pd + 8 + 16 * i;

    *lba = be64(d);
    *n = (uint64_t)d[8] << 24 | (uint64_t)d[9] << 16 | (uint64_t)d[10] << 8 | d[11];
    *st = d[12] & 0x0f;
}

/* Every block of [a, b) lies in some raw descriptor whose status is
 * unallocated (1/2) exactly when want_unalloc. */
static int covered(const uint8_t *pd, size_t ndesc, uint64_t a, uint64_t b, int want_unalloc)
{
    uint64_t p = a;

    while (p < b) {
        int found = 0;

        for (size_t i = 0; i < ndesc; i++) {
            uint64_t lba, n;
            unsigned st;

            raw_desc(pd, i, &lba, &n, &st);
            if (p < lba || p - lba >= n)
                continue;
            if ((st == 1 || st == 2) != want_unalloc)
                continue;
            /* Advance to the descriptor's end (or b), overflow-safe. */
            p = (n - (p - lba) >= b - p) ? b : p + (n - (p - lba));
            found = 1;
            break;
        }
        if (!found)
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scsi_lba_run runs[MAX_RUNS];
    struct scsi_lba_status_result r;
    uint64_t asked, lun, pdl, avail, end;
    const uint8_t *pd;
    size_t cap, len, ndesc;
    int rc;

    if (size < 17)
        return 0;
    asked = be64(data);
    lun = be64(data + 8);
    cap = (size_t)(data[16] % MAX_RUNS) + 1;
    pd = data + 17;
    len = size - 17;

    rc = scsi_lba_status_parse(pd, len, asked, lun, runs, cap, &r);
    if (rc != 0) {
        CHECK(rc == -1);
        CHECK(r.err != SCSI_LBAS_OK);
        CHECK(r.nruns == 0);
        CHECK(r.end_lba == asked);
        return 0;
    }
    CHECK(r.err == SCSI_LBAS_OK);
    CHECK(r.nruns >= 1 && r.nruns <= cap);
    CHECK(asked < lun);
    CHECK(runs[0].lba == asked);
    CHECK(r.nused >= r.nruns && r.nused <= r.ndesc);

    /* Raw descriptor count, computed here from the header. */
    CHECK(len >= 8);
    pdl = (uint64_t)pd[0] << 24 | (uint64_t)pd[1] << 16 | (uint64_t)pd[2] << 8 | pd[3];
    avail = pdl + 4 < len ? pdl + 4 : len;
    ndesc = (size_t)((avail - 8) / 16);
    CHECK(ndesc == r.ndesc);

    end = asked;
    for (size_t i = 0; i < r.nruns; i++) {
        const struct scsi_lba_run *x = &runs[i];

        CHECK(x->blocks > 0);
        CHECK(x->lba < lun);
        CHECK(x->blocks <= lun - x->lba);              /* inside the LUN */
        CHECK(x->lba == end);                          /* ordered, no overlap, no gap */
        if (i > 0)
            CHECK(x->unallocated != runs[i - 1].unallocated);   /* merged */
        CHECK(covered(pd, ndesc, x->lba, x->lba + x->blocks, x->unallocated));
        end = x->lba + x->blocks;
    }
    CHECK(r.end_lba == end);
    CHECK(!r.capped || end == lun || r.runs_full);
    return 0;
}
