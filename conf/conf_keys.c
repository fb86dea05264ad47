/*
 * Sections and keys of iscsi-sparse-proxy.conf: [proxy] and [target NAME],
 * what each key accepts, and the defaults.  Called by conf.c's inih handler;
 * access rules are parsed by conf_keys_access.c, auth_file's [account NAME]
 * sections by conf_auth.c.
 */
#include "conf_private_file.h"
#include "conf_internal.h"
#include "conf_value.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const conf_pkey_names[PK_COUNT] = {
    "listen", "stats_listen", "log_level", "log", "session_memory_budget", "cache_memory_limit",
    "queue_depth",
    "max_recv_data_segment_length", "max_burst_length", "first_burst_length",
    "nop_interval", "nop_timeout", "backend_timeout", "immediate_data",
    "initial_r2t", "shutdown_timeout", "auth_file",
    "login_timeout", "max_connections", "max_connections_per_address",
    "stats_token_file", "stats_tls_cert", "stats_tls_key", "health_deadline", "poll_us",
    [PK_DISCOVERY + XK_CHAP_ACCOUNTS] = "discovery_chap_accounts",
    [PK_DISCOVERY + XK_MUTUAL_ACCOUNT] = "discovery_mutual_account",
    [PK_DISCOVERY + XK_CHAP_ALGORITHMS] = "discovery_chap_algorithms",
    [PK_DISCOVERY + XK_ALLOWED_ADDRESSES] = "discovery_allowed_addresses",
};

const char *const conf_tkey_names[TK_COUNT] = {
    "backend_portal", "backend_target", "backend_chap_account",
    "initiator_name", "coherence", "page_size", "allowed_initiators", "allow_anonymous",
    "max_sessions",
    [TK_ACCESS + XK_CHAP_ACCOUNTS] = "chap_accounts",
    [TK_ACCESS + XK_MUTUAL_ACCOUNT] = "mutual_account",
    [TK_ACCESS + XK_CHAP_ALGORITHMS] = "chap_algorithms",
    [TK_ACCESS + XK_ALLOWED_ADDRESSES] = "allowed_addresses",
};

/* Numeric [proxy] keys: a size takes K/M/G and shows its range that way. */
struct numkey {
    enum pkey key;
    bool size;
    uint64_t min, max;
};
static const struct numkey numkeys[] = {
    { PK_MEMORY, true, 1u << 20, 4ull << 30 },
    { PK_CACHE_MEMORY, true, 1u << 20, 64ull << 30 },
    { PK_QUEUE_DEPTH, false, 1, 4096 },
    { PK_MRDSL, true, 512, 16777215 },
    { PK_MAX_BURST, true, 512, 16777215 },
    { PK_FIRST_BURST, true, 512, 16777215 },
    { PK_NOP_INTERVAL, false, 0, 3600 },
    { PK_NOP_TIMEOUT, false, 1, 3600 },
    { PK_BACKEND_TIMEOUT, false, 1, 3600 },
    { PK_SHUTDOWN_TIMEOUT, false, 0, 3600 },
    { PK_LOGIN_TIMEOUT, false, 1, 3600 },
    { PK_MAX_CONNECTIONS, false, 1, CONF_MAX_CONNECTIONS },
    { PK_MAX_CONNECTIONS_PER_ADDRESS, false, 1, CONF_MAX_CONNECTIONS },
    { PK_HEALTH_DEADLINE, false, 1, 3600 },
    { PK_POLL_US, false, 0, 1000 },
};

