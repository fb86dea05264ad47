/* The stats pages: /metrics (Prometheus text) and /stats (JSON); see stats.h. */
#include "stats.h"

#include <inttypes.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "allocmap.h"
#include "health.h"
#include "lun.h"
#include "server.h"

#define METRIC_PREFIX "iscsi_sparse_proxy_"

static unsigned count_sessions(const struct proxy *p, const struct conf_target *t)
{
    const struct conn *c;
    unsigned n = 0;
    TAILQ_FOREACH(c, &p->conns, link) {
        if (c->state == CONN_FFP && (!t || c->target == t))
            n++;
    }
    return n;
}

static unsigned count_connections(const struct proxy *p)
{
    const struct conn *c;
    unsigned n = 0;
    TAILQ_FOREACH(c, &p->conns, link)
        n++;
    return n;
}

static const char *lun_state_name(const struct lun *l)
{
    switch (l->state) {
    case LUN_ZERO_SERVING: return "zero-serving";
    case LUN_PASSTHROUGH:  return "pass-through";
    case LUN_PROBING:      return "probing";
    default:               return "unprobed";
    }
}

/* One counter of every LUN, one sample a LUN. */
struct lun_metric {
    const char *name;
    const char *help;
    const char *type;
    const char *extra_label;        /* "path=\"zero\"" etc., or NULL */
    size_t offset;                  /* into struct lun_counters */
};

#define LC(field) offsetof(struct lun_counters, field)
static const struct lun_metric lun_metrics[] = {
    { "read_commands_total", "READ commands by how the proxy answered them.", "counter",
      "path=\"zero\"", LC(reads_zero_only) },
    { "read_commands_total", NULL, NULL, "path=\"split\"", LC(reads_split) },
    { "read_commands_total", NULL, NULL, "path=\"passthrough\"", LC(reads_passthrough) },
    { "read_commands_total", NULL, NULL, "path=\"fallback\"", LC(reads_fallback) },
    { "read_bytes_total", "READ data bytes by where they came from.", "counter",
      "source=\"zero\"", LC(bytes_zero) },
    { "read_bytes_total", NULL, NULL, "source=\"backend\"", LC(bytes_backend) },
    { "lba_status_queries_total", "GET LBA STATUS commands the proxy sent.", "counter", NULL,
      LC(queries) },
    { "lba_status_joins_total", "READs that joined a GET LBA STATUS in flight.", "counter",
      NULL, LC(query_joins) },
    { "lba_status_descriptors_total", "LBA status descriptors received.", "counter", NULL,
      LC(query_descriptors) },
    { "lba_status_errors_total", "GET LBA STATUS answers failed or malformed.", "counter",
      NULL, LC(query_errors) },
    { "lba_status_race_dropped_total",
      "Answers whose unallocated extents the race rule dropped whole.", "counter", NULL,
      LC(queries_dropped_race) },
    { "zero_learned_bytes_total",
      "Bytes of zeros that taught the cache (LUNs whose holes the SAN does not report): "
      "READ data from the backend, and zeros the initiators wrote.", "counter",
      "from=\"read\"", LC(zero_bytes_learned) },
    { "zero_learned_bytes_total", NULL, NULL, "from=\"write\"", LC(zero_bytes_written) },
    { "initiator_lba_status_total",
      "Initiators' GET LBA STATUS commands by who answered them.", "counter",
      "path=\"local\"", LC(lba_status_local) },
    { "initiator_lba_status_total", NULL, NULL, "path=\"forwarded\"", LC(lba_status_forwarded) },
    { "mutations_total", "Commands that marked pages allocated before being sent.", "counter",
      NULL, LC(mutations) },
    { "cache_invalidations_total", "Whole-LUN cache invalidations.", "counter", NULL,
      LC(invalidations) },
};

static uint64_t counter_at(const struct lun *l, size_t offset)
{
    uint64_t v;
    memcpy(&v, (const char *)&l->n + offset, sizeof(v));
    return v;
}

static void metric_head(struct evbuffer *b, const char *name, const char *help, const char *type)
{
    evbuffer_add_printf(b, "# HELP " METRIC_PREFIX "%s %s\n# TYPE " METRIC_PREFIX "%s %s\n",
                        name, help, name, type);
}

/* The logical unit's designator: objects are per LU, and two LUs can have
 * the same target and LUN number (a SAN maps LUN numbers per host). */
