/* Backend iSCSI sessions through libiscsi on the libevent loop. */
#include "backend.h"

#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi_login.h"
#include "log.h"
#include "clock.h"
#include "zero_probe.h"

struct backend {
    struct event_base *base;
    struct iscsi_context *iscsi;
    struct event *io_ev;            /* on iscsi_get_fd() */
    int io_fd;
    short io_events;
    struct event *tick_ev;          /* lets libiscsi scan for timeouts */
    const struct backend_ops *ops;
    void *arg;
    char *portal;
    bool logged_in;
    bool failed;
    struct zero_probe sent;         /* when each LUN was last sent a command */
};

static void backend_watch(struct backend *b);

static void backend_fail(struct backend *b, const char *why)
{
    if (b->failed)
        return;
    b->failed = true;
    if (b->io_ev)
        event_del(b->io_ev);
    if (b->logged_in)
        b->ops->on_failure(b->arg, why);
    else
        b->ops->on_login(b->arg, ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE, why);
}

static void backend_io_cb(evutil_socket_t fd, short what, void *arg)
{
    struct backend *b = arg;
    int revents = ((what & EV_READ) ? POLLIN : 0) | ((what & EV_WRITE) ? POLLOUT : 0);

    (void)fd;
    if (iscsi_service(b->iscsi, revents) < 0) {
        backend_fail(b, iscsi_get_error(b->iscsi));
        return;
    }
    backend_watch(b);
}

static void backend_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct backend *b = arg;

    (void)fd;
    (void)what;
    if (b->failed)
        return;
    if (iscsi_service(b->iscsi, 0) < 0) {
        backend_fail(b, iscsi_get_error(b->iscsi));
        return;
    }
    backend_watch(b);
}

/* Keep the libevent registration in step with what libiscsi wants. */
static void backend_watch(struct backend *b)
{
    if (b->failed)
        return;
    int fd = iscsi_get_fd(b->iscsi);
    int want = iscsi_which_events(b->iscsi);
    short events = (short)(((want & POLLIN) ? EV_READ : 0) | ((want & POLLOUT) ? EV_WRITE : 0));

    if (fd == b->io_fd && events == b->io_events)
        return;
    if (b->io_ev) {
        event_free(b->io_ev);
        b->io_ev = NULL;
    }
    b->io_fd = fd;
    b->io_events = events;
    if (fd < 0 || events == 0)
        return;
    b->io_ev = event_new(b->base, fd, events | EV_PERSIST, backend_io_cb, b);
    if (!b->io_ev || event_add(b->io_ev, NULL) < 0)
        backend_fail(b, "cannot watch the backend socket");
}

