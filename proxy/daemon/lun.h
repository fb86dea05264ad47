/*
 * A backend logical unit as the proxy knows it: its identity, its facts
 * (READ CAPACITY(16), Block Limits and Logical Block Provisioning VPD),
 * whether zeros may be served for it, its allocation cache and mutation log,
 * its GET LBA STATUS queries and its counters.  One object per logical unit:
 * keyed by (the backend address a session is connected to, the backend
 * target name, the VPD 83h designator), made when a session's own backend
 * session first reads a designator no object has, used by every session
 * that verified the same one (lun_identity.c, nexus_map.h), and kept while
 * a session uses it or, unused, while the cache memory limit allows.
 */
#ifndef ISP_LUN_H
#define ISP_LUN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "allocmap.h"
#include "clock.h"
#include "conf.h"
#include "log.h"
#include "lu_key.h"
#include "lu_policy.h"
#include "mutlog.h"
#include "query_queue.h"
#include "read_plan.h"
#include "scsi_capacity.h"
#include "scsi_devid.h"
#include "scsi_reservation.h"

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

struct proxy;
struct conn;
struct task;

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
    uint64_t zero_bytes_learned;    /* READ data bytes that taught the map zeros */
    uint64_t zero_bytes_written;    /* bytes of zeros written that taught the map */
    uint64_t lba_status_local;      /* initiators' GET LBA STATUS answered from the map */
    uint64_t lba_status_forwarded;  /* ... sent to the backend */
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
    const struct conf_target *target;   /* the target that made it (labels,
                                           page size) */
    uint32_t number;                /* its LUN number there (labels) */
    enum lun_state state;
    const char *why;                /* why not zero-serving (static text) */
    struct lu_coherence coherence;  /* across the targets that use it (lu_key.h) */

    /* identity (lun_identity.c) */
    struct lu_key key;              /* backend address, target name, designator */
    unsigned refs;                  /* sessions bound to it, tasks and probes using it */
    uint64_t last_used_us;          /* when refs last dropped to 0 */

    /* facts */
    enum lu_zero_source zeros_from; /* GET LBA STATUS answers, or READ data */
    bool unmapped_reads_zeros;      /* LBPRZ=1: deallocated and anchored blocks read zeros */
    bool anchored_seen;             /* the SAN reported anchored blocks: initiators'
                                       GET LBA STATUS goes to it (the map cannot
                                       tell anchored from deallocated) */
    uint32_t block_size;
    uint64_t n_blocks;
    uint32_t page_blocks;
    uint32_t max_xfer_blocks;       /* backend READ split size */
    uint64_t facts_gen;             /* bumped whenever the facts above are set */

    struct allocmap *map;           /* only while LUN_ZERO_SERVING */
    struct mutlog log;              /* from creation on: mutations before the
                                       map exists still count as in flight */
    struct query_queue queries;     /* GET LBA STATUS in flight and collecting */
    struct event *send_ev;          /* sends the collecting one */
    TAILQ_HEAD(, task) probe_waiters; /* READs that arrived while probing */
    unsigned probe_retries;
    uint32_t probe_gen;             /* the probe in flight; bumped when facts change */
    struct lun_counters n;
    struct lun_latency latency;     /* commands sent to the backend for this LUN */
    struct scsi_resv resv;          /* a READ-blocking reservation may be held */
};
TAILQ_HEAD(lun_list, lun);

/* The object of the logical unit with this key; created (not probed yet)
 * when new, for `target` where it is LUN `number`.  NULL only on OOM. */
struct lun *lun_get(struct proxy *p, const struct conf_target *target, uint32_t number,
                    const struct lu_key *key);
/* A log line the SAN can cause again and again for l (conn_log.c):
 * rate-limited per backend address. */
void lun_log(const struct lun *l, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Make a new object (lun_get is the way in). */
struct lun *lun_new(struct proxy *p, const struct conf_target *target, uint32_t number,
                    const struct lu_key *key);
/* References: a session bound to it, a task or a probe using it. */
void lun_ref(struct lun *l);
void lun_unref(struct lun *l);
/* Free an object nothing references (logs its counters). */
void lun_free(struct lun *l);
/* Objects no session uses are kept (a second copy finds a warm cache) up to
 * this many, and while all objects together use at most cache_memory_limit. */
#define LUN_MAX_UNUSED       64
/* Keep the cache within cache_memory_limit: free unreferenced objects, least
 * recently used first, while there are more than LUN_MAX_UNUSED of them or
 * all objects together use more; then give each map an equal share of what
 * the objects' fixed parts leave as its detail limit (a map over its share
 * forgets detail to UNKNOWN).  When an object or a map is made, after every
 * connection teardown and at the end of a reload. */
void lun_reclaim(struct proxy *p);
/* Bytes all objects use: themselves, mutation rings, maps. */
uint64_t lun_cache_memory(const struct proxy *p);
void lun_free_all(struct proxy *p);
/* A reload: the LUN now belongs to `target` (same backend).  If its
 * coherence or page size differ, the cache starts over. */
void lun_retarget(struct lun *l, const struct conf_target *target);

/* Ask the facts once, on the given session's backend, where the LUN is
 * number lun_no (when the object is made, and again after they changed). */
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
 * there (l: the object it used, or NULL): a unit attention that changes
 * what the cache may know invalidates it, and one that changes which LU the
 * number is makes the session verify it again.  Returns its class. */
enum scsi_ua_reason lun_note_status(struct lun *l, struct conn *c, uint32_t lun_no, int status,
                                    const struct scsi_task *st);
/* Same for a command the proxy sent itself on c's backend session: a unit
 * attention it received is kept for the initiator (conn_stash_unit_attention).
 * Returns true if the status was a unit attention. */
bool lun_absorb_unit_attention(struct lun *l, struct conn *c, uint32_t lun_no, int status,
                               const struct scsi_task *st);

/* A backend command for this LUN took `us` microseconds. */
void lun_observe_latency(struct lun *l, uint64_t us);

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
    return t->coherence == CONF_COHERENCE_OFF ? CONF_COHERENCE_OFF : l->coherence.mode;
}

