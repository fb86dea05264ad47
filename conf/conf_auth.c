/*
 * auth_file: the CHAP accounts, one [account NAME] section each with its
 * secret, read with the same inih reader as the main file (conf.c), and
 * the checks that need both files: every account named exists, mutual CHAP
 * has its own secret, and no target lends the SAN's trust to anyone.
 *
 * Accounts are shared by name: the main file's keys add an account with no
 * secret yet (conf_account_ref), auth_file fills in the secret, and an
 * account still without one afterwards was never defined.  Targets point
 * at the accounts, so a reload compares the secrets themselves.
 */
#include "conf_internal.h"
#include "conf_value.h"

#include <stdlib.h>
#include <string.h>

const char *const conf_akey_names[AK_COUNT] = { "secret" };

static bool is_encoded(const char *s, size_t n)
{
    return n >= 2 && s[0] == '0' && strchr("xXbB", s[1]);
}

struct conf_account *conf_account_ref(struct pstate *ps, const char *key, const char *s,
                                      size_t len)
{
    struct conf *c = ps->c;
    const char *why;

    if (cv_check_account_name(s, len, &why) != 0) {
        conf_fail_key(ps, key, "bad account name '%.*s': %s", (int)len, s, why);
        return NULL;
    }
    for (size_t i = 0; i < c->n_accounts; i++)
        if (strlen(c->accounts[i]->name) == len && memcmp(c->accounts[i]->name, s, len) == 0)
            return c->accounts[i];
    if (c->n_accounts == CONF_MAX_ACCOUNTS) {
        conf_fail_key(ps, key, "too many accounts (at most %d)", CONF_MAX_ACCOUNTS);
        return NULL;
    }
    struct conf_account **l = realloc(c->accounts, (c->n_accounts + 1) * sizeof(*l));
    if (l)
        c->accounts = l;
    struct conf_account *a = l ? calloc(1, sizeof(*a)) : NULL;
    if (!a || !(a->name = strndup(s, len))) {
        free(a);
        conf_fail_key(ps, key, "out of memory");
        return NULL;
    }
    c->accounts[c->n_accounts++] = a;
    return a;
}

void conf_account_free(struct conf_account *a)
{
    if (a->secret) {
        explicit_bzero(a->secret, a->secret_len);
        free(a->secret);
    }
    free(a->name);
    free(a);
}

/* The current account is complete: decode its secret. */
static void account_end(struct pstate *ps)
{
    struct conf_account *a = ps->account;
    unsigned line = ps->akey_line[AK_SECRET];
    unsigned char buf[CONF_SECRET_TEXT_MAX];
    size_t len = 0;
    const char *why;
    char lab[300];

    if (!a || ps->failed)
        return;
    ps->account = NULL;
    snprintf(lab, sizeof(lab), "account %s", a->name);
    if (!line)
        conf_fail_at(ps, a->line, lab, NULL, "secret missing (required)");
    else if (ps->secret_too_long)
        conf_fail_at(ps, line, lab, "secret", "longer than %d bytes", CONF_SECRET_MAX);
    else if (cv_decode_secret(ps->secret_text, ps->secret_text_len, buf, &len, &why) != 0)
        conf_fail_at(ps, line, lab, "secret", "%s", why);
    else if (len < CONF_SECRET_MIN || len > CONF_SECRET_MAX)
        conf_fail_at(ps, line, lab, "secret", "%zu bytes; a CHAP secret has %d to %d bytes", len,
                     CONF_SECRET_MIN, CONF_SECRET_MAX);
    else if (!(a->secret = malloc(len + 1)))
        conf_fail_at(ps, line, lab, "secret", "out of memory");
    else {
        memcpy(a->secret, buf, len);
        a->secret[len] = '\0';
        a->secret_len = len;
    }
    explicit_bzero(buf, sizeof(buf));
    explicit_bzero(ps->secret_text, sizeof(ps->secret_text));
    ps->secret_text_len = 0;
    ps->secret_too_long = false;
}

