/*
 * One libiscsi session to the backend target, driven on the proxy's libevent
 * loop (iscsi_get_fd / iscsi_which_events / iscsi_service, plus a one-second
 * timer that lets libiscsi expire timed-out commands).  Automatic reconnect
 * is off: when the session dies the owner is told and closes the frontend
 * connection, so the initiator runs its own recovery (docs/ARCHITECTURE.md, "Backend").
 */
#ifndef ISP_BACKEND_H
#define ISP_BACKEND_H

#include <stdint.h>

#include <event2/event.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

struct backend;

struct backend_params {
    const char *portal;             /* "host:port" */
    const char *target;             /* backend TargetName */
    const char *initiator_name;     /* logged in with this InitiatorName */
    const char *chap_username;      /* NULL: no CHAP */
    const char *chap_password;
    unsigned timeout_seconds;       /* login and per-command timeout */
};

struct backend_ops {
    /* Login finished: status 0, or an iSCSI login status (class << 8 | detail)
     * from the backend, or ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE when it could
     * not be reached.  err is libiscsi's message. */
    void (*on_login)(void *arg, uint16_t status, const char *err);
    /* The session is gone (socket error, timeout, protocol error). */
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
void backend_cancel(struct backend *b, struct scsi_task *task);

#endif
