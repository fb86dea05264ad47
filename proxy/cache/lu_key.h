/*
 * Which logical unit a cache object is, and which objects may be the same
 * one (docs/ARCHITECTURE.md, "Identity per I_T nexus").  A cache object is
 * keyed by the backend address its sessions are connected to, the backend
 * target name and the Device Identification VPD designator (SPC-5 7.7.6).
 * The address and target name are in the key because designators are not
 * unique across SANs (tgt derives them from its target id and LUN number),
 * so a wrong merge would serve one LU's holes as another's data; a missed
 * merge only costs speed, and the rules below keep writes visible across
 * objects that may be one LU.  Also what a target's coherence does to an
 * object another target already uses.  Pure: plain inputs, decisions out.
 */
#ifndef ISP_LU_KEY_H
#define ISP_LU_KEY_H

#include <stdbool.h>

#include "conf.h"
#include "scsi_devid.h"

#define LU_KEY_ADDR_MAX   64     /* "address:port" of the backend session */
#define LU_KEY_TARGET_MAX 224    /* iSCSI names are at most 223 bytes */

struct lu_key {
    char backend_addr[LU_KEY_ADDR_MAX];
    char backend_target[LU_KEY_TARGET_MAX];
    struct scsi_devid id;
};

/* 0, or -1 when addr or target does not fit (the LU gets no object). */
int lu_key_set(struct lu_key *k, const char *backend_addr, const char *backend_target,
               const struct scsi_devid *id);
bool lu_key_equal(const struct lu_key *a, const struct lu_key *b);

/*
 * A mutation sent to (or completed at) the object keyed `via` -- NULL when
 * it went to a LUN number its session has not verified, which may name any
 * LU -- must make the object keyed `other` forget its negatives: true when
 * `other` may be the same LU.  everyone: the mutation's LU is unknown
 * (copy offload, unverified number at completion).
 */
bool lu_key_mutation_reaches(const struct lu_key *via, const struct lu_key *other,
                             bool everyone);

/* The coherence an object keeps across the targets that reach it. */
struct lu_coherence {
    enum conf_coherence mode;   /* the least trusting of them, `off` aside */
    bool verify_forced;         /* a `verify` target lowered an `exclusive` one */
};
enum lu_join {
    LU_JOIN_KEEP,               /* nothing changes */
    LU_JOIN_ADOPT,              /* the object held no cache (made by an `off`
                                   target): it takes this target's coherence,
                                   page size and labels, unprobed */
    LU_JOIN_FORCE_VERIFY,       /* a `verify` target reaches an `exclusive`
                                   object: someone may write around the proxy */
};
/* A session of a target with coherence `target` binds the object. */
enum lu_join lu_coherence_join(struct lu_coherence *c, enum conf_coherence target);
/* A reload gives the target that made the object coherence `wanted`: true
 * when the object's mode changed (the daemon then re-probes or invalidates). */
bool lu_coherence_reload(struct lu_coherence *c, enum conf_coherence wanted);

#endif
