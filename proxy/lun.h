/*
 * A backend LUN as the proxy knows it: its facts (READ CAPACITY(16), Block
 * Limits and Logical Block Provisioning VPD), whether zeros may be served
 * for it, its allocation cache and mutation log, its GET LBA STATUS queries
 * and its counters.  One object per (backend portal, backend target, LUN
 * number), shared by every session that reaches it and kept for the life of
 * the proxy; when the probe finds that two objects are one logical unit
 * (VPD 83h, lun_identity.c), the later one becomes an alias and every
 * command through it uses the first: one cache per logical unit.
 */
#ifndef ISP_LUN_H
#define ISP_LUN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "allocmap.h"
#include "conf.h"
#include "mutlog.h"
#include "scsi_capacity.h"
#include "scsi_devid.h"
#include "scsi_reservation.h"

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

struct proxy;
struct conn;
struct task;
struct lba_query;

enum lun_state {
    LUN_UNPROBED,       /* facts not asked yet: pass-through */
    LUN_PROBING,        /* facts being asked: pass-through */
    LUN_ZERO_SERVING,   /* LBPME=1, LBPRZ=1, GET LBA STATUS answered: cache on */
    LUN_PASSTHROUGH,    /* zero-serving not possible or not wanted (see why) */
};

/* Counters, all monotonic (the stats endpoint reads them). */
struct lun_counters {
    uint64_t reads_zero_only;       /* READs answered wholly from zeros */
    uint64_t reads_split;           /* READs split into zeros and backend reads */
    uint64_t reads_passthrough;     /* READs sent to the backend whole */
    uint64_t reads_fallback;        /* split READs whose parts failed: resent whole */
    uint64_t bytes_zero;            /* READ bytes the proxy served as zeros */
    uint64_t bytes_backend;         /* READ bytes read from the backend */
    uint64_t queries;               /* GET LBA STATUS sent by the proxy */
    uint64_t query_joins;           /* READs that joined a query in flight */
    uint64_t query_descriptors;     /* descriptors received */
    uint64_t query_errors;          /* failed or malformed answers */
    uint64_t queries_dropped_race;  /* answers whose negatives the race rule dropped */
    uint64_t mutations;             /* commands that marked pages ALLOCATED */
    uint64_t invalidations;         /* whole-LUN invalidations */
};

/* Backend command latency, a Prometheus histogram (upper bounds in µs). */
#define LUN_LATENCY_BUCKETS 11
extern const uint64_t lun_latency_bounds_us[LUN_LATENCY_BUCKETS];
struct lun_latency {
    uint64_t bucket[LUN_LATENCY_BUCKETS + 1];   /* last: above every bound */
    uint64_t count;
    uint64_t sum_us;
};

struct lun {
    TAILQ_ENTRY(lun) link;
    struct proxy *proxy;
    const struct conf_target *target;
    uint32_t number;
    enum lun_state state;
    const char *why;                /* why not zero-serving (static text) */
    enum conf_coherence coherence;  /* the least trusting of the targets
                                       that used the object, `off` aside */

    /* identity (lun_identity.c) */
    bool identified;                /* identity is the LU's VPD 83h designator */
    bool identity_none_logged;      /* "no usable designator" said once */
    struct scsi_devid identity;
    struct lun *same_as;            /* alias: the object its commands use */

    /* facts */
    uint32_t block_size;
    uint64_t n_blocks;
    uint32_t page_blocks;
    uint32_t max_xfer_blocks;       /* backend READ split size */

    struct allocmap *map;           /* only while LUN_ZERO_SERVING */
    struct mutlog log;              /* from creation on: mutations before the
                                       map exists still count as in flight */
    TAILQ_HEAD(, lba_query) queries;
    struct lba_query *unsent;       /* collects READs until the loop turn ends */
    struct event *send_ev;          /* sends `unsent` */
    TAILQ_HEAD(, task) probe_waiters; /* READs that arrived while probing */
    unsigned probe_retries;
    struct lun_counters n;
    struct lun_latency latency;     /* commands sent to the backend for this LUN */
    struct scsi_resv resv;          /* a READ-blocking reservation may be held */
};
TAILQ_HEAD(lun_list, lun);

/* The object commands to (target, number) use: the one for that triple, or
 * the one it is an alias of; created when new.  NULL only on OOM. */
struct lun *lun_get(struct proxy *p, const struct conf_target *target, uint32_t number);
/* Free a LUN no session reaches any more (logs its counters). */
void lun_free(struct lun *l);
void lun_free_all(struct proxy *p);
/* A reload: the LUN now belongs to `target` (same backend).  If its
 * coherence or page size differ, the cache starts over. */
void lun_retarget(struct lun *l, const struct conf_target *target);

/* Ask the identity and the facts once, on the given session's backend,
 * where the LUN is number lun_no (after the first command to the LUN
 * succeeded, and again after they changed). */
