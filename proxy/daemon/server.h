/* The proxy as a whole: configuration, listeners, live connections. */
#ifndef ISP_SERVER_H
#define ISP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "conf.h"
#include "conn.h"
#include "iscsi_discovery.h"
#include "iscsi_login.h"
#include "log_limit.h"
#include "lun.h"

/* Proxy-wide counters (the stats endpoint reads them). */
struct proxy_counters {
    uint64_t connections_total;
    uint64_t sessions_total;            /* logins that reached Full Feature Phase */
    uint64_t login_failures[ISCSI_LOGIN_FAILURE_COUNT];    /* by reason */
    uint64_t rejected_pdus[16];         /* by Reject reason (RFC 7143 11.17.1) */
    uint64_t protocol_closes_total;     /* connections closed for bad input */
    uint64_t connections_refused[CONN_REFUSED_COUNT];   /* by reason (conn_limits.c) */
    uint64_t accept_pauses;             /* accept() out of descriptors: paused (server_accept.c) */
    /* event_poll.c: waits in epoll_wait, polls that found traffic (a sleep
     * saved), and time spent polling for nothing */
    uint64_t loop_waits, loop_poll_hits, loop_poll_idle_us;
};

struct proxy {
    struct event_base *base;
    struct conf *conf;               /* the configuration in force (owned) */
    /* Earlier configurations that sessions of removed or changed targets, or
     * LUNs no target reaches any more, still point into; freed when nothing
     * does (server_reload.c). */
    struct conf **retired;
    size_t n_retired;
    struct event *reload_ev;         /* closes those sessions after shutdown_timeout */
    struct evconnlistener **listeners;
    size_t n_listeners;
    bool accept_paused;              /* out of descriptors: listeners off a moment */
    struct event *accept_ev;         /* ... until this fires */
    struct conn_list conns;
    unsigned conns_pipelining;       /* of them, those with more than one command in
                                        flight (task.c; event_poll.c polls while 0) */
    struct lun_list luns;
    unsigned negatives_blocked;      /* lun_guard.c: answers teach no negatives */
    struct proxy_counters n;
    struct stats_endpoint *stats;    /* stats_http.c; NULL when stats_listen is empty */
    struct health *health;           /* backend checks for /healthz */
    bool stopping;
    struct event *shutdown_ev;       /* shutdown_timeout */
    uint16_t next_tsih;
    /* The portals SendTargets answers with (the targets: session.c). */
    struct iscsi_portal *portals;
    char (*portal_text)[80];
    size_t n_portals;
    struct log_limit refusal_log;    /* connections refused at accept, per address */
    struct log_limit peer_log;       /* lines an initiator's connection causes (conn_log) */
};

/* server_accept.c: accept() out of descriptors pauses every listener a
 * moment (the evconnlistener error callback; arg: the proxy); the
 * descriptor limit raised to its hard limit at start. */
struct evconnlistener;
void proxy_accept_error_cb(struct evconnlistener *l, void *arg);
void proxy_raise_fd_limit(void);

/* Takes conf (freed by proxy_free) unless it fails. */
struct proxy *proxy_new(struct event_base *base, struct conf *conf);
/* A warning per target open to anyone (allow_anonymous), at every start
 * and reload. */
void proxy_warn_anonymous(const struct conf *c);
/* Open every listen portal; -1 (logged) if any fails. */
int proxy_listen(struct proxy *p);
/* SIGTERM / SIGINT: stop accepting, ask every logged-in initiator to log out
 * (Asynchronous Message), close the other connections, and end the loop
 * when no connection is left or shutdown_timeout has passed.  A second call
 * closes everything at once. */
void proxy_shutdown(struct proxy *p);
/* A connection is gone (called from its teardown). */
void proxy_conn_gone(struct proxy *p);
/* Free what is left once the loop has run the teardowns. */
void proxy_free(struct proxy *p);
/* A fresh non-zero session handle. */
uint16_t proxy_alloc_tsih(struct proxy *p);

/* server_reload.c */
/* SIGHUP: read the configuration file again and apply it (see
 * docs/ARCHITECTURE.md, "Reload"); a bad file is logged and changes nothing. */
void proxy_reload(struct proxy *p);
/* Free retired configurations and LUNs of removed targets that nothing
 * points to any more (after a connection is gone, and at a reload). */
void proxy_reap(struct proxy *p);

#endif
