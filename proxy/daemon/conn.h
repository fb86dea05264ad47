/*
 * A frontend connection (= one iSCSI session: MaxConnections=1, ERL 0) and
 * its tasks.  Layers, each in its own file:
 *   conn.c        TCP framing (BHS, AHS, digests, padding), send path,
 *                 NOP-In keepalive, lifecycle
 *   conn_login.c  login phase: feeds iscsi_login, logs in to the backend
 *   session.c     Full Feature Phase: CmdSN window, NOP-Out, Text, Logout,
 *                 SNACK, Reject, the Async Message asking for a logout
 *   task.c        SCSI commands: Data-Out / R2T, backend submit, Data-In,
 *                 SCSI Response, unit attentions kept for the initiator
 *   task_mgmt.c   Task Management Functions mapped to the backend
 *   task_cache.c  what the allocation cache sees of every command
 *   task_copy.c   copy offload: negatives blocked until the copy is over
 *   task_read.c   READs planned against the allocation cache
 */
#ifndef ISP_CONN_H
#define ISP_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "conf.h"
#include "iobuf.h"
#include "iscsi_login.h"
#include "iscsi_pdu.h"
#include "log.h"
#include "mutlog.h"
#include "nexus_map.h"
#include "order_gate.h"
#include "query_queue.h"
#include "read_plan.h"
#include "scsi_cdb.h"
#include "scsi_copy.h"
#include "ua_stash.h"

struct proxy;
struct backend;
struct scsi_task;
struct lun;
struct read_part;

/* RFC 7143 section 8 names the connection states; these are the ones a
 * target at ERL 0 with one connection per session needs. */
enum conn_state {
    CONN_LOGIN,             /* S4 (in login): exchanging Login PDUs */
    CONN_LOGIN_BACKEND,     /* login would complete; backend login in flight */
    CONN_FFP,               /* S5: Full Feature Phase */
    CONN_DRAINING,          /* last PDU (Logout Response, Reject) queued; close when flushed */
    CONN_CLOSING,           /* torn down on the next loop turn */
};

enum task_state {
    TASK_WAIT_DATA,         /* WRITE: collecting immediate / unsolicited / R2T data */
    TASK_HELD,              /* ready, held by the task order (task_order.c) */
    TASK_AT_BACKEND,        /* submitted to libiscsi */
    TASK_DONE,              /* response queued; freed when the backend lets go */
};

/* Where a READ planned against the allocation cache is (task_read.c;
 * docs/ARCHITECTURE.md, "Tasks", the read state table).  Every change goes
 * through task_read_set_state, which checks it. */
enum read_state {
    READ_NOT_PLANNED,       /* not planned: any other command, or sent whole */
    READ_PLANNING,          /* being planned on this call stack, never between events */
    READ_WAIT_VERIFY,       /* on conn->verify_waiters until the session verified its LUN */
    READ_WAIT_PROBE,        /* on lun->probe_waiters until the LUN's facts are known */
    READ_WAIT_QUERY,        /* on t->query's waiters until its GET LBA STATUS is answered */
    READ_PARTS_OUT,         /* READ(16) parts at the backend, none failed so far */
    READ_PARTS_FAILED,      /* ... one failed or came back short: the READ goes whole */
    READ_PARTS_ABORTED,     /* ... a TMF ended it: freed when the last part is back */
};

struct task {
    TAILQ_ENTRY(task) link;
    struct conn *conn;
    enum task_state state;
    bool read, write;
    uint32_t itt, cmdsn;
    uint32_t lun_no;         /* LUN number as libiscsi addresses it */
    uint32_t edtl;
    uint8_t cdb[16];
    uint8_t cdb_len;
    struct iobuf *buf;      /* EDTL bytes: READ target, WRITE gather buffer */
    struct scsi_task *stask;/* libiscsi's task while at the backend */
    uint64_t sent_us;       /* when it went to the backend (latency histogram) */
    /* WRITE data collection (DataPDUInOrder=Yes, DataSequenceInOrder=Yes). */
    uint32_t received;      /* next expected buffer offset */
    bool unsolicited_open;  /* unsolicited Data-Out may still come */
    uint32_t unsolicited_end;
    uint32_t r2t_ttt;       /* outstanding R2T (one at a time), 0xffffffff = none */
    uint32_t r2t_end;
    uint32_t r2tsn;
    uint32_t next_datasn;   /* expected DataSN in the current sequence */

