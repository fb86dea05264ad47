/* Backend health checks (see health.h). */
#include "health.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "log.h"
#include "server.h"

#define HEALTH_INTERVAL_SECONDS 2

struct backend_health {
    struct proxy *proxy;
    const struct conf_target *target;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    bool resolved;
    bool checked;                   /* at least one check has finished */
    bool up;
    char why[160];
    struct bufferevent *probe;      /* a check in flight */
};

struct health {
    struct backend_health *b;
    size_t n;
    struct event *tick;
};

static void set_state(struct backend_health *h, bool up, const char *why)
{
    if (h->checked && h->up != up)
        log_warn("backend %s:%s of target %s is %s%s%s", h->target->backend_portal.host,
                 h->target->backend_portal.port, h->target->name, up ? "up" : "down",
                 up ? "" : ": ", up ? "" : why);
    h->checked = true;
    h->up = up;
    snprintf(h->why, sizeof(h->why), "%s", up ? "" : why);
}

static void probe_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct backend_health *h = arg;

    (void)bev;
    if (what & BEV_EVENT_CONNECTED)
        set_state(h, true, "");
    else if (what & BEV_EVENT_TIMEOUT)
        set_state(h, false, "connect timed out");
    else
        set_state(h, false, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    bufferevent_free(h->probe);
    h->probe = NULL;
}

static void check(struct backend_health *h)
{
    static const struct timeval limit = { HEALTH_INTERVAL_SECONDS, 0 };

    if (!h->resolved || h->probe)
        return;
    h->probe = bufferevent_socket_new(h->proxy->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!h->probe)
        return;
    bufferevent_setcb(h->probe, NULL, NULL, probe_event_cb, h);
    bufferevent_set_timeouts(h->probe, NULL, &limit);
    if (bufferevent_socket_connect(h->probe, (struct sockaddr *)&h->addr, (int)h->addr_len) < 0) {
        bufferevent_free(h->probe);
        h->probe = NULL;
        set_state(h, false, "cannot connect");
    }
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct health *hs = arg;

    (void)fd;
    (void)what;
    for (size_t i = 0; i < hs->n; i++)
        check(&hs->b[i]);
}

/* Resolve every target's backend portal (blocking, like at start). */
static struct health *health_new(struct proxy *p)
{
    struct health *hs = calloc(1, sizeof(*hs));

    if (!hs || !(hs->b = calloc(p->conf->n_targets, sizeof(*hs->b)))) {
        free(hs);
        return NULL;
    }
    hs->n = p->conf->n_targets;
    for (size_t i = 0; i < hs->n; i++) {
        struct backend_health *h = &hs->b[i];
        const struct conf_addr *a = &p->conf->targets[i].backend_portal;
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
        int rc = getaddrinfo(a->host, a->port, &hints, &res);
        h->proxy = p;
        h->target = &p->conf->targets[i];
        if (rc != 0) {
            set_state(h, false, gai_strerror(rc));
            continue;
        }
        memcpy(&h->addr, res->ai_addr, res->ai_addrlen);
        h->addr_len = res->ai_addrlen;
        h->resolved = true;
        freeaddrinfo(res);
    }
    return hs;
}

static void health_free(struct health *hs)
{
    if (!hs)
        return;
    for (size_t i = 0; i < hs->n; i++) {
        if (hs->b[i].probe)
            bufferevent_free(hs->b[i].probe);
    }
    if (hs->tick)
        event_free(hs->tick);
    free(hs->b);
    free(hs);
}

static int health_run(struct proxy *p, struct health *hs)
{
    static const struct timeval every = { HEALTH_INTERVAL_SECONDS, 0 };

    p->health = hs;
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

int health_reload(struct proxy *p)
{
    struct health *old = p->health, *hs;

    if (!old)
        return 0;
    hs = health_new(p);
    for (size_t i = 0; hs && i < hs->n; i++) {
        for (size_t j = 0; j < old->n; j++) {
            const struct backend_health *o = &old->b[j];
            if (o->checked && conf_addr_equal(&o->target->backend_portal,
                                              &hs->b[i].target->backend_portal)) {
                hs->b[i].checked = true;
                hs->b[i].up = o->up;
                memcpy(hs->b[i].why, o->why, sizeof(o->why));
                break;
            }
        }
    }
    health_free(old);
    p->health = NULL;
    return hs ? health_run(p, hs) : -1;
}

void health_note(struct proxy *p, const struct conf_target *t, bool up, const char *why)
{
    struct health *hs = p->health;

    for (size_t i = 0; hs && i < hs->n; i++) {
        if (conf_addr_equal(&hs->b[i].target->backend_portal, &t->backend_portal))
            set_state(&hs->b[i], up, why ? why : "unreachable");
    }
}

bool health_ok(const struct proxy *p, struct evbuffer *why)
{
    const struct health *hs = p->health;
    bool ok = p->n_listeners == p->conf->n_listen;

    if (!ok)
        evbuffer_add_printf(why, "listeners: %zu of %zu up\n", p->n_listeners, p->conf->n_listen);
    for (size_t i = 0; hs && i < hs->n; i++) {
        const struct backend_health *h = &hs->b[i];
        if (h->checked && h->up)
            continue;
        ok = false;
        evbuffer_add_printf(why, "backend %s:%s of target %s: %s\n", h->target->backend_portal.host,
                            h->target->backend_portal.port, h->target->name,
                            h->checked ? h->why : "not checked yet");
    }
    return ok;
}
