/*
 * What backend.c (the session) and backend_cmd.c (its commands) share; not
 * for other files, which use backend.h.
 */
#ifndef ISP_BACKEND_SESSION_H
#define ISP_BACKEND_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"
#include "backend_portals.h"
#include "zero_probe.h"

struct backend {
    struct event_base *base;
    struct iscsi_context *iscsi;    /* the attempt's, then the session's */
    /* On iscsi_get_fd(): reading while libiscsi wants input, writing only
     * while it holds output the socket did not take at once (flush_ev
     * writes first), so a command costs no epoll_ctl. */
    struct event *rd_ev, *wr_ev;
    bool rd_on, wr_on;
    int io_fd;
    struct event *flush_ev;         /* write what was just queued, this loop turn */
    bool flush_pending;
    struct event *tick_ev;          /* lets libiscsi scan for timeouts */
    struct event *attempt_ev;       /* bounds one login attempt */
    struct event *next_ev;          /* the next attempt, outside libiscsi's callbacks */
    const struct backend_ops *ops;
    void *arg;
    /* what every attempt's context is set up with */
    char *portals[PORTAL_PLAN_MAX];
    char *target, *initiator_name, *chap_username, *chap_password;
    unsigned timeout_seconds;
    struct portal_plan plan;
    bool attempt_over;              /* this attempt's outcome is in: ignore the rest */
    char err[256];                  /* the last attempt's message */
    struct log_limit *log_limit;
    bool logged_in;
    bool failed;
    const char *lost;               /* why libiscsi ended the session inside a callback */
    char lost_why[256];
    struct backend_cmd *cmds;       /* outstanding commands and TMFs, oldest first */
    unsigned tmfs_pending;          /* of them, TMFs not handed to libiscsi yet */
    struct backend_cmd **cmds_tail;
    struct zero_probe sent;         /* when each LUN was last sent a command */
    /* answers, for health.c */
    unsigned in_flight;             /* commands, TMFs and NOP-Outs outstanding */
    uint64_t quiet_since_us;        /* the last answer, or when in_flight left 0 */
    bool ping_out;
    uint64_t ping_sent_us, ping_latency_us;
};

/* A command's callback and argument, behind ours (in-flight accounting,
 * abandoned commands). */
struct backend_cmd {
    struct backend *b;
    struct backend_cmd *next, **pprev;
    iscsi_command_cb cb;
    void *priv;
    struct scsi_task *task;         /* NULL for a TMF */
    bool data_out;
    bool abandoned;                 /* task and held are ours to free */
    struct iobuf *held;
    /* a task management request not handed to libiscsi yet (send_tmfs) */
    bool tmf_pending;
    int tmf_lun;
    enum iscsi_task_mgmt_funcs tmf_fn;
    uint32_t tmf_ritt, tmf_rcmdsn;
};

/* Logged in, not failed, not lost. */
bool backend_usable(const struct backend *b);
/* A PDU was queued: write it from the loop (backend.c). */
void backend_kick(struct backend *b);
/* Hand pending task management requests to libiscsi when it may take them. */
void backend_send_tmfs(struct backend *b);
/* Unlink and free a command record (and what an abandoned one holds). */
void backend_cmd_free(struct backend_cmd *bc);

#endif