/* Store a range-checked numeric value. */
static void store_num(struct conf *c, enum pkey k, uint64_t v)
{
    switch (k) {
    case PK_MEMORY: c->session_memory_budget = v; break;
    case PK_CACHE_MEMORY: c->cache_memory_limit = v; break;
    case PK_QUEUE_DEPTH: c->queue_depth = (uint32_t)v; break;
    case PK_MRDSL: c->max_recv_data_segment_length = (uint32_t)v; break;
    case PK_MAX_BURST: c->max_burst_length = (uint32_t)v; break;
    case PK_FIRST_BURST: c->first_burst_length = (uint32_t)v; break;
    case PK_NOP_INTERVAL: c->nop_interval = (uint32_t)v; break;
    case PK_NOP_TIMEOUT: c->nop_timeout = (uint32_t)v; break;
    case PK_BACKEND_TIMEOUT: c->backend_timeout = (uint32_t)v; break;
    case PK_SHUTDOWN_TIMEOUT: c->shutdown_timeout = (uint32_t)v; break;
    case PK_LOGIN_TIMEOUT: c->login_timeout = (uint32_t)v; break;
    case PK_MAX_CONNECTIONS: c->max_connections = (uint32_t)v; break;
    case PK_MAX_CONNECTIONS_PER_ADDRESS: c->max_connections_per_address = (uint32_t)v; break;
    case PK_HEALTH_DEADLINE: c->health_deadline = (uint32_t)v; break;
    case PK_POLL_US: c->poll_us = (uint32_t)v; break;
    default: break;
    }
}

static bool eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* yes or no into *out; false (reported) otherwise. */
static bool set_yes_no(struct pstate *ps, const char *key, const char *v, bool *out)
{
    if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0) {
        conf_fail_key(ps, key, "'%s' is neither yes nor no", v);
        return false;
    }
    *out = strcmp(v, "yes") == 0;
    return true;
}

/* A section header line: [proxy] or [target NAME] (auth_file: [account NAME]). */
void conf_section_start(struct pstate *ps, const char *s, const char *e)
{
    struct conf *c = ps->c;
    char lab[300];

    ps->sec_raw = s;
    ps->sec_raw_len = (size_t)(e - s);
    ps->sec = SEC_NONE;
    if (ps->auth) {
        conf_account_start(ps, s, e);
        return;
    }
    conf_trim(&s, &e);
    size_t n = (size_t)(e - s);
    if (eq(s, n, "proxy")) {
        if (ps->proxy_line) {
            conf_fail_at(ps, ps->lineno, "proxy", NULL, "duplicate section (first at line %u)",
                         ps->proxy_line);
            return;
        }
        ps->proxy_line = ps->lineno;
        ps->sec = SEC_PROXY;
        return;
    }
    if (n < 6 || memcmp(s, "target", 6) != 0 || (n > 6 && !conf_is_space(s[6]))) {
        conf_fail_at(ps, ps->lineno, NULL, NULL,
                     "[%.*s]: unknown section (expected [proxy] or [target NAME])", (int)n, s);
        return;
    }
    const char *ns = s + 6;
    conf_trim(&ns, &e);
    if (ns == e) {
        conf_fail_at(ps, ps->lineno, "target", NULL, "target name missing ([target NAME])");
        return;
    }
    char *name = strndup(ns, (size_t)(e - ns));
    if (!name) {
        conf_fail_at(ps, ps->lineno, NULL, NULL, "out of memory");
        return;
    }
    snprintf(lab, sizeof(lab), "target %s", name);
    const char *why;
    if (cv_check_iscsi_name(name, true, &why) != 0) {
        conf_fail_at(ps, ps->lineno, lab, NULL, "bad target name: %s", why);
        free(name);
        return;
    }
    for (size_t i = 0; i < c->n_targets; i++) {
        if (strcasecmp(c->targets[i].name, name) == 0) {
            conf_fail_at(ps, ps->lineno, lab, NULL,
                         "duplicate target (first defined at line %u)", c->targets[i].line);
            free(name);
            return;
        }
    }
    if (c->n_targets == ps->targets_cap) {
        size_t cap = ps->targets_cap ? 2 * ps->targets_cap : 4;
        struct conf_target *t = realloc(c->targets, cap * sizeof(*t));
        if (t)
            c->targets = t;
        unsigned (*kl)[TK_COUNT] = t ? realloc(ps->tkey_line, cap * sizeof(*kl)) : NULL;
        if (!kl) {
            free(name);
            conf_fail_at(ps, ps->lineno, NULL, NULL, "out of memory");
            return;
        }
        ps->tkey_line = kl;
        ps->targets_cap = cap;
    }
    struct conf_target *t = &c->targets[c->n_targets];
    memset(t, 0, sizeof(*t));
    memset(ps->tkey_line[c->n_targets], 0, sizeof(ps->tkey_line[0]));
    t->name = name;
    t->coherence = CONF_COHERENCE_VERIFY;
    t->page_size = 0;
    t->access.chap_algorithms = CONF_CHAP_ALL;
    t->line = ps->lineno;
    c->n_targets++;
    ps->sec = SEC_TARGET;
}