char *backend_peer_address(struct backend *b, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    int fd = iscsi_get_fd(b->iscsi);

    out[0] = '\0';
    if (fd >= 0 && getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf(out, cap, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, serv);
    return out;
}

/* libiscsi reports a login refusal only in its error text, as
 * "... Status: <text>(<class << 8 | detail>)"; take the number back out. */
static uint16_t login_status_from_error(const char *err)
{
    const char *p = err ? strrchr(err, '(') : NULL;
    if (p) {
        char *end;
        unsigned long v = strtoul(p + 1, &end, 10);
        if (end != p + 1 && *end == ')' && v > 0 && v <= 0xffff)
            return (uint16_t)v;
    }
    return ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE;
}

static void backend_login_cb(struct iscsi_context *iscsi, int status, void *data, void *arg)
{
    struct backend *b = arg;

    (void)iscsi;
    (void)data;
    if (status != SCSI_STATUS_GOOD) {
        const char *err = iscsi_get_error(b->iscsi);
        b->failed = true;
        if (b->io_ev)
            event_del(b->io_ev);
        b->ops->on_login(b->arg, login_status_from_error(err), err);
        return;
    }
    b->logged_in = true;
    b->ops->on_login(b->arg, 0, NULL);
}

static void backend_connect_cb(struct iscsi_context *iscsi, int status, void *data, void *arg)
{
    struct backend *b = arg;

    (void)data;
    if (status != SCSI_STATUS_GOOD) {
        backend_fail(b, iscsi_get_error(iscsi));
        return;
    }
    if (iscsi_login_async(iscsi, backend_login_cb, b) != 0)
        backend_fail(b, iscsi_get_error(iscsi));
}

struct backend *backend_new(struct event_base *base, const struct backend_params *p,
                            const struct backend_ops *ops, void *arg)
{
    struct backend *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->base = base;
    b->ops = ops;
    b->arg = arg;
    b->io_fd = -1;
    b->portal = strdup(p->portal);
    b->iscsi = iscsi_create_context(p->initiator_name);
    b->tick_ev = event_new(base, -1, EV_PERSIST, backend_tick_cb, b);
    if (!b->portal || !b->iscsi || !b->tick_ev)
        goto fail;
    if (iscsi_set_targetname(b->iscsi, p->target) != 0 ||
        iscsi_set_session_type(b->iscsi, ISCSI_SESSION_NORMAL) != 0 ||
        iscsi_set_header_digest(b->iscsi, ISCSI_HEADER_DIGEST_NONE_CRC32C) != 0)
        goto fail;
    /* Replaying commands on a new session is not safe (docs/ARCHITECTURE.md, "Backend"). */
    iscsi_set_noautoreconnect(b->iscsi, 1);
    iscsi_set_timeout(b->iscsi, (int)p->timeout_seconds);
    if (p->chap_username &&
        iscsi_set_initiator_username_pwd(b->iscsi, p->chap_username, p->chap_password) != 0)
        goto fail;
    return b;
fail:
    log_error("backend %s: cannot set up a session: %s", p->portal,
              b->iscsi ? iscsi_get_error(b->iscsi) : "out of memory");
    backend_free(b);
    return NULL;
}

int backend_start(struct backend *b)
{
    static const struct timeval one_second = { 1, 0 };

    if (event_add(b->tick_ev, &one_second) < 0)
        return -1;
    if (iscsi_connect_async(b->iscsi, b->portal, backend_connect_cb, b) != 0)
        return -1;
    backend_watch(b);
    return 0;
}

void backend_free(struct backend *b)
{
    if (!b)
        return;
    b->failed = true;       /* no callbacks into the owner from here on */
    if (b->io_ev)
        event_free(b->io_ev);
    if (b->tick_ev)
        event_free(b->tick_ev);
    if (b->iscsi)
        iscsi_destroy_context(b->iscsi);
    free(b->portal);
    free(b);
}

int backend_submit(struct backend *b, uint32_t lun, struct scsi_task *task,
                   struct iscsi_data *data, iscsi_command_cb cb, void *priv)
{
    if (b->failed || !b->logged_in)
        return -1;
    if (iscsi_scsi_command_async(b->iscsi, (int)lun, task, cb, data, priv) != 0)
        return -1;
    zero_probe_note_send(&b->sent, lun, clock_now_us());
    backend_watch(b);
    return 0;
}

const struct zero_probe *backend_sent(const struct backend *b)
{
    return &b->sent;
}

int backend_tmf(struct backend *b, uint32_t lun, enum iscsi_task_mgmt_funcs fn,
                struct scsi_task *ref_task, iscsi_command_cb cb, void *priv)
{
    int rc;

    if (b->failed || !b->logged_in)
        return -1;
    if (fn == ISCSI_TM_ABORT_TASK)
        rc = iscsi_task_mgmt_abort_task_async(b->iscsi, ref_task, cb, priv);
    else
        rc = iscsi_task_mgmt_async(b->iscsi, (int)lun, fn, 0xffffffff, 0, cb, priv);
    if (rc != 0)
        return -1;
    backend_watch(b);
    return 0;
}

void backend_cancel(struct backend *b, struct scsi_task *task)
{
    iscsi_scsi_cancel_task(b->iscsi, task);
}
