/* Backend health and the portal each login starts with (see health.h). */
#include "health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "backend.h"
#include "clock.h"
#include "log.h"
#include "portal_health.h"
#include "server.h"

/* Judged twice a second: a hung SAN shows within health_deadline + 3 s
 * (a probe or NOP-Out is due every 2 s, judged at the next tick). */
#define HEALTH_TICK_US 500000
#define HEALTH_INTERVAL_US 2000000u     /* between probes, or NOP-Outs on a session */
/* Probes log in as the target's initiator_name, else as this. */
#define HEALTH_INITIATOR "iqn.2026-11.org.example:iscsi-sparse-proxy"

struct portal_entry {
    struct target_entry *te;
    size_t index;                   /* in te->target's backend_portal list */
    char text[300];                 /* "host:port" */
    struct portal_health st;
    struct backend *probe;          /* a discovery login, in flight or logging out */
    bool probe_answered;
    uint64_t probe_sent_us;
};

struct target_entry {
    struct health *hs;
    const struct conf_target *target;
    size_t preferred;               /* the portal that answered the last login */
    struct portal_entry portals[CONF_MAX_BACKEND_PORTALS];
};

struct health {
    struct proxy *proxy;
    struct target_entry *t;
    size_t n;
    struct event *tick;
};

static void log_change(const struct portal_entry *pe)
{
    if (pe->st.up)
        log_warn("backend portal %s of target %s is up", pe->text, pe->te->target->name);
    else
        log_warn("backend portal %s of target %s is down: %s", pe->text, pe->te->target->name,
                 pe->st.why);
}

static void probe_end(struct portal_entry *pe)
{
    backend_free(pe->probe);
    pe->probe = NULL;
    pe->probe_answered = false;
}

static void probe_login_done(void *arg, uint16_t status, const char *err)
{
    struct portal_entry *pe = arg;
    char why[160];

    /* A Login Response refusing the initiator (class 2: a SAN that allows
     * no discovery session, or not to this name) still shows that the SAN
     * answers; a target error, or none, does not (RFC 7143 11.13.5). */
    bool answers = status == 0 || (status >> 8) == 2;

    pe->probe_answered = true;
    snprintf(why, sizeof(why), "probe login: status 0x%04x: %s", (unsigned)status,
             err ? err : "-");
    if (portal_health_probe_done(&pe->st, answers, clock_now_us() - pe->probe_sent_us, why))
        log_change(pe);
    if (status == 0)
        backend_logout(pe->probe);  /* freed at the next tick */
}

static void probe_lost(void *arg, const char *err)
{
    (void)arg;
    (void)err;      /* the connection closed after the logout */
}

static const struct backend_ops probe_ops = {
    .on_login = probe_login_done,
    .on_failure = probe_lost,
};

/* A discovery session: as the target's backend account and initiator name
 * would log in, so a SAN that checks them answers the probe as it would. */
static void probe_start(struct portal_entry *pe)
{
    const struct conf_target *t = pe->te->target;
    const struct conf *cf = pe->te->hs->proxy->conf;
    const char *portal = pe->text;
    struct backend_params bp = {
        .portals = &portal,
        .n_portals = 1,
        .initiator_name = t->initiator_name ? t->initiator_name : HEALTH_INITIATOR,
        .chap_username = t->backend_account ? t->backend_account->name : NULL,
        .chap_password = t->backend_account ? (const char *)t->backend_account->secret : NULL,
        /* portal_health_tick ends a probe at the deadline and says why;
         * libiscsi's own limit is only a backstop past the next tick. */
        .timeout_seconds = cf->health_deadline + 2,
        .log_limit = &pe->te->hs->proxy->peer_log,
    };

    pe->probe = backend_new(pe->te->hs->proxy->base, &bp, &probe_ops, pe);
    pe->probe_sent_us = clock_now_us();
    if (pe->probe && backend_start(pe->probe) < 0)
        probe_end(pe);
}

/* The configured portal of t a live session c went through. */
static const struct conf_addr *session_portal(const struct conn *c)
{
    return &c->target->backend_portals[backend_portal_index(c->backend)];
}