void lun_probe(struct lun *l, struct conn *c, uint32_t lun_no);
/* A READ waits for the probe in flight; task_read_resume(t) runs when it
 * ends, whatever its outcome. */
void lun_probe_wait(struct lun *l, struct task *t);

/* Drop what the cache knows (logged, counted).  `reprobe`: the facts
 * themselves may have changed (capacity changed, LUNs changed). */
void lun_invalidate(struct lun *l, const char *why, bool reprobe);
/* Invalidate every LUN of target's backend (a session's backend session is gone). */
void lun_invalidate_session(struct proxy *p, const struct conf_target *target,
                            const char *why);

/* A command's status on c's backend session, sent to LUN number lun_no
 * there: a unit attention that changes what the cache may know invalidates
 * it.  Returns its class (or NONE). */
enum scsi_ua_reason lun_note_status(struct lun *l, struct conn *c, uint32_t lun_no, int status,
                                    const struct scsi_task *st);
/* Same for a command the proxy sent itself on c's backend session: a unit
 * attention it received is kept for the initiator (conn_stash_unit_attention).
 * Returns true if the status was a unit attention. */
bool lun_absorb_unit_attention(struct lun *l, struct conn *c, uint32_t lun_no, int status,
                               const struct scsi_task *st);

/* A backend command for this LUN took `us` microseconds. */
void lun_observe_latency(struct lun *l, uint64_t us);
/* Microseconds on the monotonic clock, for latency measurements. */
uint64_t lun_now_us(void);

static inline bool lun_zero_serving(const struct lun *l)
{
    return l->state == LUN_ZERO_SERVING;
}

/* The coherence a command through target t may use on l: off when t says
 * off (its commands share the object, so its writes are seen, but its READs
 * are never answered from the cache), else the object's. */
static inline enum conf_coherence lun_coherence_for(const struct lun *l,
                                                    const struct conf_target *t)
{
    return t->coherence == CONF_COHERENCE_OFF ? CONF_COHERENCE_OFF : l->coherence;
}

/* ---- identity (lun_identity.c) ------------------------------------------- */

/*
 * The probe read the LUN's VPD page 83h (buf, len; NULL when the INQUIRY
 * failed).  Records the identity; if another object is the same logical
 * unit (same designator and same backend target name), one of the two
 * becomes an alias of the other.  Returns true when l became an alias (its
 * probe ends: the other object has the facts).
 */
bool lun_identify(struct lun *l, const uint8_t *buf, size_t len);
/* The facts of l are asked again: l's identity is unknown again, and the
 * aliases of l are aliases no more (they identify themselves again). */
void lun_identity_reset(struct lun *l);
/* A mutation is sent on l (CDB class MUTATE): every other zero-serving
 * object that may be the same logical unit -- l or it unidentified, or both
 * with the same designator -- forgets its negatives.  Returns true when
 * completion must do it again (lun_mutation_completed). */
bool lun_mutation_sent(struct lun *l);
/* The mutation marked by lun_mutation_sent completed or was given up on:
 * again, for what queries answered meanwhile learnt; `was_unidentified`:
 * l was unidentified at send, so every other object forgets. */
void lun_mutation_completed(struct lun *l, bool was_unidentified);

/* ---- GET LBA STATUS queries (lun_query.c) -------------------------------- */

/*
 * Make `t` wait for knowledge of the blocks from `lba` on.  A LUN has at most
 * one query in flight; READs that need one meanwhile all join the next, sent
 * when the one in flight is answered (or at the end of the loop turn if none
 * is), from the lowest LBA among them: its answer describes the LUN after
 * each of those READs arrived, which verify mode requires.  In exclusive mode
 * a READ also joins the query in flight if it starts at or before lba.  When the answer is applied, task_read_resume(t) runs.
 * Returns 0, or -1 if no query can be made (the caller reads from the
 * backend).
 */
int lun_query_wait(struct lun *l, struct task *t, uint64_t lba, uint64_t blocks);
/* Set up the query machinery of a new LUN; 0 or -1. */
int lun_query_init(struct lun *l);
/* At exit: the query not sent yet and those whose answers the test hook
 * still holds (every session is gone, so nothing waits on them). */
void lun_query_free_held(struct lun *l);
/* A waiting task goes away (its connection closed, or it was aborted). */
void lun_query_forget(struct task *t);
/* Apply GET LBA STATUS parameter data for a query sent at mutation sequence
 * number `since` starting at asked_lba: mapped extents become ALLOCATED,
 * unallocated ones, filtered by the race rule, UNALLOCATED; up to out_cap of
 * the latter are also written to out.  Returns how many were. */
struct lba_extent;
size_t lun_apply_lba_status(struct lun *l, uint64_t since, const uint8_t *buf, size_t len,
                            uint64_t asked_lba, struct lba_extent *out, size_t out_cap);

#endif
