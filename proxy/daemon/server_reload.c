/*
 * SIGHUP: the configuration file is read again.  A bad file changes
 * nothing.  A good one sets the log level and destination, and the
 * targets: sessions of targets whose settings did not change carry on
 * untouched (their pointers move to the new configuration); sessions of
 * removed or changed targets are asked to log out, like at shutdown, and
 * closed after shutdown_timeout.  Listen addresses need a restart: the
 * running listeners stay.  What still points into an earlier configuration
 * keeps it alive until proxy_reap finds nothing does (docs/ARCHITECTURE.md).
 */
#include <stdlib.h>

#include "health.h"
#include "log.h"
#include "server.h"
#include "stats.h"

static bool conf_in_use(const struct proxy *p, const struct conf *c)
{
    const struct conn *cn;
    const struct lun *l;

    TAILQ_FOREACH(cn, &p->conns, link) {
        if (cn->target && conf_owns_target(c, cn->target))
            return true;
    }
    TAILQ_FOREACH(l, &p->luns, link) {
        if (conf_owns_target(c, l->target))
            return true;
    }
    return false;
}

/* An object no target of the configuration in force made is freed once
 * nothing uses it (sessions, tasks and probes hold references). */
static bool lun_orphaned(const struct proxy *p, const struct lun *l)
{
    return l->refs == 0 && !conf_owns_target(p->conf, l->target);
}

void proxy_reap(struct proxy *p)
{
    struct lun *l, *next;

    for (l = TAILQ_FIRST(&p->luns); l; l = next) {
        next = TAILQ_NEXT(l, link);
        if (lun_orphaned(p, l))
            lun_free(l);
    }
    lun_reclaim(p);
    for (size_t i = 0; i < p->n_retired;) {
        if (conf_in_use(p, p->retired[i])) {
            i++;
            continue;
        }
        conf_free(p->retired[i]);
        p->retired[i] = p->retired[--p->n_retired];
    }
}

static bool session_retired(const struct proxy *p, const struct conn *c)
{
    return c->target && !conf_owns_target(p->conf, c->target);
}

static void reload_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct proxy *p = arg;
    struct conn *c;

    (void)fd;
    (void)what;
    TAILQ_FOREACH(c, &p->conns, link) {
        if (session_retired(p, c))
            conn_close(c, "target removed or changed by a reload; logout timed out");
    }
}

/* Sessions of targets `next` removes or changes (beyond who may log in):
 * asked to log out (Full Feature Phase) or closed (logging in).  The others
 * move to next's target.  Returns how many were asked. */
static unsigned end_retired_sessions(struct proxy *p, const struct conf *next)
{
    struct conn *c;
    unsigned asked = 0;

    TAILQ_FOREACH(c, &p->conns, link) {
        if (!c->target || c->state == CONN_DRAINING || c->state == CONN_CLOSING)
            continue;
        const struct conf_target *same = conf_target_unchanged(next, c->target);
        if (!same) {
            /* Only who may log in changed: sessions already in stay. */
            const struct conf_target *n = conf_find_target(next, c->target->name);
            if (n && conf_target_same_service(n, c->target))
                same = n;
        }
        if (same) {
            c->target = same;
        } else if (session_retired(p, c)) {
            continue;               /* asked at an earlier reload */
        } else if (c->state == CONN_FFP && next->shutdown_timeout) {
            log_info("%s: target %s removed or changed by a reload; asking initiator %s to "
                     "log out", c->peer, c->target->name, c->params.initiator_name);
            session_request_logout(c, next->shutdown_timeout);
            asked++;
        } else {
            conn_close(c, "target removed or changed by a reload");
        }
    }
    return asked;
}

/* LUNs follow their target, or another of the same backend; the rest are
 * orphans until their sessions are gone. */
static void retarget_luns(struct proxy *p, const struct conf *next)
{
    struct lun *l;

    TAILQ_FOREACH(l, &p->luns, link) {
        const struct conf_target *t = conf_target_unchanged(next, l->target);
        for (size_t i = 0; !t && i < next->n_targets; i++) {
            if (conf_same_backend(&next->targets[i], l->target))
                t = &next->targets[i];
        }
        if (t)
            lun_retarget(l, t);
    }
}

/* The running listeners stay; say so when the file asks for others. */
static void keep_listeners(struct conf *next, struct conf *cur)
{
    struct conf_diff d;
    char addr[300] = "";

    conf_diff(cur, next, &d);
    conf_keep_listeners(next, cur);
    if (d.listen_changed) {
        conf_addr_format(&next->listen[0], addr, sizeof(addr));
        log_warn("reload: listen changed; it takes effect at the next restart (still "
                 "listening on %s%s)", addr, next->n_listen > 1 ? " and others" : "");
    }
    if (d.stats_listen_changed) {
        if (next->stats_enabled)
            conf_addr_format(&next->stats_listen, addr, sizeof(addr));
        log_warn("reload: stats_listen changed; it takes effect at the next restart "
                 "(stats still %s%s)", next->stats_enabled ? "on " : "off", addr);
    }
}

void proxy_reload(struct proxy *p)
{
    struct conf *cur = p->conf, *next = NULL;
    struct conf_diff d;
    char err[512];

    if (p->stopping) {
        log_warn("reload: ignored, the proxy is stopping");
        return;
    }
    if (conf_load(cur->path, &next, err, sizeof(err)) < 0) {
        log_error("reload refused, the running configuration stays: %s", err);
        return;
    }
    struct conf **retired = realloc(p->retired, (p->n_retired + 1) * sizeof(*retired));
    if (retired)
        p->retired = retired;
    if (!retired) {
        conf_free(next);
        log_error("reload refused, the running configuration stays: out of memory");
        return;
    }
    conf_diff(cur, next, &d);
    keep_listeners(next, cur);
    unsigned asked = end_retired_sessions(p, next);
    retarget_luns(p, next);
    p->retired[p->n_retired++] = cur;
    p->conf = next;
    log_set_level(next->log_level);
    log_use_syslog(next->log_syslog);
    proxy_warn_anonymous(next);
    if (health_reload(p) < 0)
        log_error("reload: backend health checks stopped: out of memory");
    stats_reload(p);
    conn_limits_check_fds(next);
    log_info("reload: %s: targets %zu unchanged, %zu changed, %zu added, %zu removed; "
             "log_level %s, log %s; %u initiator(s) asked to log out", next->path, d.unchanged,
             d.changed, d.added, d.removed, log_level_name(next->log_level),
             next->log_syslog ? "syslog" : "stderr", asked);
    if (asked) {
        struct timeval tv = { (time_t)next->shutdown_timeout, 0 };
        if (!p->reload_ev)
            p->reload_ev = evtimer_new(p->base, reload_timeout_cb, p);
        if (!p->reload_ev || evtimer_add(p->reload_ev, &tv) < 0)
            reload_timeout_cb(-1, 0, p);
    }
    proxy_reap(p);
}
