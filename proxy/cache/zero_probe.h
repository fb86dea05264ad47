/*
 * Unit attentions for a session that only ever gets zeros.  A logical unit
 * reports a pending unit attention to the next command of that I_T nexus
 * (SAM-5 unit attention condition); a session whose READs of a LUN are all
 * answered from the cache sends that LUN nothing, so it would never learn
 * that the SAN resized the LUN, or reset it, or that its reservation was
 * preempted.  Rule: when this session has sent no command to the LUN for
 * more than ZERO_PROBE_AFTER_US, the next READ that would be answered wholly
 * from zeros goes to the backend whole instead.  So at most one second of
 * zero-only service passes before a pending unit attention reaches the
 * initiator (or a RESERVATION CONFLICT teaches the proxy a reservation).
 *
 * Pure: the caller records its backend sends and passes the time in.
 */
#ifndef ISP_ZERO_PROBE_H
#define ISP_ZERO_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "read_plan.h"

#define ZERO_PROBE_AFTER_US 1000000u
#define ZERO_PROBE_LUNS     8       /* LUNs remembered per session; the least
                                       recently sent to is forgotten first */

struct zero_probe {
    struct {
        uint32_t lun;
        uint64_t sent_us;
    } e[ZERO_PROBE_LUNS];
    unsigned n;
};

/* A command of this session went to `lun` of the backend at now_us. */
void zero_probe_note_send(struct zero_probe *z, uint32_t lun, uint64_t now_us);

/* The session has sent `lun` nothing for more than ZERO_PROBE_AFTER_US (or
 * nothing it still remembers): the next command the proxy would answer
 * itself (a GET LBA STATUS from the map) goes to the backend instead. */
bool zero_probe_due(const struct zero_probe *z, uint32_t lun, uint64_t now_us);

/* The READ planned as segs[0..n) would be answered wholly from zeros, and
 * the session has sent `lun` nothing for more than ZERO_PROBE_AFTER_US (or
 * nothing it still remembers): forward it to the backend whole. */
bool zero_probe_forward(const struct zero_probe *z, uint32_t lun, uint64_t now_us,
                        const struct read_seg *segs, size_t n);

#endif
