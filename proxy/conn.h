/*
 * A frontend connection (= one iSCSI session: MaxConnections=1, ERL 0) and
 * its tasks.  Layers, each in its own file:
 *   conn.c        TCP framing (BHS, AHS, digests, padding), send path,
 *                 NOP-In keepalive, lifecycle
 *   conn_login.c  login phase: feeds iscsi_login, logs in to the backend
 *   session.c     Full Feature Phase: CmdSN window, NOP-Out, Text, Logout,
 *                 Task Management, SNACK, Reject
 *   task.c        SCSI commands: Data-Out / R2T, backend submit, Data-In,
 *                 SCSI Response
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

struct proxy;
struct backend;
struct scsi_task;

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
    TASK_AT_BACKEND,        /* submitted to libiscsi */
    TASK_DONE,              /* response queued; freed when the backend lets go */
};

struct task {
    TAILQ_ENTRY(task) link;
    struct conn *conn;
    enum task_state state;
    bool aborted;           /* a TMF ended it: send nothing more for it */
    bool read, write;
    uint32_t itt, cmdsn;
    uint32_t lun;
    uint32_t edtl;
    uint8_t cdb[16];
    uint8_t cdb_len;
    struct iobuf *buf;      /* EDTL bytes: READ target, WRITE gather buffer */
    struct scsi_task *stask;/* libiscsi's task while at the backend */
    /* WRITE data collection (DataPDUInOrder=Yes, DataSequenceInOrder=Yes). */
    uint32_t received;      /* next expected buffer offset */
    bool unsolicited_open;  /* unsolicited Data-Out may still come */
    uint32_t unsolicited_end;
    uint32_t r2t_ttt;       /* outstanding R2T (one at a time), 0xffffffff = none */
    uint32_t r2t_end;
    uint32_t r2tsn;
    uint32_t next_datasn;   /* expected DataSN in the current sequence */
};
TAILQ_HEAD(task_list, task);

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
    unsigned n_tasks;
    uint64_t bytes_in_use;          /* data buffers of live tasks */
    uint32_t next_ttt;
    bool rx_stalled;                /* input paused until memory frees up */
    struct event *resume_ev;        /* re-runs input processing after a stall */

    /* Text Request continuation (C bit), bounded */
    uint8_t *text_buf;
    size_t text_len;

    /* NOP-In keepalive */
    struct event *nop_ev;
    uint32_t nop_ttt;               /* outstanding ping, 0xffffffff = none */
    unsigned nop_missed;

    const char *close_reason;       /* for the log line of a drained close */
    struct event *free_ev;
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
struct conn *conn_new(struct proxy *p, evutil_socket_t fd, const char *peer, const char *local);
void conn_close(struct conn *c, const char *why);
/* Stop reading; close once what is queued has been sent (bounded wait). */
void conn_close_after_flush(struct conn *c, const char *why);
/* Send one PDU.  hdr's data_len is set from len; data is copied unless ref
 * is given, in which case it is referenced (ref must own data). */
void conn_send(struct conn *c, struct iscsi_pdu_hdr *hdr, const void *data, uint32_t len,
               struct iobuf *ref);
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

/* task_mgmt.c */
enum rx_result task_mgmt_request(struct conn *c, const struct rx_pdu *pdu);

/* task.c */
enum rx_result task_scsi_command(struct conn *c, const struct rx_pdu *pdu);
enum rx_result task_data_out(struct conn *c, const struct rx_pdu *pdu);
struct task *task_find(struct conn *c, uint32_t itt);
/* End a task without a response (TMF abort, connection teardown). */
void task_abort(struct task *t);
void task_free_all(struct conn *c);

#endif