static const char *lu_label(const struct lun *l)
{
    static char text[SCSI_DEVID_TEXT_MAX];

    scsi_devid_text(&l->key.id, text, sizeof(text));
    return text;
}

static void portal_up_sample(const struct health_portal_info *i, void *arg)
{
    evbuffer_add_printf(arg, METRIC_PREFIX "backend_portal_up{target=\"%s\",portal=\"%s\"} %d\n",
                        i->target, i->portal, i->up);
}

static void portal_probe_sample(const struct health_portal_info *i, void *arg)
{
    if (i->latency_us != UINT64_MAX)
        evbuffer_add_printf(arg, METRIC_PREFIX "backend_portal_probe_seconds{target=\"%s\","
                            "portal=\"%s\"} %.6f\n", i->target, i->portal,
                            (double)i->latency_us / 1e6);
}

/* Whether each backend portal answers (health.c), and how fast it last did. */
static void render_portal_metrics(const struct proxy *p, struct evbuffer *b)
{
    metric_head(b, "backend_portal_up", "1 when the backend portal answers iSCSI within "
                "health_deadline (backend sessions' commands and NOP-Outs, or a probe login).",
                "gauge");
    health_each(p, portal_up_sample, b);
    metric_head(b, "backend_portal_probe_seconds", "Round trip of the last probe login or "
                "NOP-Out through the backend portal.", "gauge");
    health_each(p, portal_probe_sample, b);
}

static void portal_json(const struct health_portal_info *i, void *arg)
{
    json_t *o = json_pack("{s:s, s:s, s:b}", "target", i->target, "portal", i->portal, "up",
                          i->up);

    if (!o)
        return;
    if (!i->up)
        json_object_set_new(o, "reason", json_string(i->known ? i->why : "not checked yet"));
    if (i->latency_us != UINT64_MAX)
        json_object_set_new(o, "probe_seconds", json_real((double)i->latency_us / 1e6));
    json_array_append_new(arg, o);
}

