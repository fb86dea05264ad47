/*
 * Backend health for /healthz and /metrics: whether each portal of each
 * target answers iSCSI, judged by portal_health.c from the backend
 * sessions' own traffic and NOP-Outs, or, through a portal without a
 * session, from a short discovery login every 2 s; each with the deadline
 * health_deadline.  Also where each target's next backend login starts:
 * the portal that answered the last one (docs/ARCHITECTURE.md, "Backend").
 */
#ifndef ISP_HEALTH_H
#define ISP_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proxy;
struct conf_target;
struct evbuffer;

/* Start: the portal memory always, the checks when the stats endpoint is
 * on (nobody else reads them).  0 or -1 (logged). */
int health_start(struct proxy *p);
void health_stop(struct proxy *p);
/* After a reload: the new configuration's targets; a portal known before
 * keeps its state and a target its preferred portal.  0 or -1 (logged). */
int health_reload(struct proxy *p);
/* The index in t's backend_portal list that t's next login tries first. */
size_t health_preferred_portal(const struct proxy *p, const struct conf_target *t);
/* A backend login of t through portal index `portal` of t's list logged
 * in (up), or could not reach it (down, why). */
void health_login_result(struct proxy *p, const struct conf_target *t, size_t portal, bool up,
                         const char *why);
/* true if every listener is up and every target has a portal up; else
 * false.  One line per problem is appended to why (also for a portal down
 * of a target still reachable through another). */
bool health_ok(const struct proxy *p, struct evbuffer *why);

/* One portal, for /metrics and /stats. */
struct health_portal_info {
    const char *target;             /* the target's name */
    const char *portal;             /* "host:port" */
    bool known, up;
    const char *why;                /* down: why */
    uint64_t latency_us;            /* last probe round trip, or UINT64_MAX
                                       (PORTAL_LATENCY_UNKNOWN) */
};
/* fn for every portal of every target, in configuration order. */
void health_each(const struct proxy *p, void (*fn)(const struct health_portal_info *i, void *arg),
                 void *arg);

#endif