/* A list of portals (listen, backend_portal): separated by commas and/or
 * white space, appended to list[*n] (room for max); one listed twice is an
 * error. */
static void set_addr_list(struct pstate *ps, const char *key, const char *v, size_t len,
                          struct conf_addr *list, size_t *n_list, size_t max,
                          bool wildcard_ok)
{
    const char *s, *e = v + len;
    size_t n;

    while (cv_next_item(&v, e, &s, &n)) {
        struct conf_addr a;
        const char *why;
        if (cv_parse_addr(s, n, "3260", wildcard_ok, &a, &why) != 0) {
            conf_fail_key(ps, key, "bad address '%.*s': %s", (int)n, s, why);
            return;
        }
        for (size_t k = 0; k < *n_list; k++) {
            if (conf_addr_equal(&list[k], &a)) {
                conf_fail_key(ps, key, "'%.*s' is listed twice", (int)n, s);
                return;
            }
        }
        if (*n_list == max) {
            conf_fail_key(ps, key, "too many portals (at most %zu)", max);
            return;
        }
        list[(*n_list)++] = a;
    }
}

static void set_listen(struct pstate *ps, const char *v, size_t len)
{
    struct conf *c = ps->c;

    if (!c->listen && !(c->listen = calloc(CONF_MAX_LISTEN, sizeof(*c->listen)))) {
        conf_fail_key(ps, "listen", "out of memory");
        return;
    }
    set_addr_list(ps, "listen", v, len, c->listen, &c->n_listen, CONF_MAX_LISTEN, true);
}

static void set_backend_portals(struct pstate *ps, const char *v, size_t len)
{
    struct conf_target *t = &ps->c->targets[ps->c->n_targets - 1];

    set_addr_list(ps, "backend_portal", v, len, t->backend_portals, &t->n_backend_portals,
                  CONF_MAX_BACKEND_PORTALS, false);
}

static void set_string(struct pstate *ps, const char *key, char **dst, const char *v)
{
    if (!(*dst = strdup(v)))
        conf_fail_key(ps, key, "out of memory");
}

/* stats_token_file is read now, so --check-config and a reload see what
 * the endpoint will ask for; the key file is only checked (OpenSSL reads it
 * when the endpoint starts). */
static void set_stats_file(struct pstate *ps, enum pkey k, const char *v)
{
    struct conf *c = ps->c;
    const char *key = conf_pkey_names[k];
    char **path = k == PK_STATS_TOKEN_FILE ? &c->stats_token_file
                  : k == PK_STATS_TLS_CERT ? &c->stats_tls_cert : &c->stats_tls_key;
    char why[160];

    if (k == PK_STATS_TOKEN_FILE && cf_read_token(v, &c->stats_token, why, sizeof(why)) < 0)
        conf_fail_key(ps, key, "%s: %s", v, why);
    else if (k == PK_STATS_TLS_KEY && cf_check_private_file(v, why, sizeof(why)) < 0)
        conf_fail_key(ps, key, "%s: %s", v, why);
    else if (k == PK_STATS_TLS_CERT && v[0] != '/')
        conf_fail_key(ps, key, "%s: not an absolute path", v);
    else if (!(*path = strdup(v)))
        conf_fail_key(ps, key, "out of memory");
}

