/*
 * fuzz_lu_model.c's state and its SAN (its only user: one translation unit,
 * hence the state and static functions in a header).  The SAN side: the
 * fuzzer's input; the bytes initiators and the SAN put on the wire -- CDBs
 * and parameter lists (WRITE(16), UNMAP, EXTENDED COPY, RECEIVE COPY
 * STATUS), unit attention sense data, the Device Identification VPD page,
 * GET LBA STATUS parameter data -- which the proxy side reads with the
 * shipped parsers; and what the SAN does with commands: unit attentions
 * pending per nexus and LUN number, commands run on the LU the number maps
 * when they arrive, in pieces, copies that outlive their status, and timers.
 * No rule of the proxy lives here (the proxy side: lu_model_proxy.h).
 */
#ifndef ISP_FUZZ_LU_MODEL_H
#define ISP_FUZZ_LU_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "allocmap.h"
#include "lu_key.h"
#include "mutlog.h"
#include "nexus_map.h"
#include "scsi_bytes.h"
#include "scsi_cdb.h"
#include "scsi_copy.h"
#include "scsi_devid.h"
#include "scsi_lba_status.h"
#include "scsi_sense.h"
#include "ua_stash.h"

#include "fuzz_check.h"

#define N_ADDR     2            /* backend addresses ("hosts") */
#define N_LU       4            /* logical units of the SAN */
#define LU_BLOCKS  64           /* blocks of each */
#define N_NUM      4            /* LUN numbers 0-3 */
#define N_SLOT     3            /* initiators, each with at most one session */
#define N_TARGET   3            /* [target] sections: T0, T1 on address 0, T2 on 1 */

/* Unit attentions the SAN holds for one I_T nexus and LUN number (bits). */
#define UA_RESET   1u           /* 29h/00h: every new I_T nexus gets one */
#define UA_LUNS    2u           /* 3Fh/0Eh REPORTED LUNS DATA HAS CHANGED */
#define UA_INQ     4u           /* 3Fh/03h INQUIRY DATA HAS CHANGED */
#define UA_REMAP   (UA_LUNS | UA_INQ)

#define OP_TUR     0x00
#define OP_READ16  0x88
#define OP_WRITE16 0x8a
#define OP_UNMAP   0x42

static const char *const model_addr[N_ADDR] = { "192.0.2.1:3260", "192.0.2.2:3260" };
#define MODEL_BACKEND_TARGET "iqn.2026-01.test.san:lu-model"

/* ---- input ---------------------------------------------------------------- */

/* Bytes, then (n exhausted) a xorshift generator seeded by the input: each
 * event reads two bytes of its own, then draws the rest, so that every
 * event is 6 bytes and a mutation of one leaves the others' meaning alone. */
struct model_in {
    const uint8_t *p;
    size_t n;
    uint32_t rng;
};

static inline uint8_t model_u8(struct model_in *in)
{
    if (in->n == 0) {
        in->rng ^= in->rng << 13;
        in->rng ^= in->rng >> 17;
        in->rng ^= in->rng << 5;
        return (uint8_t)(in->rng >> 8);
    }
    in->n--;
    return *in->p++;
}

/* A number in [lo, hi]. */
static inline uint64_t model_range(struct model_in *in, uint64_t lo, uint64_t hi)
{
    return lo + model_u8(in) % (hi - lo + 1);
}

/* ---- what initiators send --------------------------------------------------- */

static inline void model_write16(uint8_t cdb[16], uint64_t lba, uint32_t blocks)
{
    memset(cdb, 0, 16);
    cdb[0] = OP_WRITE16;
    scsi_put_be64(cdb + 2, lba);
    scsi_put_be32(cdb + 10, blocks);
}

/* UNMAP of one extent (SBC-5 5.35): the CDB and its 24-byte parameter list. */
static inline size_t model_unmap(uint8_t cdb[16], uint8_t *param, uint64_t lba, uint32_t blocks)
{
    memset(cdb, 0, 16);
    cdb[0] = OP_UNMAP;
    cdb[8] = 24;                        /* PARAMETER LIST LENGTH */
    memset(param, 0, 24);
    param[1] = 22;                      /* UNMAP DATA LENGTH */
    param[3] = 16;                      /* UNMAP BLOCK DESCRIPTOR DATA LENGTH */
    scsi_put_be64(param + 8, lba);
    scsi_put_be32(param + 16, blocks);
    return 24;
}

