/*
 * Which backend portal a login tries next (pure).  A target lists 1..8 of
 * the SAN's portals; a login tries them in order, starting with the one that
 * answered the last login, follows login redirection (RFC 7143 11.13.5,
 * status class 1, with the TargetAddress key of 13.8) a bounded number of
 * times, and gives up when every portal failed or when the SAN refused the
 * initiator (class 2: another portal of the same SAN would say the same).
 * docs/ARCHITECTURE.md, "Backend".
 */
#ifndef ISP_BACKEND_PORTALS_H
#define ISP_BACKEND_PORTALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PORTAL_PLAN_MAX 8           /* portals of one target (CONF_MAX_BACKEND_PORTALS) */
#define PORTAL_MAX_REDIRECTS 4      /* redirections followed by one login */
#define PORTAL_ADDR_MAX 272         /* "[host]:port" and its NUL (host up to 255 bytes) */

/*
 * A TargetAddress value, "domainname[:port][,portal-group-tag]" (RFC 7143
 * 13.8; an IPv6 address in brackets), into "host:port" or "[v6]:port" in
 * out (port 3260 when not given).  The value comes from the SAN: every part
 * is checked (host name characters, port 1..65535, tag 0..65535).  Returns
 * 0, or -1 with *why set.
 */
int iscsi_target_address_parse(const char *text, char *out, size_t cap, const char **why);

struct portal_plan {
    size_t n;                       /* configured portals */
    size_t order[PORTAL_PLAN_MAX];  /* their indexes, in the order tried */
    size_t pos;                     /* order[pos] is being tried */
    unsigned redirects;             /* followed during this login */
    char redirect[PORTAL_ADDR_MAX]; /* "": order[pos] itself; else where it sent us */
};

/* n portals (1..PORTAL_PLAN_MAX), starting with preferred (the one that
 * answered last; an index >= n is taken as 0), the others in their order. */
void portal_plan_init(struct portal_plan *p, size_t n, size_t preferred);
/* The configured portal the attempt under way belongs to. */
size_t portal_plan_current(const struct portal_plan *p);
/* Where the attempt goes when a redirection is followed, or NULL (the
 * configured portal itself). */
const char *portal_plan_redirect(const struct portal_plan *p);

enum portal_next {
    PORTAL_NEXT_DONE,       /* logged in: portal_plan_current answered */
    PORTAL_NEXT_TRY,        /* try again: portal_plan_current / portal_plan_redirect */
    PORTAL_NEXT_GIVE_UP,    /* the login fails with the last status */
};

/*
 * The attempt ended with login status `status` (class << 8 | detail, 0 =
 * logged in; 0x0301 also when the portal could not be reached or did not
 * answer in time), target_address the TargetAddress of a redirection (or
 * NULL).  *why is set to a static explanation for a retry or a give-up
 * (for the log).
 */
enum portal_next portal_plan_after(struct portal_plan *p, uint16_t status,
                                   const char *target_address, const char **why);

#endif
