/*
 * Limits on frontend connections, so that nobody exhausts the proxy before
 * logging in (docs/ARCHITECTURE.md, "Limits"): max_connections and
 * max_connections_per_address at accept, login_timeout from accept to Full
 * Feature Phase, a target's max_sessions at login.
 */
#include <inttypes.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "clock.h"
#include "conn.h"
#include "log.h"
#include "server.h"
#include "stats.h"

const char *conn_refusal_name(enum conn_refusal r)
{
    static const char *const names[CONN_REFUSED_COUNT] = {
        "limit_total", "limit_address", "login_timeout", "limit_sessions",
    };
    return (unsigned)r < CONN_REFUSED_COUNT ? names[r] : "?";
}

/* Refusals at accept cost the peer one connect each, so their lines go
 * through the per-address rate limit (proxy->refusal_log). */
static void log_refusal(struct proxy *p, const char *addr, const char *what)
{
    struct log_limit_verdict v = log_limit_check(&p->refusal_log, addr, clock_now_us());

    if (!v.log)
        return;
    if (v.suppressed && v.shared)
        log_warn("%s: connection refused: %s (and %" PRIu64 " refusals of other addresses "
                 "not logged since the last such line)", addr, what, v.suppressed);
    else if (v.suppressed)
        log_warn("%s: connection refused: %s (and %" PRIu64 " more from this address not "
                 "logged since its last line)", addr, what, v.suppressed);
    else
        log_warn("%s: connection refused: %s", addr, what);
}

bool conn_admit(struct proxy *p, const char *addr)
{
    const struct conf *cf = p->conf;
    const struct conn *c;
    unsigned total = 0, here = 0;
    char what[96];
    enum conn_refusal r;

    /* Connections being torn down still hold their socket: they count. */
    TAILQ_FOREACH(c, &p->conns, link) {
        total++;
        here += strcmp(c->addr, addr) == 0;
    }
    if (total >= cf->max_connections) {
        r = CONN_REFUSED_LIMIT_TOTAL;
        snprintf(what, sizeof(what), "%u connections open (max_connections)", total);
    } else if (here >= cf->max_connections_per_address) {
        r = CONN_REFUSED_LIMIT_ADDRESS;
        snprintf(what, sizeof(what), "%u connections from this address "
                 "(max_connections_per_address)", here);
    } else {
        return true;
    }
    p->n.connections_refused[r]++;
    log_refusal(p, addr, what);
    return false;
}

void conn_login_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    char why[80];

    (void)fd;
    (void)what;
    /* Only the initiator's part of the login is timed: while the backend
     * logs in (CONN_LOGIN_BACKEND) no input is read, and backend_timeout
     * bounds that step; a failed login is already draining. */
    if (c->state != CONN_LOGIN)
        return;
    c->proxy->n.connections_refused[CONN_REFUSED_LOGIN_TIMEOUT]++;
    snprintf(why, sizeof(why), "no login within login_timeout, %u s",
             c->proxy->conf->login_timeout);
    conn_close(c, why);
}

void conn_login_timer_start(struct conn *c)
{
    struct timeval tv = { (time_t)c->proxy->conf->login_timeout, 0 };

    evtimer_add(c->login_ev, &tv);
}

void conn_login_timer_stop(struct conn *c)
{
    evtimer_del(c->login_ev);
}

uint16_t conn_session_limit(struct conn *c)
{
    const struct conf_target *t = c->target;
    const struct conn *o;
    unsigned n = 0;

    if (!t->max_sessions)
        return 0;
    /* By name: after a reload, sessions of this target may still point
     * into the configuration it came from. */
    TAILQ_FOREACH(o, &c->proxy->conns, link) {
        if (o != c && o->target && (o->state == CONN_LOGIN_BACKEND || o->state == CONN_FFP) &&
            strcasecmp(o->target->name, t->name) == 0)
            n++;
    }
    if (n < t->max_sessions)
        return 0;
    c->proxy->n.connections_refused[CONN_REFUSED_LIMIT_SESSIONS]++;
    conn_warn(c, "%s: target %s has %u sessions (max_sessions %u): login of initiator %s refused",
             c->peer, t->name, n, t->max_sessions, iscsi_login_params(c->login)->initiator_name);
    return ISCSI_LOGIN_ERR_TOO_MANY_CONNECTIONS;
}

void conn_limits_check_fds(const struct conf *cf)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return;
    /* A session holds its socket and its backend session's; add the stats
     * endpoint's connections, the listeners, the health checks, and a few
     * for the loop, stdio and syslog. */
    uint64_t need = 2ull * cf->max_connections + STATS_MAX_CONNECTIONS + cf->n_listen +
                    cf->n_targets + 16;
    if (rl.rlim_cur < need)
        log_warn("max_connections %u needs about %" PRIu64 " file descriptors, but "
                 "RLIMIT_NOFILE is %" PRIu64 ": raise it (LimitNOFILE= in the systemd unit) "
                 "or lower max_connections", cf->max_connections, need, (uint64_t)rl.rlim_cur);
}
