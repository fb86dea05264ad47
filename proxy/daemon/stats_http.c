/*
 * The stats endpoint itself (see stats.h): evhttp on stats_listen, its
 * routes, the bearer token (stats_token_file), HTTPS (stats_tls_cert,
 * stats_tls_key) and the bounds that keep clients from holding the proxy's
 * memory or descriptors (docs/ARCHITECTURE.md, "The stats endpoint").
 *
 * libevent 2.1 has no connection limit for evhttp (2.2 has
 * evhttp_set_max_connections), so the endpoint counts connections itself:
 * up in evhttp's bufferevent callback (new_connection), down in the
 * connection's close callback, and pauses its listener at
 * STATS_MAX_CONNECTIONS.  The close callback needs the evhttp_connection,
 * which evhttp creates after new_connection returns; it is found on the
 * next loop turn (adopt_cb) as the argument evhttp gives every callback of
 * the connection's bufferevent.  Until then the endpoint holds a reference
 * to the bufferevent, so one evhttp has given up meanwhile is still there
 * to be seen as such (its callbacks cleared).
 */
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "dashboard.h"
#include "health.h"
#include "log.h"
#include "log_limit.h"
#include "server.h"

#define STATS_MAX_HEADERS_SIZE  8192    /* request line and headers, bytes */
#define STATS_MAX_BODY_SIZE     4096    /* GET and HEAD only: no body is needed */
#define STATS_IDLE_SECONDS      10      /* no byte read or written for this long: closed */
#define STATS_LOG_INTERVAL_US   (10 * 1000000u)
#define HTTP_UNAUTHORIZED       401     /* not among libevent 2.1's HTTP_* codes */

struct stats_endpoint {
    struct proxy *proxy;
    struct evhttp *http;
    struct evconnlistener *listener;    /* evhttp's own, paused at the cap */
    SSL_CTX *tls;                   /* NULL: plain HTTP */
    unsigned n_conns;               /* accepted and not closed */
    bool paused;
    /* accepted this loop turn, referenced until adopt_cb (at most n_conns) */
    struct bufferevent *fresh[STATS_MAX_CONNECTIONS];
    unsigned n_fresh;
    struct event *adopt_ev;
    struct log_limit log;           /* requests without the token; the cap */
};

/* ---- connections ------------------------------------------------------------- */

static void connection_closed(struct evhttp_connection *evcon, void *arg)
{
    struct stats_endpoint *ep = arg;

    (void)evcon;
    ep->n_conns--;
    if (ep->paused && ep->listener && ep->n_conns < STATS_MAX_CONNECTIONS) {
        evconnlistener_enable(ep->listener);
        ep->paused = false;
    }
}

static void adopt_cb(evutil_socket_t fd, short what, void *arg)
{
    struct stats_endpoint *ep = arg;

    (void)fd;
    (void)what;
    for (unsigned i = 0; i < ep->n_fresh; i++) {
        bufferevent_event_cb eventcb = NULL;
        void *evcon = NULL;
        bufferevent_getcb(ep->fresh[i], NULL, NULL, &eventcb, &evcon);
        if (eventcb && evcon)
            evhttp_connection_set_closecb(evcon, connection_closed, ep);
        else
            connection_closed(NULL, ep);    /* evhttp freed it already */
        bufferevent_decref(ep->fresh[i]);
    }
    ep->n_fresh = 0;
}

/* evhttp's bufferevent callback, for every connection it accepts.  (Were
 * it to return NULL, evhttp would make a plain socket bufferevent itself:
 * only under a memory shortage, when a TLS client then gets a 400.) */
static struct bufferevent *new_connection(struct event_base *base, void *arg)
{
    struct stats_endpoint *ep = arg;
    struct bufferevent *bev;

    if (ep->n_fresh == STATS_MAX_CONNECTIONS)
        return NULL;        /* cannot happen: the listener pauses first */
    if (ep->tls) {
        /* With BEV_OPT_CLOSE_ON_FREE it frees ssl, also when it fails. */
        SSL *ssl = SSL_new(ep->tls);
        bev = ssl ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                   BEV_OPT_CLOSE_ON_FREE) : NULL;
    } else {
        bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    if (!bev)
        return NULL;
    bufferevent_incref(bev);
    ep->fresh[ep->n_fresh++] = bev;
    event_active(ep->adopt_ev, EV_TIMEOUT, 0);
    if (++ep->n_conns >= STATS_MAX_CONNECTIONS && !ep->paused) {
        /* Further connections wait in the kernel's accept queue. */
        evconnlistener_disable(ep->listener);
        ep->paused = true;
        log_limited(&ep->log, "connection cap", LOG_LVL_WARN,
                    "stats endpoint: %u connections open (the cap): no more accepted until "
                    "one closes", ep->n_conns);
    }
    return bev;
}

