/* Backend iSCSI sessions through libiscsi on the libevent loop: the login
 * attempts, the socket, the session's end (backend_cmd.c: its commands). */
#include "backend.h"
#include "backend_session.h"

#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_portals.h"
#include "event_poll.h"
#include "iscsi_login.h"
#include "log.h"
#include "clock.h"
#include "zero_probe.h"

static void backend_watch(struct backend *b);
static void attempt_start(struct backend *b);

static const char *attempt_address(const struct backend *b)
{
    const char *r = portal_plan_redirect(&b->plan);
    return r ? r : b->portals[portal_plan_current(&b->plan)];
}

static void unwatch(struct backend *b)
{
    if (b->rd_ev)
        event_free(b->rd_ev);
    if (b->wr_ev)
        event_free(b->wr_ev);
    b->rd_ev = b->wr_ev = NULL;
    b->rd_on = b->wr_on = false;
    b->io_fd = -1;
}

static void stop_io(struct backend *b)
{
    unwatch(b);
    event_del(b->attempt_ev);
}

/* The attempt ended without a session: the plan says whether another
 * portal (or the address a redirection named) is tried. */
static void attempt_failed(struct backend *b, uint16_t status, const char *err,
                           const char *target_address)
{
    const char *from = b->portals[portal_plan_current(&b->plan)], *why;
    char tried[PORTAL_ADDR_MAX];

    if (b->attempt_over || b->failed)
        return;
    b->attempt_over = true;
    stop_io(b);
    snprintf(b->err, sizeof(b->err), "%s", err ? err : "-");
    snprintf(tried, sizeof(tried), "%s", attempt_address(b));
    enum portal_next next = portal_plan_after(&b->plan, status, target_address, &why);
    if (next == PORTAL_NEXT_TRY) {
        log_limited(b->log_limit, tried, LOG_LVL_INFO,
                    "backend %s: login through %s%s%s: status 0x%04x (%s): %s; trying %s",
                    b->target ? b->target : "discovery", tried, strcmp(tried, from) ? " for " : "",
                    strcmp(tried, from) ? from : "", (unsigned)status, b->err, why,
                    attempt_address(b));
        event_active(b->next_ev, 0, 0);
        return;
    }
    size_t len = strlen(b->err);
    snprintf(b->err + len, sizeof(b->err) - len, " (%s)", why);
    b->failed = true;
    b->ops->on_login(b->arg, status, b->err);
}

static void backend_fail(struct backend *b, const char *why)
{
    if (!b->logged_in) {
        attempt_failed(b, ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE, why, NULL);
        return;
    }
    if (b->failed)
        return;
    b->failed = true;
    stop_io(b);
    b->ops->on_failure(b->arg, why);
}

static void backend_io_cb(evutil_socket_t fd, short what, void *arg)
{
    struct backend *b = arg;
    int revents = ((what & EV_READ) ? POLLIN : 0) | ((what & EV_WRITE) ? POLLOUT : 0);

    (void)fd;
    event_poll_note_traffic();
    if (iscsi_service(b->iscsi, revents) < 0 || b->lost) {
        backend_fail(b, b->lost ? b->lost : iscsi_get_error(b->iscsi));
        return;
    }
    backend_send_tmfs(b);
    backend_watch(b);
}

static void backend_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct backend *b = arg;

    (void)fd;
    (void)what;
    if (b->failed || b->attempt_over)
        return;
    if (iscsi_service(b->iscsi, 0) < 0 || b->lost) {
        backend_fail(b, b->lost ? b->lost : iscsi_get_error(b->iscsi));
        return;
    }
    backend_send_tmfs(b);
    backend_watch(b);
}

static bool set_watch(struct event *ev, bool *on, bool want)
{
    if (want == *on)
        return true;
    *on = want;
    return (want ? event_add(ev, NULL) : event_del(ev)) == 0;
}

/* Keep the libevent registration in step with what libiscsi wants. */
static void backend_watch(struct backend *b)
{
    if (b->failed || b->attempt_over)
        return;
    int fd = iscsi_get_fd(b->iscsi);
    int want = iscsi_which_events(b->iscsi);

    if (fd != b->io_fd) {
        unwatch(b);
        if (fd < 0)
            return;
        b->io_fd = fd;
        b->rd_ev = event_new(b->base, fd, EV_READ | EV_PERSIST, backend_io_cb, b);
        b->wr_ev = event_new(b->base, fd, EV_WRITE | EV_PERSIST, backend_io_cb, b);
        if (!b->rd_ev || !b->wr_ev) {
            backend_fail(b, "cannot watch the backend socket");
            return;
        }
    }
    if (!set_watch(b->rd_ev, &b->rd_on, want & POLLIN) ||
        !set_watch(b->wr_ev, &b->wr_on, (want & POLLOUT) && !b->flush_pending))
        backend_fail(b, "cannot watch the backend socket");
}

