/*
 * Unit attentions the proxy's own commands consumed (docs/ARCHITECTURE.md,
 * "Unit attentions the proxy consumes"): a condition the SAN reported to
 * the proxy's verification, probe or query on a session's I_T nexus was
 * meant for the initiator, so the session keeps it and reports it on the
 * initiator's next command to that LUN that may report one (SAM-5 5.14).
 * Also which LUNs already gave this nexus its first reset-class notice
 * (the nexus is new, the data is not).  Bounded; pure.
 */
#ifndef ISP_UA_STASH_H
#define ISP_UA_STASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UA_STASH_MAX        4
#define UA_STASH_SEG_MAX    (2 + 252)   /* SenseLength + the longest sense data */
#define UA_NOTICES_MAX      8

struct ua_stashed {
    uint32_t lun;
    uint16_t len;
    uint8_t seg[UA_STASH_SEG_MAX];      /* the Data segment of the SCSI Response */
};

struct ua_stash {
    struct ua_stashed v[UA_STASH_MAX];
    unsigned n;
    uint32_t notice_seen[UA_NOTICES_MAX];
    unsigned n_notice;
};

/* Keep a condition for lun (seg: SenseLength then sense data, 2..254
 * bytes): 0, or -1 when it is malformed or the stash is full (logged by
 * the caller; the initiator then misses it, as it would behind a target
 * that drops conditions past its own limit). */
int ua_stash_put(struct ua_stash *s, uint32_t lun, const uint8_t *seg, size_t len);

/* A command with this operation code to lun arrives: true and the condition
 * in *out (removed) when it must report one instead of running.  INQUIRY,
 * REPORT LUNS and REQUEST SENSE never do (SAM-5 5.14). */
bool ua_stash_take(struct ua_stash *s, uint32_t lun, uint8_t opcode, struct ua_stashed *out);

/* A reset-class unit attention for lun on this nexus: true the first time
 * (every new I_T nexus gets one; not a sign the data changed), false after,
 * and false when too many LUNs were seen to remember (treated as a change:
 * the safe side). */
bool ua_stash_first_nexus_notice(struct ua_stash *s, uint32_t lun);

#endif