    /* The allocation cache's view of the command (normal sessions). */
    struct lun *lun;
    struct scsi_cdb_info ci;
    struct mutation mut;    /* while a mutation is in flight */
    bool mut_active;
    bool mut_cross;         /* a mutation other LUN objects heard of at send */
    bool mut_unidentified;  /* ... sent on a LUN number not verified */
    bool outcome_known;     /* the backend answered, or a TMF ended it there */
    uint64_t gls_since;     /* the initiator's own GET LBA STATUS: when sent */
    bool sent_bound;        /* its number was bound to t->lun when sent: only then
                               may its GET LBA STATUS answer or READ data teach
                               t->lun (a unit attention may have unbound it) */
    uint64_t learn_since;   /* a READ's backend data (whole or parts): when sent */
    uint64_t learn_facts_gen;   /* ... and the LUN's facts then (whole READs, and
                                   mutations: zeros written, zero_write.c) */
    struct scsi_copy_info copy;     /* THIRD-PARTY COPY OUT (task_copy.c) */
    bool copy_blocking;     /* its block of negatives is not accounted for yet */
    uint64_t resv_sets;     /* the LUN's reservation sets count when sent */
    struct order_node order;        /* its place in the session's task order */

    /* A planned READ (task_read.c). */
    enum read_state read_state;
    struct qq_waiter query;         /* READ_WAIT_QUERY: on a query's waiters */
    TAILQ_ENTRY(task) query_link;   /* READ_WAIT_PROBE, READ_WAIT_VERIFY: on that list */
    unsigned queries_waited;
    struct read_seg *segs;
    size_t n_segs;
    uint32_t plan_block_size;       /* the LUN's facts the segments were */
    uint64_t plan_facts_gen;        /* planned with (block_size, facts_gen) */
    struct read_part *parts;        /* one per backend segment */
    size_t n_parts, parts_pending;
};
TAILQ_HEAD(task_list, task);

struct running_copy {
    uint32_t list_id;
    bool lid4;
};
#define CONN_MAX_RUNNING_COPIES 16
/* LUN numbers a session verifies and uses the cache for; more pass through. */
#define CONN_MAX_VERIFIED_LUNS 1024

struct conn {
    TAILQ_ENTRY(conn) link;
    struct proxy *proxy;
    struct bufferevent *bev;
    char peer[64];                  /* "addr:port", for log lines */
    char local[64];                 /* our side, for TargetAddress */
    enum conn_state state;

    /* login */
    struct iscsi_login *login;
    struct iscsi_session_params params;     /* valid from Full Feature Phase on */
    const struct conf_target *target;       /* NULL for discovery sessions */
    struct backend *backend;
    uint8_t isid[6];
    uint16_t tsih;

    /* sequence numbers (RFC 7143 4.2.2) */
    uint32_t statsn;
    uint32_t exp_cmdsn;
    uint32_t max_cmdsn;

    /* tasks and memory budget */
    struct task_list tasks;
    struct task_list verify_waiters;    /* READs waiting for lun_verify's answer */
    unsigned n_tasks;
    struct order_gate order;        /* task attributes (task_order.c) */
    struct event *order_ev;         /* starts tasks the order released */
    uint64_t bytes_in_use;          /* data buffers of live tasks */
    uint32_t next_ttt;
    bool rx_stalled;                /* input paused until memory frees up */
    struct event *resume_ev;        /* re-runs input processing after a stall */
    struct event *flush_ev;         /* writes queued PDUs this loop turn */
    bool flush_pending;

    /* Text Request continuation (C bit), bounded */
    uint8_t *text_buf;
    size_t text_len;

    /* LUN numbers this session verified (lun_identity.c) */
    struct nexus_map luns;
    char backend_addr[64];          /* address:port the backend session is connected to */
    /* copy offloads (task_copy.c): blocks of negatives this session holds,
     * and the copies running after their status, by list identifier */
    unsigned copies_blocking;
    struct running_copy running_copies[CONN_MAX_RUNNING_COPIES];
    unsigned n_running_copies;

    /* unit attentions the proxy's own commands consumed (ua_stash.h) */
    struct ua_stash ua;

    /* data digest of the PDU being queued (conn_send_begin ... end) */
    uint32_t tx_crc;
    uint32_t tx_len;

    /* NOP-In keepalive */
    struct event *nop_ev;
    uint32_t nop_ttt;               /* outstanding ping, 0xffffffff = none */
    unsigned nop_missed;

    const char *close_reason;       /* for the log line of a drained close */
    struct event *free_ev;

    /* limits (conn_limits.c) */
    char addr[64];                  /* source address without the port */
    struct event *login_ev;         /* login_timeout, from accept to Full Feature Phase */
};
TAILQ_HEAD(conn_list, conn);

/* A received PDU: decoded header plus pointers into the contiguous input. */
struct rx_pdu {
    struct iscsi_pdu_hdr hdr;
    const uint8_t *ahs;
    uint32_t ahs_len;
    const uint8_t *data;
};