/* A PDU was queued (outside libiscsi's callbacks or inside them): write it
 * from the loop, before waiting for the socket to say it is writable. */
void backend_kick(struct backend *b)
{
    if (b->logged_in && !b->wr_on && !b->flush_pending) {
        b->flush_pending = true;
        event_active(b->flush_ev, 0, 0);
    } else if (!b->flush_pending) {
        backend_watch(b);
    }
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
    struct backend *b = arg;

    (void)fd;
    (void)what;
    b->flush_pending = false;
    if (b->failed || b->attempt_over)
        return;
    if (b->lost || ((iscsi_which_events(b->iscsi) & POLLOUT) &&
                    (iscsi_service(b->iscsi, POLLOUT) < 0 || b->lost))) {
        backend_fail(b, b->lost ? b->lost : iscsi_get_error(b->iscsi));
        return;
    }
    backend_send_tmfs(b);
    backend_watch(b);
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

    (void)data;
    if (b->attempt_over)
        return;
    if (status == SCSI_STATUS_GOOD) {
        event_del(b->attempt_ev);
        b->logged_in = true;
        b->ops->on_login(b->arg, 0, NULL);
        return;
    }
    /* libiscsi hands 0x0101 over as SCSI_STATUS_REDIRECT and any other
     * refusal, 0x0102 included, in its error text; the TargetAddress of
     * the Login Response is kept either way (RFC 7143 11.13.5). */
    uint16_t st = status == SCSI_STATUS_REDIRECT ? 0x0101
                                                 : login_status_from_error(iscsi_get_error(iscsi));
    const char *addr = iscsi_get_target_address(iscsi);
    attempt_failed(b, st, status == SCSI_STATUS_REDIRECT ? "login redirected"
                                                         : iscsi_get_error(iscsi),
                   (st >> 8) == 1 && addr && addr[0] ? addr : NULL);
}

static void backend_connect_cb(struct iscsi_context *iscsi, int status, void *data, void *arg)
{
    struct backend *b = arg;

    (void)data;
    if (b->attempt_over)
        return;
    if (status != SCSI_STATUS_GOOD) {
        attempt_failed(b, ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE, iscsi_get_error(iscsi), NULL);
        return;
    }
    if (iscsi_login_async(iscsi, backend_login_cb, b) != 0)
        attempt_failed(b, ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE, iscsi_get_error(iscsi), NULL);
}

static void attempt_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct backend *b = arg;
    char why[64];

    (void)fd;
    (void)what;
    snprintf(why, sizeof(why), "no answer within %u s", b->timeout_seconds);
    attempt_failed(b, ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE, why, NULL);
}

/* A context for one attempt, set up as the params said; NULL with b->err. */
static struct iscsi_context *new_context(struct backend *b)
{
    struct iscsi_context *iscsi = iscsi_create_context(b->initiator_name);

    if (!iscsi) {
        snprintf(b->err, sizeof(b->err), "cannot create a libiscsi context");
        return NULL;
    }
    int rc = b->target ? iscsi_set_targetname(iscsi, b->target) |
                         iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL)
                       : iscsi_set_session_type(iscsi, ISCSI_SESSION_DISCOVERY);
    rc |= iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE_CRC32C);
    if (b->chap_username)
        rc |= iscsi_set_initiator_username_pwd(iscsi, b->chap_username, b->chap_password);
    if (rc != 0) {
        snprintf(b->err, sizeof(b->err), "%s", iscsi_get_error(iscsi));
        iscsi_destroy_context(iscsi);
        return NULL;
    }
    /* Replaying commands on a new session is not safe (docs/ARCHITECTURE.md, "Backend"). */
    iscsi_set_noautoreconnect(iscsi, 1);
    iscsi_set_timeout(iscsi, (int)b->timeout_seconds);
    return iscsi;
}

/* Connect to the plan's current address on a fresh context (the previous
 * attempt's is destroyed here, outside its callbacks). */
