/*
 * One allocation cache per logical unit (issue 4: "keyed by the LUN's
 * identity").  Objects are created per (backend portal, backend target, LUN
 * number), which is all the proxy knows before asking; two targets of the
 * configuration can reach one logical unit through different portals
 * (127.0.0.1 and localhost, or the portals of a multipath SAN).  The probe's
 * first step reads the Device Identification VPD page (SPC-5 7.7.6), and an
 * object whose designator and backend target name are those of an earlier
 * one becomes its alias: lun_get() returns the earlier object for it, so
 * every command through either target uses one map and one mutation log.
 *
 * The backend target name is part of the key because designators are not
 * all unique: tgt derives its T10 vendor ID and both NAA designators from
 * the target id and LUN number, so two tgtd instances can report the same
 * ones for different logical units, and a false merge would serve one
 * LUN's holes as the other's data.  Objects with the same designator but
 * different target names are not merged; they "may be the same" below.
 *
 * Until both are identified, two objects may be one logical unit that the
 * proxy sees twice.  So a mutation sent on an object forgets the negatives
 * of every other zero-serving object that may be the same -- either one
 * unidentified, or both with the same designator -- when it is sent and
 * again when it completes (a GET LBA STATUS answered in between may
 * describe the LUN before the write landed, and the other object's
 * mutation log does not know the write).  A LUN with no usable designator
 * stays unidentified: correct, only slower when other LUNs are written.
 */
#include "lun.h"

#include <string.h>

#include "log.h"
#include "server.h"

/* Negatives only, quietly: this runs for writes, not for rare events. */
static void forget_negatives(struct lun *x, const char *why)
{
    mutlog_invalidate(&x->log);
    x->n.invalidations++;
    allocmap_forget_unallocated(x->map, 0, x->n_blocks);
    log_debug("target %s LUN %u: negatives forgotten (%s)", x->target->name, x->number, why);
}

static bool same_key(const struct lun *a, const struct lun *b)
{
    return a->identified && b->identified && scsi_devid_equal(&a->identity, &b->identity) &&
           !strcmp(a->target->backend_target, b->target->backend_target);
}

/* Point every object that uses `from` (from and its aliases) at `to`. */
static void repoint(struct proxy *p, struct lun *from, struct lun *to)
{
    struct lun *x;

    TAILQ_FOREACH(x, &p->luns, link) {
        if (x == from || x->same_as == from) {
            x->same_as = to;
            x->state = LUN_PASSTHROUGH;
            x->why = "the same LUN as another target's: shares its cache (same_as)";
        }
    }
}

bool lun_identify(struct lun *l, const uint8_t *buf, size_t len)
{
    struct lun *a;
    int rc = buf ? scsi_devid_parse(buf, len, &l->identity) : -1;

    l->identified = rc == 1;
    if (!l->identified) {
        if (!l->identity_none_logged)
            log_info("target %s LUN %u: %s: its cache is not shared, and writes through "
                     "other targets make it forget its holes", l->target->name, l->number,
                     rc == 0 ? "no usable VPD 83h designator" : "no Device Identification "
                     "VPD page");
        l->identity_none_logged = true;
        return false;
    }
    TAILQ_FOREACH(a, &l->proxy->luns, link) {
        if (a != l && !a->same_as && same_key(a, l))
            break;
    }
    if (!a)
        return false;
    if (a->target->coherence == CONF_COHERENCE_OFF && l->target->coherence != CONF_COHERENCE_OFF) {
        /* An `off` object holds no cache: l (still probing) becomes the one.
         * Mutations in flight on a keep l honest (lun_mutation_completed). */
        repoint(l->proxy, a, l);
        log_info("target %s LUN %u is the same LUN as target %s LUN %u (VPD 83h): one cache",
                 a->target->name, a->number, l->target->name, l->number);
        return false;
    }
    repoint(l->proxy, l, a);
    log_info("target %s LUN %u is the same LUN as target %s LUN %u (VPD 83h): one cache",
             l->target->name, l->number, a->target->name, a->number);
    if (l->coherence == CONF_COHERENCE_VERIFY && a->coherence == CONF_COHERENCE_EXCLUSIVE) {
        /* Someone may write around the proxy: nobody may trust UNALLOCATED. */
        a->coherence = CONF_COHERENCE_VERIFY;
        log_info("target %s LUN %u: coherence verify (target %s says so)", a->target->name,
                 a->number, l->target->name);
    }
    /* Nothing l did before now may leave a stale: its mutations were sent on
     * an unidentified object, so they repeat this when they complete. */
    if (a->map)
        lun_invalidate(a, "the same LUN reached through another target", false);
    return true;
}

void lun_identity_reset(struct lun *l)
{
    struct lun *x;

    l->identified = false;
    memset(&l->identity, 0, sizeof(l->identity));
    TAILQ_FOREACH(x, &l->proxy->luns, link) {
        if (x->same_as != l)
            continue;
        x->same_as = NULL;
        x->identified = false;
        memset(&x->identity, 0, sizeof(x->identity));
        x->state = LUN_UNPROBED;
        x->why = "facts changed, probing again";
    }
}

static void cross_invalidate(struct lun *l, bool everyone, const char *why)
{
    struct lun *x;

    TAILQ_FOREACH(x, &l->proxy->luns, link) {
        if (x == l || x->same_as || !x->map)
            continue;
        if (everyone || !l->identified || !x->identified ||
            scsi_devid_equal(&l->identity, &x->identity))
            forget_negatives(x, why);
    }
}

bool lun_mutation_sent(struct lun *l)
{
    cross_invalidate(l, false, l->identified ? "a write to a LUN that may be this one"
                                             : "a write to a LUN of unknown identity");
    return !l->identified;
}

void lun_mutation_completed(struct lun *l, bool was_unidentified)
{
    cross_invalidate(l, was_unidentified, was_unidentified
                     ? "a write to a LUN of unknown identity completed"
                     : "a write to a LUN that may be this one completed");
}
