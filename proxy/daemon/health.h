/*
 * Backend health for /healthz: every few seconds the proxy opens (and at
 * once closes) a TCP connection to each target's backend portal, without
 * blocking the loop; backend logins and lost sessions update it too.
 */
#ifndef ISP_HEALTH_H
#define ISP_HEALTH_H

#include <stdbool.h>

struct proxy;
struct conf_target;
struct evbuffer;

/* Resolve the portals (once, at start) and start checking.  0 or -1 (logged). */
int health_start(struct proxy *p);
void health_stop(struct proxy *p);
/* After a reload: check the new configuration's backends; a portal checked
 * before keeps its last state until its next check.  0 or -1 (logged). */
int health_reload(struct proxy *p);
/* A backend login succeeded / t's backend portal could not be reached. */
void health_note(struct proxy *p, const struct conf_target *t, bool up, const char *why);
/* true if every listener and every backend is up; else false, with one line
 * per problem appended to why. */
bool health_ok(const struct proxy *p, struct evbuffer *why);

#endif
