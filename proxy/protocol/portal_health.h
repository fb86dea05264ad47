/*
 * Whether a backend portal answers (pure): its state from the timings the
 * daemon observes, and what to send it next.  Through a portal with
 * logged-in backend sessions, their own commands and a NOP-Out every
 * interval (RFC 7143 11.18) show whether the SAN answers: a session that
 * has waited deadline or longer for any answer marks the portal down.
 * Through a portal without one, a short discovery login (RFC 7143 4.3,
 * SessionType=Discovery) every interval does, with the same deadline.
 * docs/ARCHITECTURE.md, "Backend health".
 */
#ifndef ISP_PORTAL_HEALTH_H
#define ISP_PORTAL_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PORTAL_LATENCY_UNKNOWN UINT64_MAX

struct portal_health {
    bool known;             /* judged at least once */
    bool up;
    uint64_t latency_us;    /* last probe's round trip (login or NOP-Out), or unknown */
    uint64_t last_probe_us; /* when the last probe or NOP-Outs were sent, 0 = never */
    char why[160];          /* down: why */
};

/* What the daemon sees of one portal at a tick. */
struct portal_observation {
    unsigned live;          /* logged-in backend sessions through the portal */
    uint64_t stalled_us;    /* the longest any of them has waited for an answer
                               with commands or a NOP-Out outstanding (0: none) */
    uint64_t nop_latency_us;/* the last NOP-Out round trip among them, or unknown */
    bool probe_running;     /* a probe login is under way ... */
    uint64_t probe_sent_us; /* ... since then */
};

enum portal_action {
    PORTAL_ACT_NONE,
    PORTAL_ACT_PROBE,       /* start a probe login */
    PORTAL_ACT_ABORT_PROBE, /* the probe is overdue: end it (already judged down) */
    PORTAL_ACT_NOP,         /* a NOP-Out on each live session that has none outstanding */
};

void portal_health_init(struct portal_health *h);
/* Set the state (why: when down); true when up/down changed or was
 * unknown: worth a log line. */
bool portal_health_set(struct portal_health *h, bool up, const char *why);
/*
 * One tick at now_us: judge the portal from o, and say what to send
 * (interval_us between probes or NOP-Outs, deadline_us for an answer).
 * *changed as portal_health_set.
 */
enum portal_action portal_health_tick(struct portal_health *h, const struct portal_observation *o,
                                      uint64_t now_us, uint64_t interval_us, uint64_t deadline_us,
                                      bool *changed);
/* A probe login ended after latency_us: answered (ok), or failed (why).
 * Returns as portal_health_set. */
bool portal_health_probe_done(struct portal_health *h, bool ok, uint64_t latency_us,
                              const char *why);

#endif
