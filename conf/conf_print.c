/*
 * conf_print: the resolved configuration in its own INI format (every key,
 * defaults filled in), for --check-config.  The output parses back to the
 * same configuration.  No secret is in it: auth_file is printed as the path
 * written, its accounts by name only, and of the stats token only the name
 * of its file.
 */
#include "conf_value.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#define LIST_WRAP 78    /* lists wrap onto indented continuation lines */

int conf_addr_format(const struct conf_addr *a, char *buf, size_t len)
{
    if (cv_addr_is_v6(a))
        return snprintf(buf, len, "[%s]:%s", a->host, a->port);
    return snprintf(buf, len, "%s:%s", a->host, a->port);
}

int conf_net_format(const struct conf_net *n, char *buf, size_t len)
{
    char addr[INET6_ADDRSTRLEN] = "?";

    inet_ntop(n->family, n->addr, addr, sizeof(addr));
    if (n->prefix == (n->family == AF_INET ? 32u : 128u))
        return snprintf(buf, len, "%s", addr);
    return snprintf(buf, len, "%s/%u", addr, n->prefix);
}

const char *conf_chap_algorithm_name(uint32_t bit)
{
    switch (bit) {
    case CONF_CHAP_MD5: return "md5";
    case CONF_CHAP_SHA1: return "sha1";
    case CONF_CHAP_SHA256: return "sha256";
    case CONF_CHAP_SHA3_256: return "sha3-256";
    default: return NULL;
    }
}

/* Item i of a list into buf. */
typedef void item_format(const void *list, size_t i, char *buf, size_t len);

/* "key = a, b, c", wrapped; an empty list is a comment saying so. */
static void print_list(FILE *f, const char *key, const void *list, size_t n, item_format *fmt)
{
    char item[300];

    if (n == 0) {
        fprintf(f, "; %s = (not set)\n", key);
        return;
    }
    int col = fprintf(f, "%s =", key);
    for (size_t i = 0; i < n; i++) {
        fmt(list, i, item, sizeof(item));
        int len = (int)strlen(item);
        if (i == 0)
            col += fprintf(f, " %s", item);
        else if (col + 2 + len > LIST_WRAP)
            col = fprintf(f, ",\n    %s", item) - 2;
        else
            col += fprintf(f, ", %s", item);
    }
    fputc('\n', f);
}

static void fmt_addr(const void *list, size_t i, char *buf, size_t len)
{
    conf_addr_format(&((const struct conf_addr *)list)[i], buf, len);
}

static void fmt_net(const void *list, size_t i, char *buf, size_t len)
{
    conf_net_format(&((const struct conf_net *)list)[i], buf, len);
}

static void fmt_string(const void *list, size_t i, char *buf, size_t len)
{
    snprintf(buf, len, "%s", ((const char *const *)list)[i]);
}

static void fmt_account(const void *list, size_t i, char *buf, size_t len)
{
    snprintf(buf, len, "%s", ((const struct conf_account *const *)list)[i]->name);
}

static void print_optional(FILE *f, const char *key, const char *v)
{
    if (v)
        fprintf(f, "%s = %s\n", key, v);
    else
        fprintf(f, "; %s = (not set)\n", key);
}

/* An access rule's keys, each name after prefix ("" or "discovery_"). */
static void print_access(const struct conf_access *a, const char *prefix, FILE *f)
{
    const char *algs[4];
    size_t n_algs = 0;
    char key[64];

    snprintf(key, sizeof(key), "%schap_accounts", prefix);
    print_list(f, key, a->chap_accounts, a->n_chap_accounts, fmt_account);
    snprintf(key, sizeof(key), "%smutual_account", prefix);
    print_optional(f, key, a->mutual_account ? a->mutual_account->name : NULL);
    /* Strongest first, the order the man page gives. */
    for (uint32_t bit = CONF_CHAP_SHA3_256; bit >= CONF_CHAP_MD5; bit >>= 1)
        if (a->chap_algorithms & bit)
            algs[n_algs++] = conf_chap_algorithm_name(bit);
    snprintf(key, sizeof(key), "%schap_algorithms", prefix);
    print_list(f, key, algs, n_algs, fmt_string);
    snprintf(key, sizeof(key), "%sallowed_addresses", prefix);
    print_list(f, key, a->addresses, a->n_addresses, fmt_net);
}

