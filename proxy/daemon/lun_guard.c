/*
 * Negatives blocked everywhere (docs/ARCHITECTURE.md, "Mutations the proxy
 * cannot bound"): while a mutation whose outcome is unknown (backend
 * timeout, a session torn down with it at the SAN) may still execute, or a
 * copy offload may still write any LU of the SAN, no GET LBA STATUS answer
 * may teach any object a negative, and when the block is lifted every
 * object forgets its negatives once more, so that no answer to a query
 * sent before then is trusted afterwards.
 */
#include <stdlib.h>

#include "log.h"
#include "lun.h"
#include "server.h"

void lun_forget_negatives(struct lun *l)
{
    /* The log too when there is no map yet (probing, or probing again): an
     * initiator's GET LBA STATUS sent through the object meanwhile is
     * applied once the probe made the map, and its answer must not teach
     * negatives from before this (found by tests/fuzz/fuzz_lu_model.c). */
    mutlog_invalidate(&l->log);
    if (!l->map)
        return;
    l->n.invalidations++;
    allocmap_forget_unallocated(l->map, 0, l->n_blocks);
}

void lun_forget_all_negatives(struct proxy *p, const char *why)
{
    struct lun *l;

    TAILQ_FOREACH(l, &p->luns, link)
        lun_forget_negatives(l);
    log_debug("every allocation cache forgot its negatives (%s)", why);
}

void lun_block_negatives(struct proxy *p, const char *why)
{
    p->negatives_blocked++;
    lun_forget_all_negatives(p, why);
}

static void unblock_cb(evutil_socket_t fd, short what, void *arg)
{
    struct proxy *p = arg;

    (void)fd;
    (void)what;
    p->negatives_blocked--;
    lun_forget_all_negatives(p, "a mutation of unknown outcome or a copy is over");
}

void lun_unblock_negatives(struct proxy *p, unsigned after_seconds)
{
    struct timeval tv = { (time_t)after_seconds, 0 };

    if (!after_seconds || event_base_once(p->base, -1, EV_TIMEOUT, unblock_cb, p, &tv) < 0)
        unblock_cb(-1, 0, p);
}