static void attempt_start(struct backend *b)
{
    const struct timeval limit = { (time_t)b->timeout_seconds, 0 };

    unwatch(b);
    if (b->iscsi)
        iscsi_destroy_context(b->iscsi);
    b->attempt_over = false;
    b->iscsi = new_context(b);
    if (!b->iscsi) {
        attempt_failed(b, ISCSI_LOGIN_ERR_TARGET, b->err, NULL);
        return;
    }
    if (event_add(b->attempt_ev, &limit) < 0 ||
        iscsi_connect_async(b->iscsi, attempt_address(b), backend_connect_cb, b) != 0) {
        attempt_failed(b, ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE, iscsi_get_error(b->iscsi), NULL);
        return;
    }
    backend_watch(b);
}

static void next_attempt_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    attempt_start(arg);
}

static char *dup_or_null(const char *s, bool *ok)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *ok = false;
    return d;
}

struct backend *backend_new(struct event_base *base, const struct backend_params *p,
                            const struct backend_ops *ops, void *arg)
{
    struct backend *b = calloc(1, sizeof(*b));
    bool ok = true;

    if (!b)
        return NULL;
    b->base = base;
    b->ops = ops;
    b->arg = arg;
    b->io_fd = -1;
    b->cmds_tail = &b->cmds;
    b->timeout_seconds = p->timeout_seconds;
    b->log_limit = p->log_limit;
    b->ping_latency_us = UINT64_MAX;
    portal_plan_init(&b->plan, p->n_portals, p->preferred);
    for (size_t i = 0; i < b->plan.n; i++)
        b->portals[i] = dup_or_null(p->portals[i], &ok);
    b->target = dup_or_null(p->target, &ok);
    b->initiator_name = dup_or_null(p->initiator_name, &ok);
    b->chap_username = dup_or_null(p->chap_username, &ok);
    b->chap_password = dup_or_null(p->chap_password, &ok);
    b->tick_ev = event_new(base, -1, EV_PERSIST, backend_tick_cb, b);
    b->attempt_ev = evtimer_new(base, attempt_timeout_cb, b);
    b->next_ev = event_new(base, -1, 0, next_attempt_cb, b);
    b->flush_ev = event_new(base, -1, 0, flush_cb, b);
    if (!ok || !b->tick_ev || !b->attempt_ev || !b->next_ev || !b->flush_ev) {
        log_error("backend %s: cannot set up a session: out of memory", p->portals[0]);
        backend_free(b);
        return NULL;
    }
    return b;
}

int backend_start(struct backend *b)
{
    static const struct timeval one_second = { 1, 0 };

    if (event_add(b->tick_ev, &one_second) < 0)
        return -1;
    /* From the loop, so the outcome never reaches the owner inside this call. */
    event_active(b->next_ev, 0, 0);
    return 0;
}

void backend_free(struct backend *b)
{
    if (!b)
        return;
    b->failed = true;       /* no callbacks into the owner from here on */
    b->attempt_over = true;
    unwatch(b);
    if (b->flush_ev)
        event_free(b->flush_ev);
    if (b->tick_ev)
        event_free(b->tick_ev);
    if (b->attempt_ev)
        event_free(b->attempt_ev);
    if (b->next_ev)
        event_free(b->next_ev);
    if (b->iscsi)
        iscsi_destroy_context(b->iscsi);
    /* libiscsi calls back only while logged in (not after a Logout). */
    while (b->cmds) {
        struct backend_cmd *bc = b->cmds;
        if (!bc->abandoned)
            bc->cb(NULL, SCSI_STATUS_CANCELLED, NULL, bc->priv);
        backend_cmd_free(bc);
    }
    for (size_t i = 0; i < PORTAL_PLAN_MAX; i++)
        free(b->portals[i]);
    free(b->target);
    free(b->initiator_name);
    free(b->chap_username);
    if (b->chap_password) {
        explicit_bzero(b->chap_password, strlen(b->chap_password));
        free(b->chap_password);
    }
    free(b);
}

size_t backend_portal_index(const struct backend *b)
{
    return portal_plan_current(&b->plan);
}

const char *backend_portal_address(const struct backend *b)
{
    return attempt_address(b);
}

bool backend_usable(const struct backend *b)
{
    return !b->failed && !b->lost && b->logged_in;
}

bool backend_logged_in(const struct backend *b)
{
    return backend_usable(b);
}
