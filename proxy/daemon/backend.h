/*
 * One libiscsi session to the backend target, driven on the proxy's libevent
 * loop (iscsi_get_fd / iscsi_which_events / iscsi_service, plus a one-second
 * timer that lets libiscsi expire timed-out commands).  The login tries the
 * target's portals in the order backend_portals.c gives (the preferred one
 * first, redirections followed), each attempt on a fresh libiscsi context
 * and bounded by the timeout.  Automatic reconnect is off: when the session
 * dies the owner is told and closes the frontend connection, so the
 * initiator runs its own recovery (docs/ARCHITECTURE.md, "Backend").  The
 * session counts its outstanding commands and when the SAN last answered,
 * for /healthz (health.c).
 */
#ifndef ISP_BACKEND_H
#define ISP_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "iobuf.h"

struct backend;
struct log_limit;

struct backend_params {
    const char *const *portals;     /* "host:port" or "[v6]:port", 1..8 */
    size_t n_portals;
    size_t preferred;               /* index of the portal to try first */
    const char *target;             /* backend TargetName; NULL: a discovery session */
    const char *initiator_name;     /* logged in with this InitiatorName */
    const char *chap_username;      /* NULL: no CHAP */
    const char *chap_password;
    unsigned timeout_seconds;       /* per login attempt, and per command */
    struct log_limit *log_limit;    /* login-attempt lines, per portal address */
};

struct backend_ops {
    /* Login finished: status 0, or an iSCSI login status (class << 8 | detail)
     * from the backend, or ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE when no portal
     * could be reached.  err is the last attempt's message. */
    void (*on_login)(void *arg, uint16_t status, const char *err);
    /* The session is gone (socket error, a command with data timed out,
     * protocol error).  libiscsi, with automatic reconnect off, ends every
     * command with SCSI_STATUS_CANCELLED first; since the proxy never
     * cancels a command itself (backend_abandon), CANCELLED always means
     * that the session ended. */
    void (*on_failure)(void *arg, const char *err);
};

struct backend *backend_new(struct event_base *base, const struct backend_params *p,
                            const struct backend_ops *ops, void *arg);
/* Connect and log in; the outcome arrives through ops->on_login. */
int backend_start(struct backend *b);
/* Destroys the session: outstanding commands complete with
 * SCSI_STATUS_CANCELLED before this returns.  Never call it from inside a
 * libiscsi callback; the owner defers it to its own event. */
void backend_free(struct backend *b);

/* "address:port" of the backend the session is connected to (numeric), or
 * "" when unknown.  Returns out. */
char *backend_peer_address(struct backend *b, char *out, size_t cap);
/* The configured portal (index into params.portals) the login is trying,
 * or, once logged in, answered through; and where the attempt went (the
 * portal itself, or the address a redirection named). */
size_t backend_portal_index(const struct backend *b);
const char *backend_portal_address(const struct backend *b);
/* Logged in, and not failed since. */
bool backend_logged_in(const struct backend *b);
/* How long the session has waited for any answer from the SAN while
 * commands or a NOP-Out are outstanding; 0 when none is. */
uint64_t backend_waiting_us(const struct backend *b, uint64_t now_us);
/* A NOP-Out (RFC 7143 11.18) unless one is outstanding; its answer counts
 * as an answer above.  The last round trip, or UINT64_MAX if none yet. */
void backend_ping(struct backend *b);
uint64_t backend_ping_latency_us(const struct backend *b);
/* Send a Logout Request (RFC 7143 11.14) and let the answer go. */
void backend_logout(struct backend *b);

/* Submit a command; data is the Data-Out buffer (NULL for none), referenced
 * until cb runs.  Returns 0 or -1. */
int backend_submit(struct backend *b, uint32_t lun, struct scsi_task *task,
                   struct iscsi_data *data, iscsi_command_cb cb, void *priv);
/* Task management (RFC 7143 11.5) sent to the backend. */
int backend_tmf(struct backend *b, uint32_t lun, enum iscsi_task_mgmt_funcs fn,
                struct scsi_task *ref_task, iscsi_command_cb cb, void *priv);
/* When this session last sent each LUN a command (zero_probe.h). */
struct zero_probe;
const struct zero_probe *backend_sent(const struct backend *b);
/* Forget a command locally (its callback runs with SCSI_STATUS_CANCELLED). */
/* The owner gives up a command it submitted (a task management function
 * ended it): its callback will not run.  The command is not cancelled in
 * libiscsi, because removing a PDU from its queues leaves a CmdSN hole
 * when the PDU is unsent (every later command waits at the SAN), cuts the
 * stream when the PDU is half written, and strands the command's queued
 * Data-Out PDUs, which read from the task.  So the backend keeps the task
 * and a reference to its buffer (data, may be NULL: the Data-Out source or
 * the Data-In destination) until libiscsi is done with them (the SAN's
 * answer, the command's timeout, or the session's end), and frees them
 * then.  The owner forgets both. */
void backend_abandon(struct backend *b, struct scsi_task *task, struct iobuf *data);

#endif