static bool session_on(const struct conn *c, const struct portal_entry *pe)
{
    const struct conf_target *t = pe->te->target;

    return c->target && c->state == CONN_FFP && c->backend && backend_logged_in(c->backend) &&
           conf_same_backend(c->target, t) &&
           conf_addr_equal(session_portal(c), &t->backend_portals[pe->index]);
}

static void observe(const struct portal_entry *pe, uint64_t now, struct portal_observation *o)
{
    const struct conn *c;

    *o = (struct portal_observation){ .nop_latency_us = PORTAL_LATENCY_UNKNOWN,
                                      .probe_running = pe->probe && !pe->probe_answered,
                                      .probe_sent_us = pe->probe_sent_us };
    TAILQ_FOREACH(c, &pe->te->hs->proxy->conns, link) {
        if (!session_on(c, pe))
            continue;
        o->live++;
        uint64_t w = backend_waiting_us(c->backend, now);
        if (w > o->stalled_us)
            o->stalled_us = w;
        uint64_t l = backend_ping_latency_us(c->backend);
        if (l != UINT64_MAX)
            o->nop_latency_us = l;
    }
}

static void check_portal(struct portal_entry *pe, uint64_t now)
{
    const struct conf *cf = pe->te->hs->proxy->conf;
    struct portal_observation o;
    struct conn *c;
    bool changed;

    if (pe->probe && pe->probe_answered)
        probe_end(pe);
    observe(pe, now, &o);
    enum portal_action a = portal_health_tick(&pe->st, &o, now, HEALTH_INTERVAL_US,
                                              (uint64_t)cf->health_deadline * 1000000u, &changed);
    if (changed)
        log_change(pe);
    switch (a) {
    case PORTAL_ACT_PROBE:
        probe_start(pe);
        break;
    case PORTAL_ACT_ABORT_PROBE:
        probe_end(pe);
        break;
    case PORTAL_ACT_NOP:
        TAILQ_FOREACH(c, &pe->te->hs->proxy->conns, link) {
            if (session_on(c, pe))
                backend_ping(c->backend);
        }
        break;
    case PORTAL_ACT_NONE:
        break;
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct health *hs = arg;
    uint64_t now = clock_now_us();

    (void)fd;
    (void)what;
    for (size_t i = 0; i < hs->n; i++)
        for (size_t k = 0; k < hs->t[i].target->n_backend_portals; k++)
            check_portal(&hs->t[i].portals[k], now);
}

static struct health *health_new(struct proxy *p)
{
    struct health *hs = calloc(1, sizeof(*hs));

    if (!hs || !(hs->t = calloc(p->conf->n_targets, sizeof(*hs->t)))) {
        free(hs);
        return NULL;
    }
    hs->proxy = p;
    hs->n = p->conf->n_targets;
    for (size_t i = 0; i < hs->n; i++) {
        struct target_entry *te = &hs->t[i];
        te->hs = hs;
        te->target = &p->conf->targets[i];
        for (size_t k = 0; k < te->target->n_backend_portals; k++) {
            struct portal_entry *pe = &te->portals[k];
            pe->te = te;
            pe->index = k;
            conf_addr_format(&te->target->backend_portals[k], pe->text, sizeof(pe->text));
            portal_health_init(&pe->st);
        }
    }
    return hs;
}

static void health_free(struct health *hs)
{
    if (!hs)
        return;
    for (size_t i = 0; i < hs->n; i++)
        for (size_t k = 0; k < CONF_MAX_BACKEND_PORTALS; k++)
            backend_free(hs->t[i].portals[k].probe);
    if (hs->tick)
        event_free(hs->tick);
    free(hs->t);
    free(hs);
}

static int health_run(struct proxy *p, struct health *hs)
{
    static const struct timeval every = { 0, HEALTH_TICK_US };

    p->health = hs;
    if (!p->conf->stats_enabled)
        return 0;
    hs->tick = event_new(p->base, -1, EV_PERSIST, tick_cb, hs);
    if (!hs->tick || event_add(hs->tick, &every) < 0)
        return -1;
    tick_cb(-1, 0, hs);         /* first answers right away */
    return 0;
}

int health_start(struct proxy *p)
{
    struct health *hs = health_new(p);

    return hs ? health_run(p, hs) : -1;
}

void health_stop(struct proxy *p)
{
    health_free(p->health);
    p->health = NULL;
}

/* The entries of targets with the same backend as t (the same target,
 * possibly of another configuration after a reload). */
static bool entry_of(const struct target_entry *te, const struct conf_target *t)
{
    return te->target == t ||
           (strcasecmp(te->target->name, t->name) == 0 && conf_same_backend(te->target, t));
}

int health_reload(struct proxy *p)
{
    struct health *old = p->health, *hs;

    if (!old)
        return 0;
    hs = health_new(p);
    for (size_t i = 0; hs && i < hs->n; i++) {
        struct target_entry *te = &hs->t[i];
        for (size_t j = 0; j < old->n; j++) {
            const struct target_entry *o = &old->t[j];
            if (!conf_same_backend(o->target, te->target))
                continue;
            for (size_t k = 0; k < te->target->n_backend_portals; k++) {
                int at = conf_backend_portal_index(o->target, &te->target->backend_portals[k]);
                if (at < 0)
                    continue;
                te->portals[k].st = o->portals[at].st;
                if (entry_of(o, te->target) && (size_t)at == o->preferred)
                    te->preferred = k;
            }
        }
    }
    health_free(old);
    p->health = NULL;
    return hs ? health_run(p, hs) : -1;
}

size_t health_preferred_portal(const struct proxy *p, const struct conf_target *t)
{
    const struct health *hs = p->health;

    for (size_t i = 0; hs && i < hs->n; i++) {
        const struct target_entry *te = &hs->t[i];
        if (!entry_of(te, t))
            continue;
        int at = conf_backend_portal_index(t, &te->target->backend_portals[te->preferred]);
        return at < 0 ? 0 : (size_t)at;
    }
    return 0;
}

void health_login_result(struct proxy *p, const struct conf_target *t, size_t portal, bool up,
                         const char *why)
{
    struct health *hs = p->health;

    for (size_t i = 0; hs && i < hs->n; i++) {
        struct target_entry *te = &hs->t[i];
        int at = conf_backend_portal_index(te->target, &t->backend_portals[portal]);
        if (at < 0 || !conf_same_backend(te->target, t))
            continue;
        if (up && entry_of(te, t))
            te->preferred = (size_t)at;
        if (portal_health_set(&te->portals[at].st, up, why ? why : "unreachable"))
            log_change(&te->portals[at]);
    }
}

bool health_ok(const struct proxy *p, struct evbuffer *why)
{
    const struct health *hs = p->health;
    bool ok = p->n_listeners == p->conf->n_listen;

    if (!ok)
        evbuffer_add_printf(why, "listeners: %zu of %zu up\n", p->n_listeners, p->conf->n_listen);
    for (size_t i = 0; hs && i < hs->n; i++) {
        const struct target_entry *te = &hs->t[i];
        size_t n = te->target->n_backend_portals, up = 0;
        for (size_t k = 0; k < n; k++)
            up += te->portals[k].st.known && te->portals[k].st.up;
        ok = ok && up > 0;
        for (size_t k = 0; k < n && up < n; k++) {
            const struct portal_entry *pe = &te->portals[k];
            if (pe->st.known && pe->st.up)
                continue;
            evbuffer_add_printf(why, "backend portal %s of target %s: %s%s\n", pe->text,
                                te->target->name, pe->st.known ? pe->st.why : "not checked yet",
                                up ? " (the target answers through another portal)" : "");
        }
    }
    return ok;
}

void health_each(const struct proxy *p, void (*fn)(const struct health_portal_info *i, void *arg),
                 void *arg)
{
    const struct health *hs = p->health;

    for (size_t i = 0; hs && i < hs->n; i++) {
        const struct target_entry *te = &hs->t[i];
        for (size_t k = 0; k < te->target->n_backend_portals; k++) {
            const struct portal_entry *pe = &te->portals[k];
            struct health_portal_info info = {
                .target = te->target->name, .portal = pe->text, .known = pe->st.known,
                .up = pe->st.known && pe->st.up, .why = pe->st.why,
                .latency_us = pe->st.latency_us,
            };
            fn(&info, arg);
        }
    }
}
