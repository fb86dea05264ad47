/*
 * The logical units one I_T nexus (a frontend session and its backend
 * session) has verified: LUN number -> allocation cache object.  SANs map
 * LUN numbers per host and remap them while hosts run, so a session uses a
 * shared cache for a LUN number only after its own backend session read that
 * LUN's Device Identification VPD page and the designator named the object
 * (docs/ARCHITECTURE.md, "Identity per I_T nexus").  An entry is made when
 * the verification is sent, so LUN numbers the SAN does not have (its answer
 * to the initiator's command was not GOOD) cost nothing.  Bounded: at most
 * `max` entries; past that, LUN numbers stay unverified (pass-through).
 * Pure: no I/O, the objects are opaque here.
 */
#ifndef ISP_NEXUS_MAP_H
#define ISP_NEXUS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lun;

enum nexus_lu_state {
    NEXUS_LU_VERIFYING,     /* VPD 83h asked on this session; not usable yet */
    NEXUS_LU_BOUND,         /* the designator named `lun`: its cache is usable */
    NEXUS_LU_UNIDENTIFIED,  /* no usable designator: pass-through for good */
};

struct nexus_lu {
    uint32_t lun_no;
    uint32_t gen;               /* tells a stale verification answer apart */
    enum nexus_lu_state state;
    struct lun *lun;            /* NEXUS_LU_BOUND only */
};

struct nexus_map {
    struct nexus_lu *v;         /* sorted by lun_no */
    size_t n, cap, max;
    uint32_t next_gen;
};

void nexus_map_init(struct nexus_map *m, size_t max);
/* Frees the array; the caller has released the objects of bound entries. */
void nexus_map_destroy(struct nexus_map *m);

struct nexus_lu *nexus_map_find(const struct nexus_map *m, uint32_t lun_no);
/* The object a command to lun_no may use: the bound one, else NULL. */
struct lun *nexus_map_lun(const struct nexus_map *m, uint32_t lun_no);

/* A verification of lun_no is about to be sent: a new VERIFYING entry with a
 * fresh generation.  NULL if lun_no has an entry already, the map is full,
 * or no memory. */
struct nexus_lu *nexus_map_begin(struct nexus_map *m, uint32_t lun_no);
/* The answer to the verification of generation gen arrived: the entry, if
 * it still waits for exactly that answer, else NULL (reset meanwhile). */
struct nexus_lu *nexus_map_answer(const struct nexus_map *m, uint32_t lun_no, uint32_t gen);

/* Forget lun_no (INQUIRY DATA HAS CHANGED): the next GOOD verifies again.
 * Returns the object it was bound to, for the caller to release, or NULL. */
struct lun *nexus_map_forget(struct nexus_map *m, uint32_t lun_no);
/* Forget every entry (REPORTED LUNS DATA HAS CHANGED); the caller has
 * released the objects of the bound ones (m->v[0 .. m->n)). */
void nexus_map_clear(struct nexus_map *m);

#endif