static void set_proxy_key(struct pstate *ps, enum pkey k, const char *v)
{
    struct conf *c = ps->c;
    const char *key = conf_pkey_names[k], *why;

    switch (k) {
    case PK_LISTEN:
        set_listen(ps, v, strlen(v));
        return;
    case PK_AUTH_FILE:
        set_string(ps, key, &c->auth_file, v);
        return;
    case PK_STATS_LISTEN:
        c->stats_enabled = *v != '\0';
        if (c->stats_enabled &&
            cv_parse_addr(v, strlen(v), "9100", true, &c->stats_listen, &why) != 0)
            conf_fail_key(ps, key, "bad address '%s': %s", v, why);
        return;
    case PK_LOG_LEVEL:
        if (log_level_parse(v, &c->log_level) != 0)
            conf_fail_key(ps, key, "'%s' is not a log level (error, warn, info or debug)", v);
        return;
    case PK_LOG:
        if (strcmp(v, "stderr") == 0 || strcmp(v, "syslog") == 0)
            c->log_syslog = strcmp(v, "syslog") == 0;
        else
            conf_fail_key(ps, key, "'%s' is not a log destination (stderr or syslog)", v);
        return;
    case PK_IMMEDIATE_DATA:
        set_yes_no(ps, key, v, &c->immediate_data);
        return;
    case PK_INITIAL_R2T:
        set_yes_no(ps, key, v, &c->initial_r2t);
        return;
    case PK_STATS_TOKEN_FILE:
    case PK_STATS_TLS_CERT:
    case PK_STATS_TLS_KEY:
        set_stats_file(ps, k, v);
        return;
    default:
        break;
    }
    for (size_t i = 0; i < sizeof(numkeys) / sizeof(numkeys[0]); i++) {
        const struct numkey *nk = &numkeys[i];
        if (nk->key != k)
            continue;
        uint64_t val;
        int rc = nk->size ? cv_parse_size(v, &val) : cv_parse_uint(v, &val);
        if (rc == -1 && nk->size) {
            conf_fail_key(ps, key, "'%s' is not a size (a number, optionally with K, M or G)", v);
        } else if (rc == -1) {
            conf_fail_key(ps, key, "'%s' is not a number", v);
        } else if (rc != 0 || val < nk->min || val > nk->max) {
            char lo[32], hi[32];
            if (nk->size) {
                cv_format_size(nk->min, lo, sizeof(lo));
                cv_format_size(nk->max, hi, sizeof(hi));
            } else {
                snprintf(lo, sizeof(lo), "%llu", (unsigned long long)nk->min);
                snprintf(hi, sizeof(hi), "%llu", (unsigned long long)nk->max);
            }
            conf_fail_key(ps, key, "%s is out of range (%s..%s)", v, lo, hi);
        } else {
            store_num(c, k, val);
        }
        return;
    }
}

static void set_target_key(struct pstate *ps, enum tkey k, const char *v)
{
    struct conf_target *t = &ps->c->targets[ps->c->n_targets - 1];
    const char *key = conf_tkey_names[k], *why;
    uint64_t val;

    switch (k) {
    case TK_PORTAL:
        set_backend_portals(ps, v, strlen(v));
        break;
    case TK_TARGET:
    case TK_INITIATOR:
        if (cv_check_iscsi_name(v, false, &why) != 0)
            conf_fail_key(ps, key, "bad iSCSI name '%s': %s", v, why);
        else
            set_string(ps, key, k == TK_TARGET ? &t->backend_target : &t->initiator_name, v);
        break;
    case TK_BACKEND_ACCOUNT:
        t->backend_account = conf_account_ref(ps, key, v, strlen(v));
        break;
    case TK_ALLOWED_INITIATORS:
        conf_set_allowed_initiators(ps, t, v, strlen(v));
        break;
    case TK_ALLOW_ANONYMOUS:
        set_yes_no(ps, key, v, &t->allow_anonymous);
        break;
    case TK_COHERENCE:
        if (strcmp(v, "verify") == 0)
            t->coherence = CONF_COHERENCE_VERIFY;
        else if (strcmp(v, "exclusive") == 0)
            t->coherence = CONF_COHERENCE_EXCLUSIVE;
        else if (strcmp(v, "off") == 0)
            t->coherence = CONF_COHERENCE_OFF;
        else
            conf_fail_key(ps, key, "'%s' is not a coherence mode (exclusive, verify or off)", v);
        break;
    case TK_PAGE_SIZE:
        if (strcmp(v, "auto") == 0) {
            t->page_size = 0;
        } else {
            int rc = cv_parse_size(v, &val);
            if (rc == -1)
                conf_fail_key(ps, key, "'%s' is not a size (auto, or a number with K, M or G)", v);
            else if (rc != 0 || val < 4096 || val > (16u << 20))
                conf_fail_key(ps, key, "%s is out of range (4K..16M)", v);
            else if (val & (val - 1))
                conf_fail_key(ps, key, "%s is not a power of two", v);
            else
                t->page_size = (uint32_t)val;
        }
        break;
    case TK_MAX_SESSIONS: {
        int rc = cv_parse_uint(v, &val);
        if (rc == -1)
            conf_fail_key(ps, key, "'%s' is not a number", v);
        else if (rc != 0 || val > CONF_MAX_CONNECTIONS)
            conf_fail_key(ps, key, "%s is out of range (0..%d)", v, CONF_MAX_CONNECTIONS);
        else
            t->max_sessions = (uint32_t)val;
        break;
    }
    default:
        break;
    }
}

