/*
 * Access rules applied: which peer addresses, InitiatorNames and CHAP
 * accounts a target (or discovery) admits.  Pure: the daemon hands in what
 * the connection and the login said.
 */
#include "conf.h"

#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

bool conf_access_requires_chap(const struct conf_access *a)
{
    return a->n_chap_accounts > 0;
}

const struct conf_account *conf_access_account(const struct conf_access *a, const char *name)
{
    for (size_t i = 0; name && i < a->n_chap_accounts; i++)
        if (strcmp(a->chap_accounts[i]->name, name) == 0)
            return a->chap_accounts[i];
    return NULL;
}

/* The first prefix bits of x and y are equal. */
static bool prefix_equal(const unsigned char *x, const unsigned char *y, unsigned prefix)
{
    unsigned bytes = prefix / 8, bits = prefix % 8;

    if (memcmp(x, y, bytes) != 0)
        return false;
    unsigned char mask = (unsigned char)(0xff00u >> bits);
    return bits == 0 || ((x[bytes] ^ y[bytes]) & mask) == 0;
}

bool conf_access_admits_address(const struct conf_access *a, const struct sockaddr *peer)
{
    const unsigned char *addr;
    int family;

    if (a->n_addresses == 0)
        return true;
    if (!peer)
        return false;
    if (peer->sa_family == AF_INET) {
        family = AF_INET;
        addr = (const unsigned char *)&((const struct sockaddr_in *)(const void *)peer)->sin_addr;
    } else if (peer->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr;
        /* A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d. */
        family = IN6_IS_ADDR_V4MAPPED(a6) ? AF_INET : AF_INET6;
        addr = a6->s6_addr + (family == AF_INET ? 12 : 0);
    } else {
        return false;
    }
    for (size_t i = 0; i < a->n_addresses; i++) {
        const struct conf_net *n = &a->addresses[i];
        if (n->family == family && prefix_equal(n->addr, addr, n->prefix))
            return true;
    }
    return false;
}

bool conf_target_admits_address(const struct conf_target *t, const struct sockaddr *peer)
{
    return conf_access_admits_address(&t->access, peer);
}

bool conf_discovery_admits_address(const struct conf *c, const struct sockaddr *peer)
{
    return conf_access_admits_address(&c->discovery, peer);
}

const struct conf_account *conf_target_allows_account(const struct conf_target *t,
                                                      const char *name)
{
    return conf_access_account(&t->access, name);
}

bool conf_target_admits_initiator(const struct conf_target *t, const char *initiator_name)
{
    if (t->n_allowed_initiators == 0)
        return true;
    for (size_t i = 0; initiator_name && i < t->n_allowed_initiators; i++) {
        const char *p = t->allowed_initiators[i];
        size_t n = strlen(p);
        if (p[n - 1] == '*' ? strncasecmp(initiator_name, p, n - 1) == 0
                            : strcasecmp(initiator_name, p) == 0)
            return true;
    }
    return false;
}