/* EXTENDED COPY (SPC-5 6.4, 6.5) with a header only: the proxy never reads
 * the descriptors (the model knows the destination).  LID4 carries IMMED;
 * `with_id` false: LIST ID USAGE 11b, its status cannot be asked. */
static inline size_t model_xcopy(uint8_t cdb[16], uint8_t *param, bool lid4, bool immed,
                                 bool with_id, uint32_t list_id)
{
    size_t len = lid4 ? 48 : 16;

    memset(cdb, 0, 16);
    cdb[0] = SCSI_OP_TPC_OUT;
    cdb[1] = lid4 ? SCSI_TPC_XCOPY_LID4 : SCSI_TPC_XCOPY_LID1;
    scsi_put_be32(cdb + 10, (uint32_t)len);
    memset(param, 0, len);
    if (lid4) {
        param[0] = 0x01;
        param[1] = with_id ? 0 : 0x18;
        param[3] = 0x20;
        param[15] = immed ? 1 : 0;
        param[16] = 0xff;
        scsi_put_be32(param + 20, list_id);
    } else {
        param[0] = (uint8_t)list_id;
        param[1] = with_id ? 0 : 0x18;
    }
    return len;
}

/* RECEIVE COPY STATUS(LID1 / LID4) for list_id. */
static inline void model_copy_status_cdb(uint8_t cdb[16], bool lid4, uint32_t list_id)
{
    memset(cdb, 0, 16);
    cdb[0] = SCSI_OP_TPC_IN;
    cdb[1] = lid4 ? SCSI_TPC_COPY_STATUS_LID4 : SCSI_TPC_COPY_STATUS_LID1;
    if (lid4)
        scsi_put_be32(cdb + 2, list_id);
    else
        cdb[2] = (uint8_t)list_id;
    scsi_put_be32(cdb + 10, 64);
}

/* ---- what the SAN answers ---------------------------------------------------- */

/* Its answer to RECEIVE COPY STATUS: the copy ended, or is in progress. */
static inline size_t model_copy_status_data(uint8_t *data, bool lid4, bool ended)
{
    memset(data, 0, 32);
    scsi_put_be32(data, lid4 ? 28 : 8);
    if (lid4)
        data[5] = ended ? 0x01 : 0x11;
    else
        data[4] = ended ? 0x01 : 0x00;
    return lid4 ? 32 : 12;
}

/* The Data segment of a CHECK CONDITION reporting unit attention `ua`:
 * SenseLength, then fixed-format sense data. */
static inline size_t model_ua_seg(uint8_t *seg, unsigned ua)
{
    uint8_t asc = ua == UA_RESET ? 0x29 : 0x3f, ascq = ua == UA_LUNS ? 0x0e
                                                     : ua == UA_INQ ? 0x03 : 0x00;
    size_t n = scsi_sense_build_fixed(seg + 2, SCSI_SENSE_FIXED_LEN, SCSI_KEY_UNIT_ATTENTION,
                                      asc, ascq);

    seg[0] = 0;
    seg[1] = (uint8_t)n;
    return 2 + n;
}

/* Device Identification VPD page whose one designator (NAA 6h) is number d. */
static inline size_t model_vpd83(uint8_t *buf, unsigned d)
{
    static const uint8_t naa[16] = { 0x60, 0x01, 0x40, 0x5f, 0x11, 0x22, 0x33, 0x44,
                                     0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00 };

    memset(buf, 0, 24);
    buf[1] = SCSI_VPD_DEVICE_ID;
    buf[3] = 20;                        /* PAGE LENGTH */
    buf[4] = 0x01;                      /* binary */
    buf[5] = SCSI_DESIG_NAA;            /* association 0: the logical unit */
    buf[7] = 16;
    memcpy(buf + 8, naa, sizeof(naa));
    buf[23] = (uint8_t)(d + 1);
    return 24;
}

/* GET LBA STATUS parameter data describing snap[lba, limit): zero runs as
 * deallocated or anchored, or as mapped, data as mapped, in pieces, all as
 * the input chooses.  Returns the length; the blocks it reports unallocated
 * are marked in neg[]. */
