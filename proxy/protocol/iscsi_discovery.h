/*
 * Text Request handling in Full Feature Phase (RFC 7143 11.10/11.11 and
 * Appendix C, SendTargets).  Pure: answers are built from the configured
 * target names and the proxy's own portals, never the backend's.
 */
#ifndef ISP_ISCSI_DISCOVERY_H
#define ISP_ISCSI_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct iscsi_portal {
    const char *address;    /* "127.0.0.1:3260" or "[::1]:3260", as sent in TargetAddress */
    uint16_t    tpgt;       /* target portal group tag */
};

struct iscsi_discovery_ctx {
    const char *const *targets;     /* names of the targets the proxy serves */
    size_t n_targets;
    const struct iscsi_portal *portals;
    size_t n_portals;
    bool discovery_session;         /* SendTargets=All only allowed here */
    const char *session_target;     /* normal session: its TargetName */
};

/*
 * Answer the keys of one complete Text Request data segment (after the
 * connection joined any C-bit continuations).  Writes the response text
 * (key=value\0 ...) into out (capacity out_cap) and its length into *out_len.
 * SendTargets is answered from ctx; other keys get NotUnderstood / Irrelevant
 * per RFC 7143 6.2.  Returns 0, or -1 if the request text is malformed (the
 * caller Rejects the PDU) or the answer does not fit out_cap.
 */
int iscsi_text_answer(const struct iscsi_discovery_ctx *ctx, const uint8_t *req, size_t req_len,
                      uint8_t *out, size_t out_cap, size_t *out_len);

#endif
