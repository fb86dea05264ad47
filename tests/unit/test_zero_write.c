/*
 * Zeros learned from writes (zero_write.c): which commands leave zeros,
 * on which LUNs, under the race rule (the command's own log entry does not
 * block it; every other mutation in flight or completed meanwhile does).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cache_mutation.h"
#include "scsi_bytes.h"
#include "zero_write.h"

#define BS 512u
#define PAGE 8u                     /* blocks */
#define LUN (16 * PAGE)

static struct {
    struct allocmap *map;
    struct mutlog log;
    uint8_t cdb[16];
    struct scsi_cdb_info ci;
    struct mutation m;
    uint8_t data[LUN * BS];
    struct zero_write_in in;
} F;

static int setup(void **state)
{
    (void)state;
    memset(&F, 0, sizeof(F));
    F.map = allocmap_new(LUN, PAGE);
    return F.map && mutlog_init(&F.log, 16) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    allocmap_free(F.map);
    mutlog_destroy(&F.log);
    return 0;
}

/* WRITE (16) or WRITE SAME (16) of [lba, lba + n), sent: decoded, marked
 * and logged as the daemon does (cache_mutation_begin). */
static void send16(uint8_t op, uint8_t flags, uint64_t lba, uint32_t n)
{
    memset(F.cdb, 0, sizeof(F.cdb));
    F.cdb[0] = op;
    F.cdb[1] = flags;
    scsi_put_be64(F.cdb + 2, lba);
    scsi_put_be32(F.cdb + 10, n);
    assert_int_equal(scsi_cdb_decode(F.cdb, sizeof(F.cdb), &F.ci), 0);
    assert_int_equal(cache_mutation_begin(F.map, &F.log, LUN, &F.ci, NULL, 0, &F.m),
                     CACHE_MUT_RANGE);
    F.in = (struct zero_write_in){
        .map = F.map, .log = &F.log, .zeros_from = LU_ZEROS_FROM_DATA, .exclusive = true,
        .lun_blocks = LUN, .block_size = BS, .ci = &F.ci, .cdb = F.cdb, .self = &F.m,
        .same_facts = true, .sent_bound = true, .data = F.data,
        .len = op == 0x93 ? BS : (size_t)n * BS,
    };
}

/* Completed GOOD: learn, then the mutation leaves the log. */
static uint64_t complete(void)
{
    uint64_t n = zero_write_apply(&F.in);
    mutlog_end(&F.log, &F.m);
    return n;
}

static void test_write_of_zeros(void **state)
{
    (void)state;
    send16(0x8a, 0, 4, 3 * PAGE);               /* pages 0-3, covers 1 and 2 */
    assert_int_equal(allocmap_get(F.map, 1), PAGE_ALLOCATED);
    assert_int_equal(complete(), 3 * PAGE);
    assert_int_equal(allocmap_get(F.map, 0), PAGE_ALLOCATED);   /* in part */
    assert_int_equal(allocmap_get(F.map, 1), PAGE_UNALLOCATED);
    assert_int_equal(allocmap_get(F.map, 2), PAGE_UNALLOCATED);
    assert_int_equal(allocmap_get(F.map, 3), PAGE_ALLOCATED);

    F.data[5 * BS + 100] = 1;                   /* one byte of data */
    send16(0x8a, 0, 0, 2 * PAGE);
    assert_int_equal(complete(), 0);
    assert_int_equal(allocmap_get(F.map, 1), PAGE_ALLOCATED);
    memset(F.data, 0, sizeof(F.data));

    send16(0x8a, 0, 0, 2 * PAGE);
    F.in.len -= BS;                             /* not the whole Data-Out */
    assert_int_equal(complete(), 0);
    send16(0x8a, 0x20, 0, 2 * PAGE);            /* WRPROTECT 1: protection info */
    assert_int_equal(complete(), 0);
    assert_int_equal(allocmap_get(F.map, 0), PAGE_ALLOCATED);
}

/* Only LUNs whose zeros come from data, in exclusive mode, with the facts
 * and LUN number of when it was sent, and never while negatives are
 * blocked. */
static void test_which_luns(void **state)
{
    (void)state;
    for (int k = 0; k < 5; k++) {
        send16(0x8a, 0, 0, PAGE);
        switch (k) {
        case 0: F.in.zeros_from = LU_ZEROS_FROM_STATUS; break;
        case 1: F.in.exclusive = false; break;
        case 2: F.in.negatives_blocked = true; break;
        case 3: F.in.same_facts = false; break;
        case 4: F.in.sent_bound = false; break;
        }
        assert_int_equal(complete(), 0);
        assert_int_equal(allocmap_get(F.map, 0), PAGE_ALLOCATED);
    }
    send16(0x8a, 0, 0, PAGE);
    F.in.map = NULL;
    assert_int_equal(complete(), 0);
}

