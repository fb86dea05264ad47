/*
 * Object keys and the rules between objects (lu_key.h; docs/ARCHITECTURE.md,
 * "Identity per I_T nexus").
 */
#include "lu_key.h"

#include <stdio.h>
#include <string.h>

int lu_key_set(struct lu_key *k, const char *backend_addr, const char *backend_target,
               const struct scsi_devid *id)
{
    int a = snprintf(k->backend_addr, sizeof(k->backend_addr), "%s", backend_addr);
    int t = snprintf(k->backend_target, sizeof(k->backend_target), "%s", backend_target);

    if (a < 0 || (size_t)a >= sizeof(k->backend_addr) || t < 0 ||
        (size_t)t >= sizeof(k->backend_target))
        return -1;
    k->id = *id;
    return 0;
}

bool lu_key_equal(const struct lu_key *a, const struct lu_key *b)
{
    return scsi_devid_equal(&a->id, &b->id) && !strcmp(a->backend_addr, b->backend_addr) &&
           !strcmp(a->backend_target, b->backend_target);
}

bool lu_key_mutation_reaches(const struct lu_key *via, const struct lu_key *other,
                             bool everyone)
{
    if (everyone || !via)
        return true;
    /* The object the mutation went through has logged it itself; another
     * key with the same designator may be the same LU reached by another
     * path (portal, target name) that the proxy cannot prove is the same. */
    return !lu_key_equal(via, other) && scsi_devid_equal(&via->id, &other->id);
}

enum lu_join lu_coherence_join(struct lu_coherence *c, enum conf_coherence target)
{
    if (c->mode == CONF_COHERENCE_OFF && target != CONF_COHERENCE_OFF) {
        c->mode = target;
        return LU_JOIN_ADOPT;
    }
    if (target == CONF_COHERENCE_VERIFY && c->mode == CONF_COHERENCE_EXCLUSIVE) {
        c->mode = CONF_COHERENCE_VERIFY;
        c->verify_forced = true;
        return LU_JOIN_FORCE_VERIFY;
    }
    return LU_JOIN_KEEP;
}

bool lu_coherence_reload(struct lu_coherence *c, enum conf_coherence wanted)
{
    /* A verify another target forced stays: that target may still use it. */
    enum conf_coherence next = c->verify_forced && wanted == CONF_COHERENCE_EXCLUSIVE
                               ? CONF_COHERENCE_VERIFY : wanted;
    bool changed = next != c->mode;

    c->mode = next;
    return changed;
}