void conf_account_start(struct pstate *ps, const char *s, const char *e)
{
    const char *why;
    char lab[300];

    account_end(ps);
    if (ps->failed)
        return;
    conf_trim(&s, &e);
    size_t n = (size_t)(e - s);
    if (n < 7 || memcmp(s, "account", 7) != 0 || (n > 7 && !conf_is_space(s[7]))) {
        conf_fail_at(ps, ps->lineno, NULL, NULL,
                     "[%.*s]: unknown section (expected [account NAME])", (int)n, s);
        return;
    }
    const char *ns = s + 7;
    conf_trim(&ns, &e);
    snprintf(lab, sizeof(lab), "account %.*s", (int)(e - ns), ns);
    if (ns == e) {
        conf_fail_at(ps, ps->lineno, "account", NULL, "account name missing ([account NAME])");
        return;
    }
    if (cv_check_account_name(ns, (size_t)(e - ns), &why) != 0) {
        conf_fail_at(ps, ps->lineno, lab, NULL, "bad account name: %s", why);
        return;
    }
    struct conf_account *a = conf_account_ref(ps, NULL, ns, (size_t)(e - ns));
    if (!a)
        return;
    if (a->line) {
        conf_fail_at(ps, ps->lineno, lab, NULL, "duplicate account (first defined at line %u)",
                     a->line);
        return;
    }
    a->line = ps->lineno;
    ps->account = a;
    memset(ps->akey_line, 0, sizeof(ps->akey_line));
    ps->sec = SEC_ACCOUNT;
}

void conf_set_secret(struct pstate *ps, const char *v, size_t len, bool first_line)
{
    if (first_line) {
        ps->secret_text_len = 0;
    } else if (!is_encoded(ps->secret_text, ps->secret_text_len)) {
        conf_fail_key(ps, "secret", "a text secret cannot go on over an indented line; "
                      "write it as 0x<hex> or 0b<base64>");
        return;
    }
    if (ps->secret_too_long || len > CONF_SECRET_TEXT_MAX - ps->secret_text_len) {
        ps->secret_too_long = true;     /* reported with the account's end */
        return;
    }
    memcpy(ps->secret_text + ps->secret_text_len, v, len);
    ps->secret_text_len += len;
}

/* auth_file relative to the configuration file's directory. */
static char *auth_path(const char *conf_name, const char *auth_file)
{
    const char *slash = strrchr(conf_name, '/');
    size_t d = auth_file[0] == '/' || !slash ? 0 : (size_t)(slash + 1 - conf_name);
    size_t n = strlen(auth_file);
    char *p = malloc(d + n + 1);

    if (p) {
        memcpy(p, conf_name, d);
        memcpy(p + d, auth_file, n + 1);
    }
    return p;
}

static int by_line(const void *x, const void *y)
{
    unsigned a = (*(const struct conf_account *const *)x)->line;
    unsigned b = (*(const struct conf_account *const *)y)->line;
    return (a > b) - (a < b);
}

void conf_auth_load(struct pstate *ps, const char *auth_text)
{
    const struct conf *c = ps->c;
    unsigned line = ps->pkey_line[PK_AUTH_FILE];
    char *text = NULL;
    char why[512];

    if (!c->auth_file)
        return;
    char *path = ps->auth_path = auth_path(ps->name, c->auth_file);
    if (!path) {
        conf_fail_at(ps, line, "proxy", "auth_file", "out of memory");
        return;
    }
    if (!auth_text && conf_read_file(path, true, &text, why, sizeof(why)) != 0) {
        conf_fail_at(ps, line, "proxy", "auth_file", "%s", why);
        return;
    }
    struct pstate *ap = calloc(1, sizeof(*ap));
    if (!ap) {
        conf_fail_at(ps, line, "proxy", "auth_file", "out of memory");
    } else {
        ap->name = path;
        ap->auth = true;
        ap->c = ps->c;
        ap->err = ps->err;
        ap->err_len = ps->err_len;
        if (conf_parse(ap, text ? text : auth_text))
            account_end(ap);
        /* In auth_file's order (the main file named some of them first). */
        if (ps->c->n_accounts)
            qsort(ps->c->accounts, ps->c->n_accounts, sizeof(*ps->c->accounts), by_line);
        ps->failed = ap->failed;
        explicit_bzero(ap, sizeof(*ap));
        free(ap);
    }
    conf_free_text(text);
}