static inline size_t model_lba_status(struct model_in *in, uint8_t *buf, const uint8_t *snap,
                                      uint64_t lba, uint64_t limit, uint8_t *neg)
{
    static const uint8_t mapped[] = { SCSI_PROV_MAPPED_OR_UNKNOWN, SCSI_PROV_MAPPED,
                                      SCSI_PROV_UNKNOWN };
    uint64_t b, run_end, len;
    size_t n = 0;

    memset(neg, 0, LU_BLOCKS);
    for (b = lba; b < limit; b += len) {
        uint8_t d = model_u8(in), *p = buf + SCSI_GLS_HDR_LEN + n++ * SCSI_GLS_DESC_LEN;

        for (run_end = b; run_end < limit && snap[run_end] == snap[b]; run_end++)
            ;
        len = (d >> 1) == 0 || (d >> 1) > run_end - b ? run_end - b : d >> 1;
        memset(p, 0, SCSI_GLS_DESC_LEN);
        scsi_put_be64(p, b);
        scsi_put_be32(p + 8, (uint32_t)len);
        if (snap[b] != 0 || (d & 1) != 0) {
            p[12] = mapped[b % 3];
        } else {
            p[12] = b & 1 ? SCSI_PROV_ANCHORED : SCSI_PROV_DEALLOCATED;
            memset(neg + b, 1, len);
        }
    }
    memset(buf, 0, SCSI_GLS_HDR_LEN);
    scsi_put_be32(buf, (uint32_t)(4 + n * SCSI_GLS_DESC_LEN));
    return SCSI_GLS_ALLOC_LEN(n);
}

/* ---- the model's state ------------------------------------------------------ */

#define MAX_OBJ     8
#define MAX_CMD     12
#define MAX_COPY    6
#define MAX_QUERY   6
#define MAX_VERIFY  8
#define MAX_PROBE   4
#define MAX_TIMER   256
#define MAX_RUNNING 4           /* conn.h CONN_MAX_RUNNING_COPIES, smaller */
#define PROBE_MAX_RETRIES 3     /* lun.c */

enum ostate { O_UNPROBED, O_PROBING, O_ZERO_SERVING, O_PASSTHROUGH };

struct obj {                        /* struct lun, as far as the cache goes */
    bool used;
    struct lu_key key;
    int lu;                         /* model: the LU its key names */
    uint32_t number;                /* the LUN number where first seen */
    int target;                     /* the [target] it belongs to */
    struct lu_coherence coh;
    enum ostate state;
    uint32_t probe_gen;
    unsigned probe_retries;
    uint64_t n_blocks;              /* 0 until probed */
    uint32_t max_xfer;
    struct allocmap *map;
    struct mutlog log;
};

struct target {
    int addr;
    enum conf_coherence coh;
    uint32_t page_bytes;
};

struct running_copy {
    uint32_t list_id;
    bool lid4;
};

struct session {                    /* struct conn, as far as the cache goes */
    bool up;
    int target, addr;
    enum conf_coherence coh;        /* its target's at login: kept over reloads */
    uint32_t inc;                   /* logins so far: tells its commands apart */
    struct nexus_map nm;
    struct ua_stash stash;
    unsigned copies_blocking;
    struct running_copy running[MAX_RUNNING];
    unsigned n_running;
    uint8_t allowed[N_NUM];         /* model: I2's LUs, a bit each */
    int named[N_NUM];               /* model: the LU its binding answer named */
    uint32_t named_gen[N_NUM];      /* ... and that verification's generation */
};

enum ckind { C_READ, C_TUR, C_WRITE, C_UNMAP, C_COPY, C_COPY_STATUS };

struct cmd {                        /* struct task, and the command at the SAN */
    bool busy, own;                 /* own: the proxy's READ(16) part */
    bool lost;                      /* given up on (outcome unknown): the SAN may run it */
    enum ckind kind;
    int slot, addr;
    uint32_t inc, n;
    uint8_t cdb[16], param[64];
    size_t plen;
    struct scsi_cdb_info ci;
    struct obj *obj;                /* t->lun */
    struct mutation mut;
    bool mut_active, mut_cross, mut_unidentified, outcome_known;
    struct scsi_copy_info copy;
    bool copy_blocking;
    bool started, failed;           /* at the SAN */
    int lu, wcopy;
    uint32_t wserial;
    uint64_t lba, blocks;
    uint8_t wrote[LU_BLOCKS];       /* WRITE: blocks it wrote, counted in S.written */
    unsigned n_wrote;
    int dest;                       /* copy: the LU it writes */
    bool lid4, immed, with_id;
    uint32_t list_id;
};

