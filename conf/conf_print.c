/*
 * conf_print: the resolved configuration in its own INI format (every key,
 * defaults filled in), for --check-config.  The output parses back to the
 * same configuration, except that the CHAP password is never printed (nor
 * the stats token: only the name of its file).
 */
#include "conf_value.h"

#include <string.h>

#define LISTEN_WRAP 78   /* listen wraps onto indented continuation lines */

int conf_addr_format(const struct conf_addr *a, char *buf, size_t len)
{
    if (cv_addr_is_v6(a))
        return snprintf(buf, len, "[%s]:%s", a->host, a->port);
    return snprintf(buf, len, "%s:%s", a->host, a->port);
}

static void print_listen(const struct conf *c, FILE *f)
{
    char addr[300];
    int col = fprintf(f, "listen =");

    for (size_t i = 0; i < c->n_listen; i++) {
        int n = conf_addr_format(&c->listen[i], addr, sizeof(addr));
        if (i == 0) {
            col += fprintf(f, " %s", addr);
        } else if (col + 2 + n > LISTEN_WRAP) {
            col = fprintf(f, ",\n    %s", addr) - 2;
        } else {
            col += fprintf(f, ", %s", addr);
        }
    }
    fputc('\n', f);
}

static void print_optional(FILE *f, const char *key, const char *v)
{
    if (v)
        fprintf(f, "%s = %s\n", key, v);
    else
        fprintf(f, "; %s = (not set)\n", key);
}

static void print_target(const struct conf_target *t, FILE *f)
{
    char buf[300];

    fprintf(f, "\n[target %s]\n", t->name);
    conf_addr_format(&t->backend_portal, buf, sizeof(buf));
    fprintf(f, "backend_portal = %s\n", buf);
    fprintf(f, "backend_target = %s\n", t->backend_target);
    print_optional(f, "backend_chap_username", t->backend_chap_username);
    fprintf(f, "; backend_chap_password = %s\n", t->backend_chap_password ? "(set)" : "(not set)");
    print_optional(f, "initiator_name", t->initiator_name);
    fprintf(f, "coherence = %s\n", conf_coherence_name(t->coherence));
    if (t->page_size)
        cv_format_size(t->page_size, buf, sizeof(buf));
    else
        snprintf(buf, sizeof(buf), "auto");
    fprintf(f, "page_size = %s\n", buf);
    fprintf(f, "max_sessions = %u\n", t->max_sessions);
}

void conf_print(const struct conf *c, FILE *f)
{
    char buf[300];

    fprintf(f, "[proxy]\n");
    print_listen(c, f);
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
    fprintf(f, "immediate_data = %s\n", c->immediate_data ? "yes" : "no");
    fprintf(f, "initial_r2t = %s\n", c->initial_r2t ? "yes" : "no");
    fprintf(f, "shutdown_timeout = %u\n", c->shutdown_timeout);
    fprintf(f, "login_timeout = %u\n", c->login_timeout);
    fprintf(f, "max_connections = %u\n", c->max_connections);
    fprintf(f, "max_connections_per_address = %u\n", c->max_connections_per_address);
    print_optional(f, "stats_token_file", c->stats_token_file);
    print_optional(f, "stats_tls_cert", c->stats_tls_cert);
    print_optional(f, "stats_tls_key", c->stats_tls_key);
    for (size_t i = 0; i < c->n_targets; i++)
        print_target(&c->targets[i], f);
}
