/* Backend portal order and login redirection (backend_portals.h). */
#include "backend_portals.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* 1..5 decimal digits in [s, e), at most max; -1 otherwise. */
static long parse_number(const char *s, const char *e, long max)
{
    long v = 0;

    if (e <= s || e - s > 5)
        return -1;
    for (; s < e; s++) {
        if (!isdigit((unsigned char)*s))
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v <= max ? v : -1;
}

static bool host_name_ok(const char *s, const char *e)
{
    if (e <= s || e - s > 255 || *s == '-' || *s == '.')
        return false;
    for (; s < e; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.')
            return false;
    return true;
}

static bool ipv6_ok(const char *s, const char *e)
{
    if (e - s < 2 || e - s > 45)
        return false;
    for (; s < e; s++)
        if (!isxdigit((unsigned char)*s) && *s != ':' && *s != '.')
            return false;
    return true;
}

int iscsi_target_address_parse(const char *text, char *out, size_t cap, const char **why)
{
    const char *end = text + strnlen(text, 300), *host = text, *host_end, *p;
    bool v6 = *text == '[';
    long port = 3260;

    if (*end) {
        *why = "TargetAddress too long";
        return -1;
    }
    if (v6) {
        host = text + 1;
        host_end = memchr(host, ']', (size_t)(end - host));
        if (!host_end || !ipv6_ok(host, host_end)) {
            *why = "TargetAddress: bad IPv6 address";
            return -1;
        }
        p = host_end + 1;
    } else {
        host_end = host;
        while (host_end < end && *host_end != ':' && *host_end != ',')
            host_end++;
        if (!host_name_ok(host, host_end)) {
            *why = "TargetAddress: bad host name or address";
            return -1;
        }
        p = host_end;
    }
    const char *tag = memchr(p, ',', (size_t)(end - p));
    const char *port_end = tag ? tag : end;
    if (p < port_end) {
        if (*p != ':' || (port = parse_number(p + 1, port_end, 65535)) < 1) {
            *why = "TargetAddress: bad port";
            return -1;
        }
    }
    if (tag && parse_number(tag + 1, end, 65535) < 0) {
        *why = "TargetAddress: bad portal group tag";
        return -1;
    }
    int n = snprintf(out, cap, v6 ? "[%.*s]:%ld" : "%.*s:%ld", (int)(host_end - host), host, port);
    if (n < 0 || (size_t)n >= cap) {
        *why = "TargetAddress too long";
        return -1;
    }
    return 0;
}

void portal_plan_init(struct portal_plan *p, size_t n, size_t preferred)
{
    memset(p, 0, sizeof(*p));
    p->n = n < 1 ? 1 : n > PORTAL_PLAN_MAX ? PORTAL_PLAN_MAX : n;
    if (preferred >= p->n)
        preferred = 0;
    p->order[0] = preferred;
    for (size_t i = 0, k = 1; i < p->n; i++)
        if (i != preferred)
            p->order[k++] = i;
}

size_t portal_plan_current(const struct portal_plan *p)
{
    return p->order[p->pos];
}

const char *portal_plan_redirect(const struct portal_plan *p)
{
    return p->redirect[0] ? p->redirect : NULL;
}

/* The next configured portal, or give up when none is left. */
static enum portal_next next_portal(struct portal_plan *p)
{
    p->redirect[0] = '\0';
    if (p->pos + 1 >= p->n)
        return PORTAL_NEXT_GIVE_UP;
    p->pos++;
    return PORTAL_NEXT_TRY;
}

enum portal_next portal_plan_after(struct portal_plan *p, uint16_t status,
                                   const char *target_address, const char **why)
{
    char addr[PORTAL_ADDR_MAX];

    *why = NULL;
    switch (status >> 8) {
    case 0:
        if (status == 0)
            return PORTAL_NEXT_DONE;
        *why = "login status of class 0 but not success";
        return next_portal(p);
    case 1:
        /* Redirection (RFC 7143 11.13.5): 0x0101 moved temporarily, 0x0102
         * permanently; both are followed for this login only (the
         * configuration names the portals to start from). */
        if (p->redirects >= PORTAL_MAX_REDIRECTS) {
            *why = "too many login redirections";
            return next_portal(p);
        }
        if (!target_address || iscsi_target_address_parse(target_address, addr, sizeof(addr),
                                                          why) < 0) {
            if (!target_address)
                *why = "login redirection without a TargetAddress";
            return next_portal(p);
        }
        p->redirects++;
        memcpy(p->redirect, addr, sizeof(addr));
        *why = "login redirected";
        return PORTAL_NEXT_TRY;
    case 2:
        /* Initiator error: the SAN refused this initiator, target name or
         * account; its other portals would say the same. */
        *why = "the SAN refused the login";
        return PORTAL_NEXT_GIVE_UP;
    default:
        /* Target error, service unavailable, out of resources, or not
         * reached: another portal may do better. */
        *why = "portal failed";
        return next_portal(p);
    }
}
