/*
 * Comparing two configurations, for a reload (SIGHUP): which targets are
 * unchanged, and whether the listen addresses moved.  Pure.
 */
#include "conf.h"

#include <string.h>
#include <strings.h>

static bool str_equal(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool conf_addr_equal(const struct conf_addr *a, const struct conf_addr *b)
{
    return strcmp(a->host, b->host) == 0 && strcmp(a->port, b->port) == 0;
}

bool conf_same_backend(const struct conf_target *a, const struct conf_target *b)
{
    return conf_addr_equal(&a->backend_portal, &b->backend_portal) &&
           strcmp(a->backend_target, b->backend_target) == 0;
}

/* max_sessions is left out: a session does not depend on it, and after a
 * reload the next login of the target counts against the new value. */
bool conf_target_equal(const struct conf_target *a, const struct conf_target *b)
{
    return strcasecmp(a->name, b->name) == 0 && conf_same_backend(a, b) &&
           str_equal(a->backend_chap_username, b->backend_chap_username) &&
           str_equal(a->backend_chap_password, b->backend_chap_password) &&
           str_equal(a->initiator_name, b->initiator_name) && a->coherence == b->coherence &&
           a->page_size == b->page_size;
}

const struct conf_target *conf_target_unchanged(const struct conf *c, const struct conf_target *t)
{
    const struct conf_target *same = conf_find_target(c, t->name);
    return same && conf_target_equal(same, t) ? same : NULL;
}

bool conf_owns_target(const struct conf *c, const struct conf_target *t)
{
    return t >= c->targets && t < c->targets + c->n_targets;
}

void conf_diff(const struct conf *old, const struct conf *next, struct conf_diff *d)
{
    memset(d, 0, sizeof(*d));
    for (size_t i = 0; i < old->n_targets; i++) {
        const struct conf_target *t = &old->targets[i];
        if (!conf_find_target(next, t->name))
            d->removed++;
        else if (conf_target_unchanged(next, t))
            d->unchanged++;
        else
            d->changed++;
    }
    for (size_t i = 0; i < next->n_targets; i++)
        d->added += conf_find_target(old, next->targets[i].name) == NULL;
    d->listen_changed = old->n_listen != next->n_listen;
    for (size_t i = 0; !d->listen_changed && i < old->n_listen; i++)
        d->listen_changed = !conf_addr_equal(&old->listen[i], &next->listen[i]);
    d->stats_listen_changed = old->stats_enabled != next->stats_enabled ||
        (old->stats_enabled && !conf_addr_equal(&old->stats_listen, &next->stats_listen));
}

void conf_keep_listeners(struct conf *next, struct conf *old)
{
    struct conf_addr *listen = next->listen;
    size_t n_listen = next->n_listen;

    next->listen = old->listen;
    next->n_listen = old->n_listen;
    old->listen = listen;
    old->n_listen = n_listen;
    next->stats_enabled = old->stats_enabled;
    next->stats_listen = old->stats_listen;
}