void stats_render_metrics(const struct proxy *p, struct evbuffer *b)
{
    const struct lun *l;

    metric_head(b, "connections", "Open initiator connections.", "gauge");
    evbuffer_add_printf(b, METRIC_PREFIX "connections %u\n", count_connections(p));
    metric_head(b, "connections_total", "Initiator connections accepted.", "counter");
    evbuffer_add_printf(b, METRIC_PREFIX "connections_total %" PRIu64 "\n",
                        p->n.connections_total);
    metric_head(b, "sessions", "Sessions in Full Feature Phase.", "gauge");
    for (size_t i = 0; i < p->conf->n_targets; i++)
        evbuffer_add_printf(b, METRIC_PREFIX "sessions{target=\"%s\"} %u\n",
                            p->conf->targets[i].name, count_sessions(p, &p->conf->targets[i]));
    metric_head(b, "sessions_total", "Logins that reached Full Feature Phase.", "counter");
    evbuffer_add_printf(b, METRIC_PREFIX "sessions_total %" PRIu64 "\n", p->n.sessions_total);
    metric_head(b, "login_failures_total", "Logins refused, by reason (login status).",
                "counter");
    for (int r = 0; r < ISCSI_LOGIN_FAILURE_COUNT; r++)
        evbuffer_add_printf(b, METRIC_PREFIX "login_failures_total{reason=\"%s\"} %" PRIu64 "\n",
                            iscsi_login_failure_name((enum iscsi_login_failure)r),
                            p->n.login_failures[r]);
    metric_head(b, "rejected_pdus_total", "PDUs answered with Reject, by reason code.",
                "counter");
    for (unsigned r = 0; r < 16; r++) {
        if (p->n.rejected_pdus[r])
            evbuffer_add_printf(b, METRIC_PREFIX "rejected_pdus_total{reason=\"0x%02x\"} %" PRIu64
                                "\n", r, p->n.rejected_pdus[r]);
    }
    metric_head(b, "protocol_closes_total", "Connections closed for bad input.", "counter");
    evbuffer_add_printf(b, METRIC_PREFIX "protocol_closes_total %" PRIu64 "\n",
                        p->n.protocol_closes_total);
    metric_head(b, "connections_refused_total", "Initiator connections a limit refused or "
                "closed, by reason.", "counter");
    for (int r = 0; r < CONN_REFUSED_COUNT; r++)
        evbuffer_add_printf(b, METRIC_PREFIX "connections_refused_total{reason=\"%s\"} %" PRIu64
                            "\n", conn_refusal_name((enum conn_refusal)r),
                            p->n.connections_refused[r]);
    metric_head(b, "accept_pauses_total", "Times accept() ran out of descriptors or memory "
                "and the listeners paused.", "counter");
    evbuffer_add_printf(b, METRIC_PREFIX "accept_pauses_total %" PRIu64 "\n", p->n.accept_pauses);
    metric_head(b, "loop_waits_total", "Times the event loop waited in epoll for work (each "
                "may sleep, and a wake-up costs tens of microseconds).", "counter");
    evbuffer_add_printf(b, METRIC_PREFIX "loop_waits_total %" PRIu64 "\n", p->n.loop_waits);
    metric_head(b, "loop_poll_hits_total", "Times polling (poll_us) found traffic before the "
                "loop waited: wake-ups saved.", "counter");
    evbuffer_add_printf(b, METRIC_PREFIX "loop_poll_hits_total %" PRIu64 "\n",
                        p->n.loop_poll_hits);
    metric_head(b, "loop_poll_idle_seconds_total", "CPU time polling spent finding nothing.",
                "counter");
    evbuffer_add_printf(b, METRIC_PREFIX "loop_poll_idle_seconds_total %.6f\n",
                        (double)p->n.loop_poll_idle_us / 1e6);
    metric_head(b, "negatives_blocked", "Copies and mutations of unknown outcome that may "
                "still write: while above 0 no cache learns a hole.", "gauge");
    evbuffer_add_printf(b, METRIC_PREFIX "negatives_blocked %u\n", p->negatives_blocked);
    render_portal_metrics(p, b);

    metric_head(b, "zero_serving", "1 when the LUN's zeros are served by the proxy.", "gauge");
    TAILQ_FOREACH(l, &p->luns, link)
        evbuffer_add_printf(b, METRIC_PREFIX "zero_serving{target=\"%s\",lun=\"%u\",lu=\"%s\"} %d\n",
                            l->target->name, l->number, lu_label(l), lun_zero_serving(l));
    for (size_t m = 0; m < sizeof(lun_metrics) / sizeof(lun_metrics[0]); m++) {
        const struct lun_metric *lm = &lun_metrics[m];
        if (lm->help)
            metric_head(b, lm->name, lm->help, lm->type);
        TAILQ_FOREACH(l, &p->luns, link)
            evbuffer_add_printf(b, METRIC_PREFIX "%s{target=\"%s\",lun=\"%u\",lu=\"%s\"%s%s} %" PRIu64 "\n",
                                lm->name, l->target->name, l->number, lu_label(l), lm->extra_label ? "," : "",
                                lm->extra_label ? lm->extra_label : "", counter_at(l, lm->offset));
    }
    static const char *const state_names[PAGE_STATES] = { "unknown", "allocated", "unallocated",
                                                          "partial" };
    metric_head(b, "cache_pages", "Allocation cache pages by state.", "gauge");
    TAILQ_FOREACH(l, &p->luns, link) {
        struct allocmap_stats st;
        if (!l->map)
            continue;
        allocmap_stats(l->map, &st);
        for (int s = 0; s < PAGE_STATES; s++)
            evbuffer_add_printf(b, METRIC_PREFIX "cache_pages{target=\"%s\",lun=\"%u\",lu=\"%s\","
                                "state=\"%s\"} %" PRIu64 "\n", l->target->name, l->number, lu_label(l),
                                state_names[s], st.pages[s]);
    }
    metric_head(b, "backend_command_duration_seconds",
                "Commands sent to the backend, by time to their status.", "histogram");
    TAILQ_FOREACH(l, &p->luns, link) {
        uint64_t cumulative = 0;
        for (int i = 0; i <= LUN_LATENCY_BUCKETS; i++) {
            cumulative += l->latency.bucket[i];
            if (i < LUN_LATENCY_BUCKETS)
                evbuffer_add_printf(b, METRIC_PREFIX "backend_command_duration_seconds_bucket{"
                                    "target=\"%s\",lun=\"%u\",lu=\"%s\",le=\"%g\"} %" PRIu64 "\n",
                                    l->target->name, l->number, lu_label(l),
                                    (double)lun_latency_bounds_us[i] / 1e6, cumulative);
            else
                evbuffer_add_printf(b, METRIC_PREFIX "backend_command_duration_seconds_bucket{"
                                    "target=\"%s\",lun=\"%u\",lu=\"%s\",le=\"+Inf\"} %" PRIu64 "\n",
                                    l->target->name, l->number, lu_label(l), cumulative);
        }
        evbuffer_add_printf(b, METRIC_PREFIX "backend_command_duration_seconds_sum{target=\"%s\","
                            "lun=\"%u\",lu=\"%s\"} %.6f\n", l->target->name, l->number, lu_label(l),
                            (double)l->latency.sum_us / 1e6);
        evbuffer_add_printf(b, METRIC_PREFIX "backend_command_duration_seconds_count{target=\"%s\","
                            "lun=\"%u\",lu=\"%s\"} %" PRIu64 "\n", l->target->name, l->number, lu_label(l),
                            l->latency.count);
    }
    metric_head(b, "cache_memory_limit_bytes", "cache_memory_limit: the budget of all "
                "allocation cache objects.", "gauge");
    evbuffer_add_printf(b, METRIC_PREFIX "cache_memory_limit_bytes %" PRIu64 "\n",
                        p->conf->cache_memory_limit);
    metric_head(b, "cache_memory_total_bytes", "Memory of all allocation cache objects "
                "(objects, mutation rings, maps).", "gauge");
    evbuffer_add_printf(b, METRIC_PREFIX "cache_memory_total_bytes %" PRIu64 "\n",
                        lun_cache_memory(p));
    metric_head(b, "cache_memory_bytes", "Memory of the allocation cache.", "gauge");
    TAILQ_FOREACH(l, &p->luns, link) {
        struct allocmap_stats st = { 0 };
        if (l->map)
            allocmap_stats(l->map, &st);
        evbuffer_add_printf(b, METRIC_PREFIX "cache_memory_bytes{target=\"%s\",lun=\"%u\",lu=\"%s\"} %zu\n",
                            l->target->name, l->number, lu_label(l), st.memory_bytes);
    }
}