/* What handling a PDU did with it. */
enum rx_result {
    RX_DONE,        /* consumed */
    RX_STALL,       /* not consumed: retry when memory frees up */
    RX_CLOSE,       /* close the connection (already logged) */
};

/* conn.c */
struct conn *conn_new(struct proxy *p, evutil_socket_t fd, const char *peer, const char *local,
                      const char *addr);
void conn_close(struct conn *c, const char *why);
/* Stop reading; close once what is queued has been sent (bounded wait). */
void conn_close_after_flush(struct conn *c, const char *why);
/* Send one PDU.  hdr's data_len is set from len; data is copied unless ref
 * is given, in which case it is referenced (ref must own data). */
void conn_send(struct conn *c, struct iscsi_pdu_hdr *hdr, const void *data, uint32_t len,
               struct iobuf *ref);
/* The same in pieces: begin with the total data length, then pieces adding
 * up to it (data NULL: zeros, referenced from one shared zero buffer), then
 * end (padding and data digest). */
void conn_send_begin(struct conn *c, struct iscsi_pdu_hdr *hdr, uint32_t len);
void conn_send_data(struct conn *c, const void *data, uint32_t len, struct iobuf *ref);
void conn_send_end(struct conn *c);
/* Fill StatSN / ExpCmdSN / MaxCmdSN into a target PDU header; advance_statsn
 * for PDUs that carry status (RFC 7143 4.2.2.2). */
void conn_stamp_sn(struct conn *c, struct iscsi_pdu_hdr *hdr, bool advance_statsn);
/* Recompute MaxCmdSN from free queue slots and memory (flow control). */
void conn_update_window(struct conn *c);
/* Resume input processing after a stall, on the next loop turn. */
void conn_resume(struct conn *c);
void conn_reject(struct conn *c, const struct rx_pdu *pdu, const uint8_t *bhs,
                 enum iscsi_reject_reason reason, const char *field);
/* NOP-In pings once in Full Feature Phase; a NOP-Out carrying the ping's
 * TTT answers it. */
void conn_keepalive_start(struct conn *c);
void conn_keepalive_answered(struct conn *c, uint32_t ttt);

/* conn_login.c */
enum rx_result conn_login_pdu(struct conn *c, const struct rx_pdu *pdu);
void conn_login_teardown(struct conn *c);

/* session.c */
enum rx_result session_pdu(struct conn *c, const struct rx_pdu *pdu, const uint8_t *bhs);
/* Asynchronous Message, AsyncEvent 1: log out within `seconds`. */
void session_request_logout(struct conn *c, unsigned seconds);

/* task_mgmt.c */
enum rx_result task_mgmt_request(struct conn *c, const struct rx_pdu *pdu);

/* task.c */
enum rx_result task_scsi_command(struct conn *c, const struct rx_pdu *pdu);
enum rx_result task_data_out(struct conn *c, const struct rx_pdu *pdu);
struct task *task_find(struct conn *c, uint32_t itt);
/* End a task without a response (TMF abort, connection teardown). */
void task_abort(struct task *t);
void task_free_all(struct conn *c);
/* Keep a unit attention for the initiator's next command to lun. */
void conn_stash_unit_attention(struct conn *c, uint32_t lun, const uint8_t *seg, size_t len);
/* Send the command to the backend whole, as the initiator sent it. */
void task_submit(struct task *t);
void task_destroy(struct task *t);
/* Take the task out of the session's accounting before its response. */
void task_unlink(struct task *t);
void task_free(struct task *t);
/* Data-In for [0, len) of the READ from these runs (data NULL: zeros), status
 * in the last PDU (RFC 7143 11.7). */
struct data_run {
    const uint8_t *data;
    struct iobuf *ref;
    uint32_t len;
};
void task_send_data_in(struct task *t, const struct data_run *runs, size_t n_runs, uint8_t status,
                       uint8_t res_flags, uint32_t residual);

/* task_cache.c: what the allocation cache sees of every command */
/* Decode the CDB and find the LUN object (normal sessions). */
void task_cache_classify(struct task *t);
/* Just before the command goes to the backend: a mutation marks what it
 * touches ALLOCATED and enters the mutation log. */
void task_cache_before_send(struct task *t);
/* The backend answered (status < 0x100): unit attentions, UNMAP's pages,
 * the initiator's own GET LBA STATUS answer. */
void task_cache_completed(struct task *t, int status);
/* The mutation left the backend's hands, or its outcome is unknown
 * (idempotent). */
void task_mutation_end(struct task *t);
/* The task is freed: its mutation ends, its object is let go. */
void task_cache_release(struct task *t);
/* A unit attention kept for this LUN is the answer to this command. */
bool task_report_stashed_unit_attention(struct conn *c, const struct iscsi_pdu_hdr *cmd,
                                        uint32_t lun);

