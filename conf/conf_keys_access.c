/*
 * The access-rule keys: chap_accounts, mutual_account, chap_algorithms,
 * allowed_addresses (of a [target NAME], or discovery_* of [proxy]) and
 * allowed_initiators.  Lists take commas and/or white space and may go on
 * over indented lines; an entry listed twice is an error, as in listen.
 */
#include "conf_internal.h"
#include "conf_value.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* list (n entries of elem bytes) with room for one more, or NULL (reported;
 * list stays). */
static void *grow(struct pstate *ps, const char *key, void *list, size_t n, size_t elem)
{
    if (n >= CONF_MAX_LIST) {
        conf_fail_key(ps, key, "too many entries (at most %d)", CONF_MAX_LIST);
        return NULL;
    }
    void *q = realloc(list, (n + 1) * elem);
    if (!q)
        conf_fail_key(ps, key, "out of memory");
    return q;
}

static void add_account(struct pstate *ps, struct conf_access *a, const char *key,
                        const char *s, size_t n)
{
    const struct conf_account *acct = conf_account_ref(ps, key, s, n);
    if (!acct)
        return;
    for (size_t i = 0; i < a->n_chap_accounts; i++) {
        if (a->chap_accounts[i] == acct) {
            conf_fail_key(ps, key, "'%.*s' is listed twice", (int)n, s);
            return;
        }
    }
    const struct conf_account **l = grow(ps, key, a->chap_accounts, a->n_chap_accounts,
                                         sizeof(*l));
    if (l) {
        a->chap_accounts = l;
        l[a->n_chap_accounts++] = acct;
    }
}

static void add_algorithm(struct pstate *ps, struct conf_access *a, const char *key,
                          const char *s, size_t n)
{
    uint32_t bit = cv_chap_algorithm(s, n);
    if (!bit)
        conf_fail_key(ps, key, "'%.*s' is not a CHAP algorithm (sha3-256, sha256, sha1 or md5)",
                      (int)n, s);
    else if (a->chap_algorithms & bit)
        conf_fail_key(ps, key, "'%.*s' is listed twice", (int)n, s);
    else
        a->chap_algorithms |= bit;
}

static void add_address(struct pstate *ps, struct conf_access *a, const char *key,
                        const char *s, size_t n)
{
    struct conf_net net;
    const char *why;
    if (cv_parse_net(s, n, &net, &why) != 0) {
        conf_fail_key(ps, key, "bad address '%.*s': %s", (int)n, s, why);
        return;
    }
    for (size_t i = 0; i < a->n_addresses; i++) {
        if (conf_net_equal(&a->addresses[i], &net)) {
            conf_fail_key(ps, key, "'%.*s' is listed twice", (int)n, s);
            return;
        }
    }
    struct conf_net *l = grow(ps, key, a->addresses, a->n_addresses, sizeof(*l));
    if (l) {
        a->addresses = l;
        l[a->n_addresses++] = net;
    }
}

void conf_set_access(struct pstate *ps, struct conf_access *a, enum xkey x, const char *key,
                     const char *v, size_t len, bool first_line)
{
    const char *s, *e = v + len;
    size_t n;

    if (x == XK_MUTUAL_ACCOUNT) {
        a->mutual_account = conf_account_ref(ps, key, v, len);
        return;
    }
    if (x == XK_CHAP_ALGORITHMS && first_line)
        a->chap_algorithms = 0;         /* the list replaces the default */
    while (!ps->failed && cv_next_item(&v, e, &s, &n)) {
        if (x == XK_CHAP_ACCOUNTS)
            add_account(ps, a, key, s, n);
        else if (x == XK_CHAP_ALGORITHMS)
            add_algorithm(ps, a, key, s, n);
        else
            add_address(ps, a, key, s, n);
    }
}

/* An exact iSCSI name, or a prefix of one ending in '*': a namespace
 * (iqn., eui., naa.) at least, so that a lone '*' cannot admit anyone. */
static int check_initiator_pattern(const char *s, size_t n, const char **why)
{
    char name[CV_ISCSI_NAME_MAX + 1];

    if (n > CV_ISCSI_NAME_MAX) {
        *why = "longer than 223 bytes";
        return -1;
    }
    if (s[n - 1] != '*') {
        /* Matched case-insensitively, so checked that way ("IQN." too). */
        for (size_t i = 0; i < n; i++)
            name[i] = (char)tolower((unsigned char)s[i]);
        name[n] = '\0';
        return cv_check_iscsi_name(name, false, why);
    }
    if (n < 5 || (strncasecmp(s, "iqn.", 4) != 0 && strncasecmp(s, "eui.", 4) != 0 &&
                  strncasecmp(s, "naa.", 4) != 0)) {
        *why = "a wildcard entry starts with iqn., eui. or naa. (as in iqn.2026-01.com.example:*)";
        return -1;
    }
    for (size_t i = 0; i < n - 1; i++) {
        if (!isalnum((unsigned char)s[i]) && !strchr("-.:", s[i])) {
            *why = s[i] == '*' ? "'*' may only end an entry"
                               : "only letters, digits, '-', '.' and ':' before the '*'";
            return -1;
        }
    }
    return 0;
}

void conf_set_allowed_initiators(struct pstate *ps, struct conf_target *t, const char *v,
                                 size_t len)
{
    const char *key = conf_tkey_names[TK_ALLOWED_INITIATORS], *s, *e = v + len, *why;
    size_t n;

    while (!ps->failed && cv_next_item(&v, e, &s, &n)) {
        if (check_initiator_pattern(s, n, &why) != 0) {
            conf_fail_key(ps, key, "bad entry '%.*s': %s", (int)n, s, why);
            return;
        }
        for (size_t i = 0; i < t->n_allowed_initiators; i++) {
            const char *p = t->allowed_initiators[i];
            if (strlen(p) == n && strncasecmp(p, s, n) == 0) {
                conf_fail_key(ps, key, "'%.*s' is listed twice", (int)n, s);
                return;
            }
        }
        char *dup = strndup(s, n);
        if (!dup) {
            conf_fail_key(ps, key, "out of memory");
            return;
        }
        char **l = grow(ps, key, t->allowed_initiators, t->n_allowed_initiators, sizeof(*l));
        if (!l) {
            free(dup);
            return;
        }
        t->allowed_initiators = l;
        l[t->n_allowed_initiators++] = dup;
    }
}

void conf_access_free(struct conf_access *a)
{
    free((void *)a->chap_accounts);
    free(a->addresses);
}