struct wcopy {                      /* a copy the SAN runs (IMMED: past its status) */
    bool busy, running;
    uint32_t serial;
    int slot;
    uint32_t inc;
    bool lid4, with_id;
    uint32_t list_id;
    int dest;
    uint64_t lba, blocks;
};

enum qstate { Q_COLLECTING, Q_SENT, Q_EXECUTED };

struct query {                      /* the proxy's (lun_query.c) or an initiator's */
    bool busy, own;
    enum qstate st;
    struct obj *o;
    int slot;
    uint32_t inc, n;
    uint64_t since, lba;
    uint8_t snap[LU_BLOCKS];        /* the LU when the SAN ran it */
    bool excl;                      /* own: the READ that waits on it */
    uint64_t rlba;
    uint32_t rblocks;
};

struct verify {
    bool busy, executed;
    int slot, lu;
    uint32_t inc, n, gen;
};

struct probe {
    bool busy;
    struct obj *o;
    int slot;
    uint32_t inc, n, gen;
};

enum tkind { T_UNBLOCK, T_KILL_CMD, T_KILL_COPY };
struct timer {
    enum tkind kind;
    int idx;
    uint32_t serial;
};

static struct sim {
    struct model_in in, ev;             /* the input; the event at hand */
    size_t ring_cap;
    /* the SAN */
    uint8_t data[N_LU][LU_BLOCKS];
    uint8_t written[N_LU][LU_BLOCKS];   /* ordinary mutations in flight that wrote it */
    bool exported[N_ADDR][N_LU];
    unsigned desig[N_LU];
    int map[N_SLOT][N_ADDR][N_NUM];
    unsigned ua[N_SLOT][N_NUM];         /* pending for the slot's current nexus */
    struct wcopy wc[MAX_COPY];
    uint32_t serial;
    /* the proxy */
    struct target tg[N_TARGET];
    struct obj obj[MAX_OBJ];
    struct session ses[N_SLOT];
    unsigned blocked;                   /* p->negatives_blocked */
    struct cmd cmd[MAX_CMD];
    struct query q[MAX_QUERY];
    struct verify v[MAX_VERIFY];
    struct probe pr[MAX_PROBE];
    struct timer tm[MAX_TIMER];         /* backend_timeout from their event, in order */
    size_t tm_head, tm_n;
} S;

#define IN_U8() model_u8(&S.ev)
#define IN_RANGE(lo, hi) model_range(&S.ev, (lo), (hi))
#define LUN(o) ((struct lun *)(void *)(o))
#define OBJ(l) ((struct obj *)(void *)(l))

static int slot_of(const struct session *c)
{
    return (int)(c - S.ses);
}

/* The SAN receives a command of slot's nexus for n: the unit attention it
 * reports instead of running it (then cleared), or 0. */
static unsigned san_take_ua(int slot, uint32_t n)
{
    unsigned ua = S.ua[slot][n] & -S.ua[slot][n];

    S.ua[slot][n] &= ~ua;
    return ua;
}

/* ---- the SAN -------------------------------------------------------------------- */

static void cmd_completed(struct cmd *t, unsigned ua, bool good);
static void timer_fire(void);

static void push_timer(enum tkind kind, int idx, uint32_t serial)
{
    if (S.tm_n == MAX_TIMER)
        timer_fire();                   /* time passes: the oldest is due first */
    S.tm[(S.tm_head + S.tm_n++) % MAX_TIMER] = (struct timer){ kind, idx, serial };
}

/* ---- the SAN runs commands ------------------------------------------------------ */

/* t reaches the SAN: a pending unit attention answers it at once (false);
 * else it runs on the LU the number maps now.  A command given up on runs
 * whatever its nexus had pending (the nexus is gone). */