/* task_copy.c: copy offload blocks negatives until it is over */
void task_copy_sent(struct task *t);
void task_copy_completed(struct task *t, int status);
/* task_order.c: task attributes (ORDERED, HEAD OF QUEUE) kept by the proxy */
/* The task arrived with this ATTR field (RFC 7143 11.3.1): its place. */
void task_order_enter(struct task *t, uint8_t attr_bits);
/* The task is ready: planned or sent now, or held until the order allows. */
void task_start(struct task *t);
/* The task ends (from task_free): tasks it held start on the next loop turn. */
void task_order_leave(struct task *t);
void task_order_release_cb(evutil_socket_t fd, short what, void *arg);

/* task_reserve.c: reservations seen go by (scsi_reservation.h) */
void task_reservation_sent(struct task *t);
void task_reservation_completed(struct task *t, int status);

/* task_read.c: READs planned against the allocation cache */
/* Returns false if the READ (or GET LBA STATUS, task_lba_status.c) cannot
 * be answered by the proxy (the caller sends it whole). */
bool task_read_start(struct task *t);
/* The GET LBA STATUS the task waited for is answered (fresh: what that
 * answer says, which verify mode uses; NULL or empty if it failed), or the
 * task is planned for the first time (fresh NULL). */
void task_read_resume(struct task *t, const struct lba_answer *fresh);
/* The READ's next state; the transition is checked against the table in
 * task_read.c. */
void task_read_set_state(struct task *t, enum read_state s);
/* The session's verification of t's LUN number is over (t waited for it in
 * READ_WAIT_VERIFY): plan it with the object it named, or send it whole. */
void task_read_verified(struct task *t);
/* A planned READ (read_state not READ_NOT_PLANNED) is aborted. */
void task_read_abort(struct task *t);
void task_read_release(struct task *t);

/* task_lba_status.c: an initiator's GET LBA STATUS answered by the proxy.
 * It goes through task_read_start and the READ states like a READ. */
bool task_lba_status_wanted(const struct task *t);
/* The proxy may answer it (exclusive or verify, zero-serving from GET LBA
 * STATUS, no reservation, no anchored blocks seen). */
bool task_lba_status_answerable(const struct task *t);
/* In READ_PLANNING: answer it (from the map, and in verify mode from fresh,
 * the answer to the query it waited for), wait for a query, or send it to
 * the SAN. */
void task_lba_status_resume(struct task *t, const struct lba_answer *fresh);

/* conn_log.c: a log line the connection's initiator caused, rate-limited
 * per source address (fmt starts with "%s: " and c->peer, as every line
 * about a connection does). */
void conn_log(const struct conn *c, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define conn_warn(c, ...) conn_log((c), LOG_LVL_WARN, __VA_ARGS__)
#define conn_info(c, ...) conn_log((c), LOG_LVL_INFO, __VA_ARGS__)

/* conn_limits.c: limits on frontend connections (docs/ARCHITECTURE.md,
 * "Limits"); refusals are counted by reason */
enum conn_refusal {
    CONN_REFUSED_LIMIT_TOTAL,       /* max_connections, at accept */
    CONN_REFUSED_LIMIT_ADDRESS,     /* max_connections_per_address, at accept */
    CONN_REFUSED_LOGIN_TIMEOUT,     /* no Full Feature Phase within login_timeout */
    CONN_REFUSED_LIMIT_SESSIONS,    /* the target's max_sessions, at login (0x0206) */
    CONN_REFUSED_COUNT
};
const char *conn_refusal_name(enum conn_refusal r);
/* A connection from addr (no port) was accepted: may it be set up?  false
 * when max_connections or max_connections_per_address is reached (counted,
 * logged at most once per address per 10 s); the caller closes the socket
 * before reading anything. */
bool conn_admit(struct proxy *p, const char *addr);
/* login_ev's callback (armed by conn_login_timer_start at accept, stopped
 * at Full Feature Phase): closes a connection still logging in. */
void conn_login_timeout_cb(evutil_socket_t fd, short what, void *arg);
void conn_login_timer_start(struct conn *c);
void conn_login_timer_stop(struct conn *c);
/* Before the backend login of c->target: 0, or the login status
 * ISCSI_LOGIN_ERR_TOO_MANY_CONNECTIONS when the target already has
 * max_sessions sessions logging in or logged in (counted, logged). */
uint16_t conn_session_limit(struct conn *c);
/* Warn when the file descriptor limit cannot hold max_connections. */
void conn_limits_check_fds(const struct conf *cf);

#endif