static void print_target(const struct conf_target *t, FILE *f)
{
    char buf[300];

    fprintf(f, "\n[target %s]\n", t->name);
    print_list(f, "backend_portal", t->backend_portals, t->n_backend_portals, fmt_addr);
    fprintf(f, "backend_target = %s\n", t->backend_target);
    print_optional(f, "backend_chap_account", t->backend_account ? t->backend_account->name : NULL);
    print_optional(f, "initiator_name", t->initiator_name);
    fprintf(f, "coherence = %s\n", conf_coherence_name(t->coherence));
    if (t->page_size)
        cv_format_size(t->page_size, buf, sizeof(buf));
    else
        snprintf(buf, sizeof(buf), "auto");
    fprintf(f, "page_size = %s\n", buf);
    print_access(&t->access, "", f);
    print_list(f, "allowed_initiators", t->allowed_initiators, t->n_allowed_initiators,
               fmt_string);
    fprintf(f, "allow_anonymous = %s\n", t->allow_anonymous ? "yes" : "no");
    fprintf(f, "max_sessions = %u\n", t->max_sessions);
}

void conf_print(const struct conf *c, FILE *f)
{
    char buf[300];

    fprintf(f, "[proxy]\n");
    print_list(f, "listen", c->listen, c->n_listen, fmt_addr);
    if (c->stats_enabled) {
        conf_addr_format(&c->stats_listen, buf, sizeof(buf));
        fprintf(f, "stats_listen = %s\n", buf);
    } else {
        fprintf(f, "stats_listen =\n");
    }
    fprintf(f, "log_level = %s\n", log_level_name(c->log_level));
    fprintf(f, "log = %s\n", c->log_syslog ? "syslog" : "stderr");
    cv_format_size(c->session_memory_budget, buf, sizeof(buf));
    fprintf(f, "session_memory_budget = %s\n", buf);
    cv_format_size(c->cache_memory_limit, buf, sizeof(buf));
    fprintf(f, "cache_memory_limit = %s\n", buf);
    fprintf(f, "queue_depth = %u\n", c->queue_depth);
    fprintf(f, "max_recv_data_segment_length = %u\n", c->max_recv_data_segment_length);
    fprintf(f, "max_burst_length = %u\n", c->max_burst_length);
    fprintf(f, "first_burst_length = %u\n", c->first_burst_length);
    fprintf(f, "nop_interval = %u\n", c->nop_interval);
    fprintf(f, "nop_timeout = %u\n", c->nop_timeout);
    fprintf(f, "backend_timeout = %u\n", c->backend_timeout);
    fprintf(f, "health_deadline = %u\n", c->health_deadline);
    fprintf(f, "poll_us = %u\n", c->poll_us);
    fprintf(f, "immediate_data = %s\n", c->immediate_data ? "yes" : "no");
    fprintf(f, "initial_r2t = %s\n", c->initial_r2t ? "yes" : "no");
    fprintf(f, "shutdown_timeout = %u\n", c->shutdown_timeout);
    print_optional(f, "auth_file", c->auth_file);
    for (size_t i = 0; i < c->n_accounts; i++)
        fprintf(f, "; [account %s] (secret not shown)\n", c->accounts[i]->name);
    print_access(&c->discovery, "discovery_", f);
    fprintf(f, "login_timeout = %u\n", c->login_timeout);
    fprintf(f, "max_connections = %u\n", c->max_connections);
    fprintf(f, "max_connections_per_address = %u\n", c->max_connections_per_address);
    print_optional(f, "stats_token_file", c->stats_token_file);
    print_optional(f, "stats_tls_cert", c->stats_tls_cert);
    print_optional(f, "stats_tls_key", c->stats_tls_key);
    for (size_t i = 0; i < c->n_targets; i++)
        print_target(&c->targets[i], f);
}