/* ---- checks across the two files ------------------------------------------ */

/* One access rule with where its keys were set: discovery ([proxy]) or a target. */
struct rule {
    const struct conf_access *a;
    const struct conf_target *t;    /* NULL for discovery */
    const unsigned *line;           /* per xkey */
    const char *const *key;         /* per xkey */
    char lab[300];
};

/* Rule i: 0 is discovery, then the targets. */
static void rule_of(const struct pstate *ps, size_t i, struct rule *r)
{
    if (i == 0) {
        r->a = &ps->c->discovery;
        r->t = NULL;
        r->line = &ps->pkey_line[PK_DISCOVERY];
        r->key = &conf_pkey_names[PK_DISCOVERY];
        snprintf(r->lab, sizeof(r->lab), "proxy");
    } else {
        r->t = &ps->c->targets[i - 1];
        r->a = &r->t->access;
        r->line = &ps->tkey_line[i - 1][TK_ACCESS];
        r->key = &conf_tkey_names[TK_ACCESS];
        snprintf(r->lab, sizeof(r->lab), "target %s", r->t->name);
    }
}

/* a (named by key at line) is defined in auth_file. */
static bool defined(struct pstate *ps, const struct rule *r, unsigned line, const char *key,
                    const struct conf_account *a)
{
    if (a->secret)
        return true;
    if (ps->auth_path)
        conf_fail_at(ps, line, r->lab, key, "account '%s' is not in auth_file %s", a->name,
                     ps->auth_path);
    else
        conf_fail_at(ps, line, r->lab, key, "account '%s' needs an auth_file ([proxy] auth_file)",
                     a->name);
    return false;
}

/* A list key set to only separators ("allowed_addresses = ,") would read as
 * not set: no restriction at all. */
static bool empty_list(struct pstate *ps, unsigned line, const char *lab, const char *key,
                       size_t n)
{
    if (line && n == 0)
        conf_fail_at(ps, line, lab, key, "no entry given");
    return line && n == 0;
}

/* A target nobody restricts logs in to the SAN with the proxy's CHAP account,
 * or with whatever InitiatorName the initiator claims: either way the SAN's
 * trust goes to anyone who reaches the proxy, unless that is asked for. */
static void check_target(struct pstate *ps, const struct rule *r, size_t i)
{
    const struct conf_target *t = r->t;
    const unsigned *kl = ps->tkey_line[i];
    const char *restricts = t->access.n_chap_accounts ? "chap_accounts"
                          : t->n_allowed_initiators    ? "allowed_initiators"
                          : t->access.n_addresses      ? "allowed_addresses" : NULL;

    if (empty_list(ps, kl[TK_ALLOWED_INITIATORS], r->lab, "allowed_initiators",
                   t->n_allowed_initiators))
        return;
    if (t->backend_account && !defined(ps, r, kl[TK_BACKEND_ACCOUNT], "backend_chap_account",
                                       t->backend_account))
        return;
    if (t->backend_account && memchr(t->backend_account->secret, 0, t->backend_account->secret_len))
        conf_fail_at(ps, kl[TK_BACKEND_ACCOUNT], r->lab, "backend_chap_account",
                     "account '%s' has a 0x00 byte in its secret, which libiscsi cannot send",
                     t->backend_account->name);
    else if (t->allow_anonymous && restricts)
        conf_fail_at(ps, kl[TK_ALLOW_ANONYMOUS], r->lab, "allow_anonymous",
                     "yes, but %s restricts who may log in; remove one of them", restricts);
    else if (!t->allow_anonymous && !restricts && t->backend_account)
        conf_fail_at(ps, t->line, r->lab, NULL,
                     "anyone who reaches the proxy would log in to the SAN as account '%s' "
                     "(backend_chap_account); set chap_accounts, allowed_initiators or "
                     "allowed_addresses, or allow_anonymous = yes", t->backend_account->name);
    else if (!t->allow_anonymous && !restricts && !t->initiator_name)
        conf_fail_at(ps, t->line, r->lab, NULL,
                     "anyone who reaches the proxy would log in to the SAN under any "
                     "InitiatorName they claim; set chap_accounts, allowed_initiators or "
                     "allowed_addresses, or allow_anonymous = yes");
}