/* ---- requests ----------------------------------------------------------------- */

/* The request carries "Authorization: Bearer <stats_token>", or no token is
 * configured.  SHA-256 digests make both sides the same length, so the
 * comparison (CRYPTO_memcmp, constant time) shows neither the token's bytes
 * nor its length. */
static bool authorized(const struct conf *cf, struct evhttp_request *req)
{
    unsigned char got[SHA256_DIGEST_LENGTH], want[SHA256_DIGEST_LENGTH];
    const char *h;

    if (!cf->stats_token)
        return true;
    h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    for (h += 7; *h == ' '; h++)
        ;
    SHA256((const unsigned char *)h, strlen(h), got);
    SHA256((const unsigned char *)cf->stats_token, strlen(cf->stats_token), want);
    return CRYPTO_memcmp(got, want, sizeof(got)) == 0;
}

static void send_text(struct evhttp_request *req, int code, const char *reason, const char *type,
                      struct evbuffer *body)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
    evhttp_send_reply(req, code, reason, body);
}

static void unauthorized(struct stats_endpoint *ep, struct evhttp_request *req)
{
    struct evbuffer *b = evbuffer_new();
    char *addr = NULL;
    ev_uint16_t port = 0;

    evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr, &port);
    log_limited(&ep->log, addr ? addr : "?", LOG_LVL_WARN,
                "stats endpoint: request from %s without a valid bearer token", addr ? addr : "?");
    if (!b) {
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    evbuffer_add_printf(b, "a bearer token is required\n");
    evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                      "Bearer realm=\"iscsi-sparse-proxy\"");
    send_text(req, HTTP_UNAUTHORIZED, "Unauthorized", "text/plain; charset=utf-8", b);
    evbuffer_free(b);
}