/* The allocation map along the LUN in at most MAP_CELLS cells, one letter a
 * cell: 'a' all allocated, 'u' all unallocated, 'k' all unknown, 'm' mixed
 * (states differ, or pages allocated in part).
 * O(state runs), so a large uniform map costs little. */
#define MAP_CELLS 256
static void map_summary(const struct allocmap *m, char out[MAP_CELLS + 1])
{
    static const char letter[PAGE_STATES] = { 'k', 'a', 'u', 'm' };   /* PARTIAL: mixed */
    uint64_t pages = allocmap_pages(m);
    uint64_t cells = pages < MAP_CELLS ? pages : MAP_CELLS;

    for (uint64_t i = 0; i < cells; i++) {
        uint64_t p = pages * i / cells, end = pages * (i + 1) / cells, run;
        int seen = -1;
        while (p < end) {
            enum page_state s = allocmap_run(m, p, end - p, &run);
            if (run == 0)
                break;
            seen = seen < 0 || seen == (int)s ? (int)s : PAGE_PARTIAL;
            p += run;
        }
        out[i] = seen < 0 ? 'k' : letter[seen];
    }
    out[cells] = '\0';
}

static json_t *lun_json(const struct lun *l)
{
    json_t *counters = json_object();
    for (size_t m = 0; m < sizeof(lun_metrics) / sizeof(lun_metrics[0]); m++) {
        const struct lun_metric *lm = &lun_metrics[m];
        char key[96];
        if (lm->extra_label) {      /* path="zero" -> read_commands_total_zero */
            const char *v = strchr(lm->extra_label, '"') + 1;
            snprintf(key, sizeof(key), "%s_%.*s", lm->name, (int)strcspn(v, "\""), v);
        } else {
            snprintf(key, sizeof(key), "%s", lm->name);
        }
        json_object_set_new(counters, key, json_integer((json_int_t)counter_at(l, lm->offset)));
    }
    json_object_set_new(counters, "backend_commands_total", json_integer((json_int_t)l->latency.count));
    json_object_set_new(counters, "backend_command_seconds_total",
                        json_real((double)l->latency.sum_us / 1e6));
    json_t *o = json_pack("{s:s, s:I, s:s, s:s?, s:s, s:o}", "target", l->target->name,
                          "lun", (json_int_t)l->number, "state", lun_state_name(l),
                          "reason", l->why, "coherence", conf_coherence_name(l->coherence.mode),
                          "counters", counters);
    /* One cache per logical unit: its VPD 83h designator, the backend it
     * was read from, and how many sessions, tasks and probes use it. */
    json_object_set_new(o, "identity", json_string(lu_label(l)));
    json_object_set_new(o, "backend_address", json_string(l->key.backend_addr));
    json_object_set_new(o, "users", json_integer((json_int_t)l->refs));
    if (l->map) {
        struct allocmap_stats st;
        char map[MAP_CELLS + 1];
        allocmap_stats(l->map, &st);
        map_summary(l->map, map);
        json_object_set_new(o, "map", json_string(map));
        /* "data": the map's zeros were learned from READ data, not reported holes */
        json_object_set_new(o, "zeros_from", json_string(lu_zero_source_name(l->zeros_from)));
        json_object_set_new(o, "cache", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
            "block_size", (json_int_t)l->block_size, "blocks", (json_int_t)l->n_blocks,
            "page_blocks", (json_int_t)l->page_blocks,
            "pages_unknown", (json_int_t)st.pages[PAGE_UNKNOWN],
            "pages_allocated", (json_int_t)st.pages[PAGE_ALLOCATED],
            "pages_unallocated", (json_int_t)st.pages[PAGE_UNALLOCATED],
            "pages_partial", (json_int_t)st.pages[PAGE_PARTIAL],
            "memory_bytes", (json_int_t)st.memory_bytes));
    }
    return o;
}