static void check_rule(struct pstate *ps, const struct rule *r)
{
    const struct conf_access *a = r->a;
    const unsigned *line = r->line;

    if (empty_list(ps, line[XK_CHAP_ACCOUNTS], r->lab, r->key[XK_CHAP_ACCOUNTS],
                   a->n_chap_accounts) ||
        empty_list(ps, line[XK_CHAP_ALGORITHMS], r->lab, r->key[XK_CHAP_ALGORITHMS],
                   a->chap_algorithms != 0) ||
        empty_list(ps, line[XK_ALLOWED_ADDRESSES], r->lab, r->key[XK_ALLOWED_ADDRESSES],
                   a->n_addresses))
        return;
    for (size_t k = 0; k < a->n_chap_accounts; k++)
        if (!defined(ps, r, line[XK_CHAP_ACCOUNTS], r->key[XK_CHAP_ACCOUNTS], a->chap_accounts[k]))
            return;
    if (!a->mutual_account)
        return;
    if (!defined(ps, r, line[XK_MUTUAL_ACCOUNT], r->key[XK_MUTUAL_ACCOUNT], a->mutual_account))
        return;
    if (!a->n_chap_accounts)
        conf_fail_at(ps, line[XK_MUTUAL_ACCOUNT], r->lab, r->key[XK_MUTUAL_ACCOUNT],
                     "mutual CHAP needs %s (the initiator authenticates first)",
                     r->key[XK_CHAP_ACCOUNTS]);
}

static bool same_secret(const struct conf_account *x, const struct conf_account *y)
{
    return x->secret_len == y->secret_len && memcmp(x->secret, y->secret, x->secret_len) == 0;
}

/* RFC 7143 9.2.1: a secret that authenticates initiators must not
 * authenticate a target.  Compared across every rule, not just one target. */
static void check_mutual_secrets(struct pstate *ps, size_t n_rules)
{
    struct rule r, q;

    for (size_t i = 0; i < n_rules && !ps->failed; i++) {
        rule_of(ps, i, &r);
        const struct conf_account *m = r.a->mutual_account;
        for (size_t j = 0; m && j < n_rules && !ps->failed; j++) {
            rule_of(ps, j, &q);
            for (size_t k = 0; k < q.a->n_chap_accounts; k++) {
                const struct conf_account *x = q.a->chap_accounts[k];
                if (!same_secret(m, x))
                    continue;
                conf_fail_at(ps, r.line[XK_MUTUAL_ACCOUNT], r.lab, r.key[XK_MUTUAL_ACCOUNT],
                             "account '%s' has the same secret as account '%s' of %s in [%s]; "
                             "one secret must not serve both directions (RFC 7143 9.2.1)",
                             m->name, x->name, q.key[XK_CHAP_ACCOUNTS], q.lab);
                break;
            }
        }
    }
}

void conf_auth_check(struct pstate *ps)
{
    size_t n_rules = ps->c->n_targets + 1;
    struct rule r;

    for (size_t i = 0; i < n_rules && !ps->failed; i++) {
        rule_of(ps, i, &r);
        check_rule(ps, &r);
        if (!ps->failed && i > 0)
            check_target(ps, &r, i - 1);
    }
    check_mutual_secrets(ps, n_rules);
}