static void page_metrics(struct evhttp_request *req, void *arg)
{
    struct evbuffer *b = evbuffer_new();

    if (!b) {
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    stats_render_metrics(arg, b);
    send_text(req, HTTP_OK, "OK", "text/plain; version=0.0.4; charset=utf-8", b);
    evbuffer_free(b);
}

static void page_stats(struct evhttp_request *req, void *arg)
{
    char *text = stats_render_json(arg);
    struct evbuffer *b = evbuffer_new();

    if (!text || !b) {
        free(text);
        if (b)
            evbuffer_free(b);
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    evbuffer_add(b, text, strlen(text));
    evbuffer_add(b, "\n", 1);
    free(text);
    send_text(req, HTTP_OK, "OK", "application/json", b);
    evbuffer_free(b);
}

/* 200 when every listener is up and every target has a backend portal that
 * answers (health.c), else 503.  The reasons
 * (target names, backend addresses) only with the token, when one is set:
 * /healthz stays open to load balancers that cannot send one. */
static void page_healthz(struct evhttp_request *req, struct proxy *p, bool details)
{
    struct evbuffer *b = evbuffer_new(), *why = evbuffer_new();

    if (!b || !why) {
        if (b)
            evbuffer_free(b);
        if (why)
            evbuffer_free(why);
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    bool ok = health_ok(p, why);
    if (ok || !details)
        evbuffer_add_printf(b, ok ? "ok\n" : "not ok\n");
    if (details)        /* also a portal down of a target that still answers */
        evbuffer_add_buffer(b, why);
    send_text(req, ok ? HTTP_OK : HTTP_SERVUNAVAIL, ok ? "OK" : "Service Unavailable",
              "text/plain; charset=utf-8", b);
    evbuffer_free(why);
    evbuffer_free(b);
}

static const struct route {
    const char *path;
    void (*page)(struct evhttp_request *req, void *proxy);
} routes[] = {
    { "/", dashboard_handle },
    { "/metrics", page_metrics },
    { "/stats", page_stats },
};

/* Every request: /healthz is open; any other path, known or not, needs the
 * token first, so that a client without it learns nothing, not even which
 * paths exist. */
static void dispatch(struct evhttp_request *req, void *arg)
{
    struct stats_endpoint *ep = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    bool ok = authorized(ep->proxy->conf, req);

    if (!path)
        path = "";
    if (strcmp(path, "/healthz") == 0) {
        page_healthz(req, ep->proxy, ok);
        return;
    }
    if (!ok) {
        unauthorized(ep, req);
        return;
    }
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(path, routes[i].path) == 0) {
            routes[i].page(req, ep->proxy);
            return;
        }
    }
    evhttp_send_error(req, HTTP_NOTFOUND, NULL);
}

/* ---- start, reload, stop --------------------------------------------------------- */

static int endpoint_listen(struct stats_endpoint *ep, const struct conf_addr *a)
{
    const char *host = strcmp(a->host, "*") == 0 ? "0.0.0.0" : a->host;
    struct evhttp_bound_socket *bound;

    if (!(ep->http = evhttp_new(ep->proxy->base)))
        return -1;
    evhttp_set_allowed_methods(ep->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_max_headers_size(ep->http, STATS_MAX_HEADERS_SIZE);
    evhttp_set_max_body_size(ep->http, STATS_MAX_BODY_SIZE);
    evhttp_set_timeout(ep->http, STATS_IDLE_SECONDS);
    evhttp_set_gencb(ep->http, dispatch, ep);
    evhttp_set_bevcb(ep->http, new_connection, ep);
    bound = evhttp_bind_socket_with_handle(ep->http, host, (uint16_t)strtoul(a->port, NULL, 10));
    if (!bound) {
        log_error("stats_listen %s:%s: cannot listen", a->host, a->port);
        return -1;
    }
    ep->listener = evhttp_bound_socket_get_listener(bound);
    log_info("stats and dashboard on %s://%s%s%s:%s/ (/metrics, /stats, /healthz)%s",
             ep->tls ? "https" : "http", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "", a->port,
             ep->proxy->conf->stats_token ? ", bearer token required" : "");
    return 0;
}

int stats_start(struct proxy *p)
{
    const struct conf *cf = p->conf;
    struct stats_endpoint *ep;
    char err[512];

    /* The portal memory of backend logins lives there, stats or not. */
    if (health_start(p) < 0)
        return -1;
    if (!cf->stats_enabled)
        return 0;
    if (!(ep = calloc(1, sizeof(*ep))))
        return -1;
    ep->proxy = p;
    log_limit_init(&ep->log, STATS_LOG_INTERVAL_US, 1);
    p->stats = ep;
    if (!(ep->adopt_ev = event_new(p->base, -1, 0, adopt_cb, ep)))
        return -1;
    if (cf->stats_tls_cert &&
        !(ep->tls = stats_tls_new(cf->stats_tls_cert, cf->stats_tls_key, err, sizeof(err)))) {
        log_error("stats endpoint: %s", err);
        return -1;
    }
    return endpoint_listen(ep, &cf->stats_listen);
}

void stats_reload(struct proxy *p)
{
    struct stats_endpoint *ep = p->stats;
    const struct conf *cf = p->conf;
    char err[512];

    if (!ep)
        return;
    if (!ep->tls != !cf->stats_tls_cert) {
        log_warn("reload: stats_tls_cert and stats_tls_key %s: that takes effect at the next "
                 "restart (the stats endpoint stays %s)", cf->stats_tls_cert ? "set" : "removed",
                 ep->tls ? "HTTPS" : "plain HTTP");
    } else if (ep->tls) {
        SSL_CTX *ctx = stats_tls_new(cf->stats_tls_cert, cf->stats_tls_key, err, sizeof(err));
        if (!ctx) {
            log_error("reload: the stats endpoint keeps its certificate: %s", err);
        } else {
            /* Connections in progress hold a reference to the old context. */
            SSL_CTX_free(ep->tls);
            ep->tls = ctx;
        }
    }
    log_info("reload: stats endpoint %s, %s", ep->tls ? "HTTPS" : "plain HTTP",
             cf->stats_token ? "bearer token required" : "no token");
}

void stats_stop(struct proxy *p)
{
    struct stats_endpoint *ep = p->stats;

    health_stop(p);
    if (!ep)
        return;
    p->stats = NULL;
    /* evhttp_free frees the listener, then every connection (whose close
     * callbacks run now): they must not touch the listener. */
    ep->listener = NULL;
    if (ep->http)
        evhttp_free(ep->http);
    for (unsigned i = 0; i < ep->n_fresh; i++)
        bufferevent_decref(ep->fresh[i]);
    if (ep->adopt_ev)
        event_free(ep->adopt_ev);
    SSL_CTX_free(ep->tls);
    free(ep);
}