static bool cmd_start(struct cmd *t)
{
    unsigned ua = t->lost ? 0 : san_take_ua(t->slot, t->n);

    t->started = true;
    if (ua) {
        cmd_completed(t, ua, false);
        return false;
    }
    t->lu = S.map[t->slot][t->addr][t->n];
    for (int i = 0; i < MAX_COPY && t->kind >= C_COPY; i++) {
        struct wcopy *w = &S.wc[i];
        bool same = w->busy && w->slot == t->slot && w->inc == t->inc && w->with_id &&
                    w->lid4 == t->lid4 && w->list_id == t->list_id;
        if (t->kind == C_COPY)          /* OPERATION IN PROGRESS */
            t->failed |= same && w->running && t->with_id;
        else if (same)                  /* RECEIVE COPY STATUS, answered as of now */
            t->plen = model_copy_status_data(t->param, t->lid4, !w->running);
    }
    if (t->kind == C_COPY_STATUS)
        t->failed = t->plen == 0;       /* no such copy */
    for (int i = 0; i < MAX_COPY && t->kind == C_COPY && !t->failed && t->wcopy < 0; i++) {
        if (S.wc[i].busy && S.wc[i].running)
            continue;
        S.wc[i] = (struct wcopy){ true, true, ++S.serial, t->slot, t->inc, t->lid4, t->with_id,
                                  t->list_id, t->dest, t->lba, t->blocks };
        t->wcopy = i;
        t->wserial = S.serial;
    }
    t->failed |= t->kind == C_COPY && t->wcopy < 0;
    return true;
}

/* A piece of a started WRITE or UNMAP lands (UNMAP may keep the data). */
static void cmd_piece(struct cmd *t)
{
    uint8_t x = IN_U8(), v = x & 1;
    uint64_t a = t->lba + (x >> 1) % t->blocks, e = IN_RANGE(a + 1, t->lba + t->blocks);

    for (uint64_t b = a; b < e && (t->kind == C_WRITE || (t->kind == C_UNMAP && !v)); b++) {
        S.data[t->lu][b] = v;
        if (t->kind == C_WRITE && !t->lost && !t->wrote[b]) {
            t->wrote[b] = 1;
            t->n_wrote++;
            S.written[t->lu][b]++;
        }
    }
}

/* The status arrives (a non-IMMED copy has stopped by then). */
static void cmd_status(struct cmd *t, bool fail)
{
    if (!t->started && !cmd_start(t))
        return;
    if (t->kind == C_COPY && t->wcopy >= 0 && !t->immed)
        S.wc[t->wcopy].running = false;
    cmd_completed(t, 0, !t->failed && !(fail && t->kind != C_COPY));
}

/* The SAN runs what it may still run: a piece of a WRITE or UNMAP (also
 * one given up on), or of a running copy, or the copy finishes. */
static void world_event(uint8_t k)
{
    if (k & 0x80) {
        for (int i = 0; i < MAX_COPY; i++) {
            struct wcopy *w = &S.wc[(k + i) % MAX_COPY];
            if (!w->busy || !w->running)
                continue;
            if (k & 0x40) {
                w->running = false;
                return;
            }
            uint8_t x = IN_U8();
            uint64_t a = w->lba + (x >> 1) % w->blocks, e = IN_RANGE(a + 1, w->lba + w->blocks);
            memset(S.data[w->dest] + a, x & 1, e - a);
            return;
        }
        return;
    }
    for (int i = 0; i < MAX_CMD; i++) {
        struct cmd *t = &S.cmd[(k + i) % MAX_CMD];
        if (t->busy && t->lost) {
            t->started ? cmd_piece(t) : (void)cmd_start(t);
            return;
        }
    }
}

/* The SAN maps slot's number n (on the address of its session, if any) to
 * another LU and tells the nexus: REPORTED LUNS DATA HAS CHANGED on every
 * number, or INQUIRY DATA HAS CHANGED on n. */
static void remap(int slot, uint32_t n, uint8_t b)
{
    struct session *c = &S.ses[slot];
    int addr = c->up ? c->addr : (b >> 7), lu = (b >> 1) % N_LU;

    while (!S.exported[addr][lu])
        lu = (lu + 1) % N_LU;
    S.map[slot][addr][n] = lu;
    if (!c->up)
        return;
    c->allowed[n] |= (uint8_t)(1u << lu);
    for (uint32_t m = 0; m < N_NUM; m++)
        S.ua[slot][m] |= b & 1 ? UA_LUNS : m == n ? UA_INQ : 0;
}

#endif