/* The race rule: another mutation in flight during the write, or completed
 * after it was sent, keeps its blocks out; one completed before it was
 * sent does not; its own entry never does. */
static void test_race_rule(void **state)
{
    struct mutation a, b, c;

    (void)state;
    mutlog_begin(&F.log, &a, 0, 1);             /* completed before: no matter */
    mutlog_end(&F.log, &a);
    mutlog_begin(&F.log, &b, 2 * PAGE, 1);      /* sent before, completes during */
    send16(0x8a, 0, 0, 8 * PAGE);
    mutlog_end(&F.log, &b);
    mutlog_begin(&F.log, &c, 5 * PAGE + 3, 2);  /* still in flight */
    assert_int_equal(complete(), 8 * PAGE - 3);
    for (uint64_t p = 0; p < 8; p++)
        assert_int_equal(allocmap_get(F.map, p),
                         p == 2 || p == 5 ? PAGE_ALLOCATED : PAGE_UNALLOCATED);
    mutlog_end(&F.log, &c);

    send16(0x8a, 0, 0, PAGE);                   /* the LUN forgot: nothing */
    mutlog_invalidate(&F.log);
    assert_int_equal(complete(), 0);
}

/* WRITE SAME: a zero block, or NDOB; with UNMAP or ANCHOR only when
 * deallocated blocks read zeros; never with LBDATA/PBDATA; NUMBER OF
 * LOGICAL BLOCKS 0 is to the end of the LUN. */
static void test_write_same(void **state)
{
    (void)state;
    send16(0x93, 0, PAGE, PAGE);                /* zero block */
    assert_int_equal(complete(), PAGE);
    assert_int_equal(allocmap_get(F.map, 1), PAGE_UNALLOCATED);

    F.data[7] = 0xff;
    send16(0x93, 0, PAGE, PAGE);                /* a non-zero block */
    assert_int_equal(complete(), 0);
    assert_int_equal(allocmap_get(F.map, 1), PAGE_ALLOCATED);
    send16(0x93, 0x01, PAGE, PAGE);             /* NDOB: zeros, whatever the buffer */
    F.in.data = NULL;
    F.in.len = 0;
    assert_int_equal(complete(), PAGE);
    F.data[7] = 0;

    send16(0x93, 0x08, 2 * PAGE, PAGE);         /* UNMAP, LBPRZ=0: unknown data */
    assert_int_equal(complete(), 0);
    send16(0x93, 0x10, 2 * PAGE, PAGE);         /* ANCHOR, the same */
    assert_int_equal(complete(), 0);
    assert_int_equal(allocmap_get(F.map, 2), PAGE_ALLOCATED);
    send16(0x93, 0x08, 2 * PAGE, PAGE);
    F.in.unmapped_reads_zeros = true;           /* LBPRZ=1: zeros */
    assert_int_equal(complete(), PAGE);
    assert_int_equal(allocmap_get(F.map, 2), PAGE_UNALLOCATED);

    send16(0x93, 0x02, 3 * PAGE, PAGE);         /* LBDATA (obsolete) */
    assert_int_equal(complete(), 0);
    send16(0x93, 0, 3 * PAGE, PAGE);
    F.in.len = BS + 8;                          /* not one block */
    assert_int_equal(complete(), 0);

    send16(0x93, 0, 10 * PAGE, 0);              /* 0 blocks: to the end */
    assert_int_equal(complete(), 6 * PAGE);
    assert_int_equal(allocmap_get(F.map, 15), PAGE_UNALLOCATED);

    /* WRITE SAME (10) decodes the same way. */
    memset(F.cdb, 0, sizeof(F.cdb));
    F.cdb[0] = 0x41;
    scsi_put_be32(F.cdb + 2, 4 * PAGE);
    scsi_put_be16(F.cdb + 7, PAGE);
    assert_int_equal(scsi_cdb_decode(F.cdb, sizeof(F.cdb), &F.ci), 0);
    cache_mutation_begin(F.map, &F.log, LUN, &F.ci, NULL, 0, &F.m);
    assert_int_equal(allocmap_get(F.map, 4), PAGE_ALLOCATED);
    F.in.ci = &F.ci;
    assert_int_equal(complete(), PAGE);
    assert_int_equal(allocmap_get(F.map, 4), PAGE_UNALLOCATED);
}

/* Other mutations never teach zeros, whatever their data. */
static void test_other_commands(void **state)
{
    (void)state;
    send16(0x8e, 0, 0, PAGE);                   /* WRITE AND VERIFY (16) */
    assert_int_equal(complete(), 0);
    send16(0x8b, 0, 0, PAGE);                   /* ORWRITE (16) */
    assert_int_equal(complete(), 0);
    assert_int_equal(allocmap_get(F.map, 0), PAGE_ALLOCATED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_of_zeros, setup, teardown),
        cmocka_unit_test_setup_teardown(test_which_luns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_race_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_same, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_commands, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
