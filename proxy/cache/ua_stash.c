/* Unit attentions kept for the initiator (ua_stash.h). */
#include "ua_stash.h"

#include <string.h>

#define OP_INQUIRY          0x12
#define OP_REPORT_LUNS      0xa0
#define OP_REQUEST_SENSE    0x03

int ua_stash_put(struct ua_stash *s, uint32_t lun, const uint8_t *seg, size_t len)
{
    if (len < 2 || len > UA_STASH_SEG_MAX || s->n == UA_STASH_MAX)
        return -1;
    struct ua_stashed *u = &s->v[s->n++];
    u->lun = lun;
    u->len = (uint16_t)len;
    memcpy(u->seg, seg, len);
    return 0;
}

bool ua_stash_take(struct ua_stash *s, uint32_t lun, uint8_t opcode, struct ua_stashed *out)
{
    if (opcode == OP_INQUIRY || opcode == OP_REPORT_LUNS || opcode == OP_REQUEST_SENSE)
        return false;
    for (unsigned i = 0; i < s->n; i++) {
        if (s->v[i].lun != lun)
            continue;
        *out = s->v[i];
        s->n--;
        memmove(&s->v[i], &s->v[i + 1], (s->n - i) * sizeof(s->v[0]));
        return true;
    }
    return false;
}

bool ua_stash_first_nexus_notice(struct ua_stash *s, uint32_t lun)
{
    for (unsigned i = 0; i < s->n_notice; i++) {
        if (s->notice_seen[i] == lun)
            return false;
    }
    if (s->n_notice == UA_NOTICES_MAX)
        return false;
    s->notice_seen[s->n_notice++] = lun;
    return true;
}
