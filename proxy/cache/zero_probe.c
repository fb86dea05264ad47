/*
 * The one-second rule for sessions served only zeros (zero_probe.h).
 */
#include "zero_probe.h"

void zero_probe_note_send(struct zero_probe *z, uint32_t lun, uint64_t now_us)
{
    unsigned slot = 0;

    for (unsigned i = 0; i < z->n; i++) {
        if (z->e[i].lun == lun) {
            z->e[i].sent_us = now_us;
            return;
        }
        if (z->e[i].sent_us < z->e[slot].sent_us)
            slot = i;
    }
    if (z->n < ZERO_PROBE_LUNS)
        slot = z->n++;
    z->e[slot].lun = lun;
    z->e[slot].sent_us = now_us;
}

bool zero_probe_due(const struct zero_probe *z, uint32_t lun, uint64_t now_us)
{
    for (unsigned i = 0; i < z->n; i++) {
        if (z->e[i].lun == lun)
            return now_us < z->e[i].sent_us || now_us - z->e[i].sent_us > ZERO_PROBE_AFTER_US;
    }
    return true;
}

bool zero_probe_forward(const struct zero_probe *z, uint32_t lun, uint64_t now_us,
                        const struct read_seg *segs, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (segs[i].kind != SEG_ZERO)
            return false;       /* part of it goes to the backend anyway */
    }
    return zero_probe_due(z, lun, now_us);
}
