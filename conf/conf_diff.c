/*
 * Comparing two configurations, for a reload (SIGHUP): which targets are
 * unchanged (access rules and the secrets of their accounts included), and
 * whether the listen addresses or the discovery rules moved.  Pure.
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

int conf_backend_portal_index(const struct conf_target *t, const struct conf_addr *addr)
{
    for (size_t i = 0; i < t->n_backend_portals; i++)
        if (conf_addr_equal(&t->backend_portals[i], addr))
            return (int)i;
    return -1;
}

bool conf_same_backend(const struct conf_target *a, const struct conf_target *b)
{
    if (strcmp(a->backend_target, b->backend_target) != 0)
        return false;
    for (size_t i = 0; i < a->n_backend_portals; i++)
        if (conf_backend_portal_index(b, &a->backend_portals[i]) >= 0)
            return true;
    return false;
}

/* The same portals in the same order (the order is the login's preference). */
static bool portals_equal(const struct conf_target *a, const struct conf_target *b)
{
    if (a->n_backend_portals != b->n_backend_portals)
        return false;
    for (size_t i = 0; i < a->n_backend_portals; i++)
        if (!conf_addr_equal(&a->backend_portals[i], &b->backend_portals[i]))
            return false;
    return true;
}

/* Same name and secret (both accounts, or neither). */
static bool account_equal(const struct conf_account *a, const struct conf_account *b)
{
    return (!a && !b) ||
           (a && b && strcmp(a->name, b->name) == 0 && a->secret_len == b->secret_len &&
            memcmp(a->secret, b->secret, a->secret_len) == 0);
}

bool conf_net_equal(const struct conf_net *a, const struct conf_net *b)
{
    return a->family == b->family && a->prefix == b->prefix &&
           memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* Every entry equal, in the same order (a new order counts as a change). */
static bool access_equal(const struct conf_access *a, const struct conf_access *b)
{
    if (a->n_chap_accounts != b->n_chap_accounts || a->n_addresses != b->n_addresses ||
        a->chap_algorithms != b->chap_algorithms ||
        !account_equal(a->mutual_account, b->mutual_account))
        return false;
    for (size_t i = 0; i < a->n_chap_accounts; i++)
        if (!account_equal(a->chap_accounts[i], b->chap_accounts[i]))
            return false;
    for (size_t i = 0; i < a->n_addresses; i++)
        if (!conf_net_equal(&a->addresses[i], &b->addresses[i]))
            return false;
    return true;
}

static bool initiators_equal(const struct conf_target *a, const struct conf_target *b)
{
    if (a->n_allowed_initiators != b->n_allowed_initiators)
        return false;
    for (size_t i = 0; i < a->n_allowed_initiators; i++)
        if (strcasecmp(a->allowed_initiators[i], b->allowed_initiators[i]) != 0)
            return false;
    return true;
}

bool conf_target_same_service(const struct conf_target *a, const struct conf_target *b)
{
    return strcasecmp(a->name, b->name) == 0 && conf_same_backend(a, b) &&
           account_equal(a->backend_account, b->backend_account) &&
           str_equal(a->initiator_name, b->initiator_name) && a->coherence == b->coherence &&
           a->page_size == b->page_size;
}

/* max_sessions is left out: a session does not depend on it, and after a
 * reload the next login of the target counts against the new value. */
bool conf_target_equal(const struct conf_target *a, const struct conf_target *b)
{
    return conf_target_same_service(a, b) && portals_equal(a, b) &&
           access_equal(&a->access, &b->access) &&
           initiators_equal(a, b) && a->allow_anonymous == b->allow_anonymous;
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
    d->discovery_changed = !access_equal(&old->discovery, &next->discovery);
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