char *stats_render_json(const struct proxy *p)
{
    const struct lun *l;
    json_t *luns = json_array();
    json_t *rejects = json_object();
    json_t *login_failures = json_object();
    json_t *refused = json_object();

    TAILQ_FOREACH(l, &p->luns, link)
        json_array_append_new(luns, lun_json(l));
    for (unsigned r = 0; r < 16; r++) {
        char key[8];
        snprintf(key, sizeof(key), "0x%02x", r);
        if (p->n.rejected_pdus[r])
            json_object_set_new(rejects, key, json_integer((json_int_t)p->n.rejected_pdus[r]));
    }
    for (int r = 0; r < ISCSI_LOGIN_FAILURE_COUNT; r++)
        json_object_set_new(login_failures, iscsi_login_failure_name((enum iscsi_login_failure)r),
                            json_integer((json_int_t)p->n.login_failures[r]));
    for (int r = 0; r < CONN_REFUSED_COUNT; r++)
        json_object_set_new(refused, conn_refusal_name((enum conn_refusal)r),
                            json_integer((json_int_t)p->n.connections_refused[r]));
    json_t *root = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}",
                             "connections", (json_int_t)count_connections(p),
                             "connections_total", (json_int_t)p->n.connections_total,
                             "sessions", (json_int_t)count_sessions(p, NULL),
                             "sessions_total", (json_int_t)p->n.sessions_total,
                             "cache_memory_limit_bytes", (json_int_t)p->conf->cache_memory_limit,
                             "cache_memory_total_bytes", (json_int_t)lun_cache_memory(p),
                             "login_failures_total", login_failures,
                             "rejected_pdus_total", rejects, "luns", luns);
    /* Copies or mutations of unknown outcome that may still write
     * (lun_guard.c): while above 0, no cache learns a hole. */
    if (root) {
        json_object_set_new(root, "negatives_blocked", json_integer(p->negatives_blocked));
        json_object_set_new(root, "accept_pauses_total",
                            json_integer((json_int_t)p->n.accept_pauses));
        json_object_set_new(root, "event_loop",
                            json_pack("{s:I, s:I, s:f}",
                                      "waits_total", (json_int_t)p->n.loop_waits,
                                      "poll_hits_total", (json_int_t)p->n.loop_poll_hits,
                                      "poll_idle_seconds_total",
                                      (double)p->n.loop_poll_idle_us / 1e6));
    }
    /* Connections a limit refused or closed (conn_limits.c). */
    if (root)
        json_object_set_new(root, "connections_refused_total", refused);
    else
        json_decref(refused);
    json_t *portals = json_array();
    health_each(p, portal_json, portals);
    if (root)
        json_object_set_new(root, "backend_portals", portals);
    else
        json_decref(portals);
    char *text = root ? json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
    json_decref(root);
    return text;
}