/* The access-rule key of key k of a [proxy] (discovery_*) or [target]
 * section, or -1. */
static int access_key(const struct pstate *ps, int k)
{
    if (ps->sec == SEC_PROXY && k >= PK_DISCOVERY)
        return k - PK_DISCOVERY;
    if (ps->sec == SEC_TARGET && k >= TK_ACCESS)
        return k - TK_ACCESS;
    return -1;
}

/* The access rule the current section's access keys set. */
static struct conf_access *section_access(struct pstate *ps)
{
    return ps->sec == SEC_PROXY ? &ps->c->discovery
                                : &ps->c->targets[ps->c->n_targets - 1].access;
}

void conf_set_key(struct pstate *ps, int k, const char *v)
{
    int x = access_key(ps, k);

    if (x >= 0)
        conf_set_access(ps, section_access(ps), (enum xkey)x, ps->key, v, strlen(v), true);
    else if (ps->sec == SEC_PROXY)
        set_proxy_key(ps, (enum pkey)k, v);
    else if (ps->sec == SEC_TARGET)
        set_target_key(ps, (enum tkey)k, v);
    else
        conf_set_secret(ps, v, strlen(v), true);
}

/* Lists and secrets go on over indented lines; nothing else does. */
void conf_continue_key(struct pstate *ps, int k, const char *v, size_t len)
{
    int x = access_key(ps, k);

    if (x >= 0 && x != XK_MUTUAL_ACCOUNT)
        conf_set_access(ps, section_access(ps), (enum xkey)x, ps->key, v, len, false);
    else if (ps->sec == SEC_PROXY && k == PK_LISTEN)
        set_listen(ps, v, len);
    else if (ps->sec == SEC_TARGET && k == TK_PORTAL)
        set_backend_portals(ps, v, len);
    else if (ps->sec == SEC_TARGET && k == TK_ALLOWED_INITIATORS)
        conf_set_allowed_initiators(ps, &ps->c->targets[ps->c->n_targets - 1], v, len);
    else if (ps->sec == SEC_ACCOUNT)
        conf_set_secret(ps, v, len, false);
    else
        conf_fail_key(ps, ps->key, "value continues on an indented line; only a list may do that");
}

void conf_set_defaults(struct conf *c)
{
    c->stats_enabled = true;
    snprintf(c->stats_listen.host, sizeof(c->stats_listen.host), "127.0.0.1");
    snprintf(c->stats_listen.port, sizeof(c->stats_listen.port), "9100");
    c->log_level = LOG_LVL_INFO;
    c->log_syslog = false;
    c->session_memory_budget = 64u << 20;
    c->cache_memory_limit = 64u << 20;
    c->queue_depth = 128;
    c->max_recv_data_segment_length = 262144;
    c->max_burst_length = 1048576;
    c->first_burst_length = 262144;
    c->nop_interval = 30;
    c->immediate_data = true;
    c->shutdown_timeout = 10;
    c->nop_timeout = 30;
    c->backend_timeout = 30;
    c->discovery.chap_algorithms = CONF_CHAP_ALL;
    c->login_timeout = 15;
    c->max_connections = 256;
    c->max_connections_per_address = 64;
    c->health_deadline = 5;
    c->poll_us = 50;
}