/* ---- identity (lun_identity.c) ------------------------------------------- */

/* The object a command of session c to LUN number lun_no uses: the one the
 * session verified, else NULL (not verified yet, or no usable identity:
 * READs pass through, mutations make every object forget its negatives). */
struct lun *lun_of_session(struct conn *c, uint32_t lun_no);
/* A command of c to lun_no completed GOOD, so the SAN has that LU for this
 * nexus: verify it (VPD 83h on c's backend session) if not done yet. */
void lun_verify(struct conn *c, uint32_t lun_no);
/* The LU behind lun_no (or behind every number: ALL) may have changed for
 * c's nexus (remapped: a unit attention said so; then the objects the
 * numbers named forget their negatives, as queries sent through them may
 * have run on another LU), or the session ends: forget what was verified. */
#define LUN_NO_ALL UINT32_MAX
void lun_unverify(struct conn *c, uint32_t lun_no, bool remapped);
/* The session ends: release what it verified. */
void lun_session_end(struct conn *c);
/* A mutation is sent on l (NULL: on a LUN number not verified): every
 * other zero-serving object that may be the same logical unit forgets its
 * negatives -- all of them for NULL, else those with the same designator
 * under another key.  Returns true when completion must make every object
 * forget (lun_mutation_completed's `everyone`). */
bool lun_mutation_sent(struct proxy *p, struct lun *l);
/* The mutation completed or was given up on: again, for what queries
 * answered meanwhile learnt. */
void lun_mutation_completed(struct proxy *p, struct lun *l, bool everyone);

/* ---- negatives blocked everywhere (lun_guard.c) ------------------------- */

/* l forgets its negatives, quietly: mutlog_invalidate, and the map's if it
 * has one. */
void lun_forget_negatives(struct lun *l);
/* Every object forgets its negatives. */
void lun_forget_all_negatives(struct proxy *p, const char *why);
/* Something may write any LU of the SAN at any time from now (a mutation of
 * unknown outcome, a copy offload running): every object forgets its
 * negatives and learns none until lun_unblock_negatives. */
void lun_block_negatives(struct proxy *p, const char *why);
/* ... it can write no more, after_seconds from now (0: now): the block is
 * lifted then, and every object forgets its negatives once more. */
void lun_unblock_negatives(struct proxy *p, unsigned after_seconds);

/* ---- GET LBA STATUS queries (lun_query.c) -------------------------------- */

/*
 * Make `t` wait for knowledge of the blocks from `lba` on.  A LUN has at most
 * one query in flight; READs that need one meanwhile all join the next, sent
 * when the one in flight is answered (or at the end of the loop turn if none
 * is), from the lowest LBA among them: its answer describes the LUN after
 * each of those READs arrived, which verify mode requires.  In exclusive mode
 * a READ also joins the query in flight if it starts at or before lba (the
 * rules: query_queue.h).  The query asks with at least alloc_len (0: as
 * many descriptors as a READ's query in the LUN's mode).  When the answer is
 * applied, task_read_resume(t) runs.  Returns 0, or -1 if no query can be
 * made (the caller reads from the backend).
 */
int lun_query_wait(struct lun *l, struct task *t, uint64_t lba, uint32_t alloc_len);
/* Set up the query machinery of a new LUN; 0 or -1. */
int lun_query_init(struct lun *l);
/* At exit: the query not sent yet and those whose answers the test hook
 * still holds (every session is gone, so nothing waits on them). */
void lun_query_free_held(struct lun *l);
/* A waiting task goes away (its connection closed, or it was aborted). */
void lun_query_forget(struct task *t);
/* A backend READ of [lba, lba + blocks) sent at mutation sequence `since`,
 * when the LUN's facts were facts_gen, came back GOOD and whole with data:
 * on a LUN whose zeros come from data, its zero granules teach the map
 * (zero_learn.c), and are counted. */
void lun_learn_zeros(struct lun *l, uint64_t since, uint64_t facts_gen, uint64_t lba,
                     uint64_t blocks, const uint8_t *data);
/* Apply GET LBA STATUS parameter data for a query sent at mutation sequence
 * number `since` starting at asked_lba (cache_answer_apply, with the LUN's
 * map and log and the proxy's block of negatives), and count it: up to
 * out_cap of the race-filtered unallocated extents are written to out.
 * Returns what the answer tells the tasks that waited for it (read_plan.h):
 * those extents, and the span it described. */
struct lba_answer lun_apply_lba_status(struct lun *l, uint64_t since, const uint8_t *buf,
                                       size_t len, uint64_t asked_lba, struct lba_extent *out,
                                       size_t out_cap);
/* A mutation through l completed GOOD, its log entry `self` not ended yet:
 * if it left zeros (a WRITE of zeros, a WRITE SAME of a zero block), they
 * teach the map on a LUN whose zeros come from data (zero_write.c), and are
 * counted.  data: the Data-Out forwarded. */
struct scsi_cdb_info;
struct mutation;
void lun_learn_written_zeros(struct lun *l, const struct scsi_cdb_info *ci, const uint8_t *cdb,
                             const struct mutation *self, uint64_t facts_gen, bool sent_bound,
                             const uint8_t *data, size_t len);

#endif
