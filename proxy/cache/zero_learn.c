/* Zeros learned from READ data (zero_learn.h). */
#include "zero_learn.h"

#include <string.h>

bool zero_learn_is_zero(const uint8_t *buf, size_t len)
{
    uint64_t acc = 0, w;
    size_t i = 0;

    /* Eight words a round, one branch: the compiler vectorises the ORs. */
    for (; i + 64 <= len; i += 64) {
        for (size_t k = 0; k < 64; k += 8) {
            memcpy(&w, buf + i + k, 8);
            acc |= w;
        }
        if (acc)
            return false;
    }
    for (; i < len; i++)
        acc |= buf[i];
    return acc == 0;
}

void zero_learn_emit(void *arg, uint64_t lba, uint64_t blocks)
{
    struct zero_learn_sink *k = arg;

    k->mark(k->map, lba, blocks);
    k->learned += blocks;
}

uint64_t zero_learn_apply(const struct zero_learn_in *in)
{
    struct zero_learn_sink ctx = { .map = in->map, .mark = allocmap_learn_unallocated };

    if (!in->map || in->negatives_blocked || in->blocks == 0 || in->block_size == 0)
        return 0;
    uint64_t lun = allocmap_lun_blocks(in->map);
    if (in->lba >= lun || lun - in->lba < in->blocks)
        return 0;
    uint64_t g = allocmap_granule_blocks(in->map), end = in->lba + in->blocks;
    /* Whole granules only; the LUN's last granule may be short. */
    uint64_t run = 0, run_lba = 0;
    for (uint64_t gs = (in->lba + g - 1) / g * g; gs < end; gs += g) {
        uint64_t ge = gs + g < lun ? gs + g : lun;
        bool zero = ge <= end &&
                    zero_learn_is_zero(in->data + (gs - in->lba) * in->block_size,
                                       (size_t)(ge - gs) * in->block_size);
        if (zero && run == 0)
            run_lba = gs;
        if (zero) {
            run += ge - gs;
            continue;
        }
        if (run && !mutlog_filter(in->log, in->since, run_lba, run, zero_learn_emit, &ctx))
            return ctx.learned;     /* the ring forgot a newer mutation */
        run = 0;
    }
    if (run)
        mutlog_filter(in->log, in->since, run_lba, run, zero_learn_emit, &ctx);
    return ctx.learned;
}
