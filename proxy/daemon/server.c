/* Listeners and the registry of live connections. */
#include "server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

/* Connections refused at accept: one line per address per interval. */
#define REFUSAL_LOG_INTERVAL_US (10 * 1000000u)
/* Lines one source address's connections may log per interval (conn_log):
 * far more than any initiator's logins and errors need, far less than a
 * flood would write. */
#define PEER_LOG_BURST 200

static void format_addr(const struct sockaddr *sa, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
        snprintf(out, len, "%s:%u", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
        snprintf(out, len, "[%s]:%u", host, port);
    } else {
        snprintf(out, len, "?");
    }
}

/* The source address without the port: the key of max_connections_per_address.
 * An IPv4 peer of an IPv6 socket (::ffff:a.b.c.d) is a.b.c.d, as on an
 * IPv4 socket. */
static void format_host(const struct sockaddr *sa, char *out, size_t len)
{
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

    snprintf(out, len, "?");
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)len);
    else if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
        inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], out, (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)len);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *peer_sa,
                      int socklen, void *arg)
{
    struct proxy *p = arg;
    struct sockaddr_storage local_sa;
    socklen_t local_len = sizeof(local_sa);
    char peer[64], local[64] = "?", addr[INET6_ADDRSTRLEN];

    (void)l;
    (void)socklen;
    format_host(peer_sa, addr, sizeof(addr));
    if (!conn_admit(p, addr)) {
        evutil_closesocket(fd);
        return;
    }
    format_addr(peer_sa, peer, sizeof(peer));
    if (getsockname(fd, (struct sockaddr *)&local_sa, &local_len) == 0)
        format_addr((struct sockaddr *)&local_sa, local, sizeof(local));
    evutil_make_socket_nonblocking(fd);
    if (!conn_new(p, fd, peer, local, addr))
        log_error("%s: cannot set up a connection: out of memory", peer);
}

struct proxy *proxy_new(struct event_base *base, struct conf *conf)
{
    struct proxy *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->base = base;
    p->conf = conf;
    p->next_tsih = 1;
    log_limit_init(&p->refusal_log, REFUSAL_LOG_INTERVAL_US, 1);
    log_limit_init(&p->peer_log, REFUSAL_LOG_INTERVAL_US, PEER_LOG_BURST);
    TAILQ_INIT(&p->conns);
    TAILQ_INIT(&p->luns);
    p->portal_text = calloc(conf->n_listen, sizeof(*p->portal_text));
    p->listeners = calloc(conf->n_listen, sizeof(*p->listeners));
    if (!p->portal_text || !p->listeners) {
        p->conf = NULL;         /* stays the caller's */
        proxy_free(p);
        return NULL;
    }
    for (size_t i = 0; i < conf->n_listen; i++) {
        const struct conf_addr *a = &conf->listen[i];
        snprintf(p->portal_text[i], sizeof(p->portal_text[i]),
                 strchr(a->host, ':') ? "[%s]:%s" : "%s:%s", a->host, a->port);
    }
    p->n_portals = conf->n_listen;
    return p;
}

void proxy_warn_anonymous(const struct conf *c)
{
    for (size_t i = 0; i < c->n_targets; i++) {
        if (c->targets[i].allow_anonymous)
            log_warn("target %s: allow_anonymous = yes: anyone who reaches the proxy logs in, "
                     "and the SAN sees whatever InitiatorName they claim", c->targets[i].name);
    }
}

static struct evconnlistener *listen_on(struct proxy *p, const struct conf_addr *a)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE };
    struct addrinfo *res = NULL;
    const char *host = strcmp(a->host, "*") == 0 ? NULL : a->host;
    int rc = getaddrinfo(host, a->port, &hints, &res);

    if (rc != 0) {
        log_error("listen %s:%s: %s", a->host, a->port, gai_strerror(rc));
        return NULL;
    }
    struct evconnlistener *l = evconnlistener_new_bind(
        p->base, accept_cb, p, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
        -1, res->ai_addr, (int)res->ai_addrlen);
    if (!l)
        log_error("listen %s:%s: %s", a->host, a->port,
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    else
        evconnlistener_set_error_cb(l, proxy_accept_error_cb);
    freeaddrinfo(res);
    return l;
}

int proxy_listen(struct proxy *p)
{
    for (size_t i = 0; i < p->conf->n_listen; i++) {
        p->listeners[i] = listen_on(p, &p->conf->listen[i]);
        if (!p->listeners[i])
            return -1;
        p->n_listeners = i + 1;
        log_info("listening for initiators on %s", p->portal_text[i]);
    }
    return 0;
}

static void close_all(struct proxy *p, const char *why)
{
    struct conn *c;

    TAILQ_FOREACH(c, &p->conns, link)
        conn_close(c, why);
    event_base_loopexit(p->base, NULL);     /* after the teardowns just queued */
}

static void shutdown_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct proxy *p = arg;

    (void)fd;
    (void)what;
    log_warn("shutdown: initiators did not all log out within %u s; closing",
             p->conf->shutdown_timeout);
    close_all(p, "proxy stopping, logout timed out");
}

void proxy_shutdown(struct proxy *p)
{
    struct conn *c;
    unsigned asked = 0;

    if (p->stopping) {
        close_all(p, "proxy stopping at once");
        return;
    }
    p->stopping = true;
    for (size_t i = 0; i < p->n_listeners; i++) {
        evconnlistener_free(p->listeners[i]);
        p->listeners[i] = NULL;
    }
    p->n_listeners = 0;
    TAILQ_FOREACH(c, &p->conns, link) {
        if (c->state == CONN_FFP && !c->params.discovery && p->conf->shutdown_timeout) {
            session_request_logout(c, p->conf->shutdown_timeout);
            asked++;
        } else {
            conn_close(c, "proxy stopping");
        }
    }
    log_info("shutdown: asked %u initiator(s) to log out, waiting up to %u s", asked,
             p->conf->shutdown_timeout);
    struct timeval tv = { (time_t)p->conf->shutdown_timeout, 0 };
    p->shutdown_ev = evtimer_new(p->base, shutdown_timeout_cb, p);
    if (asked == 0 || !p->shutdown_ev || evtimer_add(p->shutdown_ev, &tv) < 0)
        close_all(p, "proxy stopping");
}

void proxy_conn_gone(struct proxy *p)
{
    proxy_reap(p);
    if (p->stopping && TAILQ_EMPTY(&p->conns))
        event_base_loopexit(p->base, NULL);
}

void proxy_free(struct proxy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_listeners; i++)
        evconnlistener_free(p->listeners[i]);
    if (p->shutdown_ev)
        event_free(p->shutdown_ev);
    if (p->reload_ev)
        event_free(p->reload_ev);
    if (p->accept_ev)
        event_free(p->accept_ev);
    free(p->listeners);
    lun_free_all(p);
    free(p->portal_text);
    for (size_t i = 0; i < p->n_retired; i++)
        conf_free(p->retired[i]);
    free(p->retired);
    conf_free(p->conf);
    free(p);
}

uint16_t proxy_alloc_tsih(struct proxy *p)
{
    uint16_t t = p->next_tsih++;
    if (p->next_tsih == 0)      /* TSIH 0 means "new session" (RFC 7143 11.12.6) */
        p->next_tsih = 1;
    return t;
}
