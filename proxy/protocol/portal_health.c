/* Backend portal health from timings (portal_health.h). */
#include "portal_health.h"

#include <stdio.h>
#include <string.h>

void portal_health_init(struct portal_health *h)
{
    memset(h, 0, sizeof(*h));
    h->latency_us = PORTAL_LATENCY_UNKNOWN;
}

bool portal_health_set(struct portal_health *h, bool up, const char *why)
{
    bool changed = !h->known || h->up != up;

    /* The reason is kept up to date ("no answer for 7 s"); only a change
     * of state is worth a log line. */
    h->known = true;
    h->up = up;
    snprintf(h->why, sizeof(h->why), "%s", up || !why ? "" : why);
    return changed;
}

/* "no answer for N s": whole seconds, as the deadline is set. */
static bool set_silent(struct portal_health *h, uint64_t us, const char *what)
{
    char why[sizeof(h->why)];

    snprintf(why, sizeof(why), "no answer for %llu s (%s)",
             (unsigned long long)(us / 1000000), what);
    return portal_health_set(h, false, why);
}

enum portal_action portal_health_tick(struct portal_health *h, const struct portal_observation *o,
                                      uint64_t now_us, uint64_t interval_us, uint64_t deadline_us,
                                      bool *changed)
{
    bool due = h->last_probe_us == 0 || now_us - h->last_probe_us >= interval_us;

    *changed = false;
    if (o->live) {
        /* The sessions' own traffic decides; the NOP-Outs keep an idle
         * session asking, and answer for a slow command's session. */
        if (o->nop_latency_us != PORTAL_LATENCY_UNKNOWN)
            h->latency_us = o->nop_latency_us;
        if (o->stalled_us >= deadline_us)
            *changed = set_silent(h, o->stalled_us, "backend session");
        else
            *changed = portal_health_set(h, true, NULL);
        if (!due)
            return PORTAL_ACT_NONE;
        h->last_probe_us = now_us;
        return PORTAL_ACT_NOP;
    }
    if (o->probe_running) {
        uint64_t age = now_us - o->probe_sent_us;
        if (age < deadline_us)
            return PORTAL_ACT_NONE;
        *changed = set_silent(h, age, "probe login");
        return PORTAL_ACT_ABORT_PROBE;
    }
    if (!due)
        return PORTAL_ACT_NONE;
    h->last_probe_us = now_us;
    return PORTAL_ACT_PROBE;
}

bool portal_health_probe_done(struct portal_health *h, bool ok, uint64_t latency_us,
                              const char *why)
{
    if (ok)
        h->latency_us = latency_us;
    return portal_health_set(h, ok, why ? why : "probe login failed");
}
