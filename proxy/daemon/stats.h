/*
 * The stats endpoint on stats_listen, served by libevent's evhttp on the
 * proxy's own loop: / (the dashboard), /metrics (Prometheus text exposition
 * format), /stats (the same figures as JSON), /healthz (200, or 503 with
 * the reasons).  Never secrets, never initiator data.
 *   stats_http.c  the endpoint: routes, bearer token, TLS, bounds
 *   stats.c       the /metrics and /stats pages
 *   stats_tls.c   the TLS server context
 */
#ifndef ISP_STATS_H
#define ISP_STATS_H

#include <stddef.h>

#include <openssl/types.h>

struct proxy;
struct evbuffer;

/* Connections the endpoint holds at once; past it, it accepts no more
 * until one closes (docs/ARCHITECTURE.md, "The stats endpoint"). */
#define STATS_MAX_CONNECTIONS 64

/* stats_http.c */
/* Returns 0 (also when stats are off), or -1 (logged) if it cannot listen
 * or load its certificate. */
int stats_start(struct proxy *p);
void stats_stop(struct proxy *p);
/* After a reload: the certificate and key are read again (a bad pair keeps
 * the running one); the token is p->conf's at every request.  Turning TLS
 * on or off takes a restart. */
void stats_reload(struct proxy *p);

/* stats.c */
void stats_render_metrics(const struct proxy *p, struct evbuffer *b);
/* /stats as JSON text (malloc'ed), or NULL when out of memory. */
char *stats_render_json(const struct proxy *p);

/* stats_tls.c */
/* A TLS server context (TLS 1.2 at least) holding the certificate chain
 * and its private key, both PEM files; NULL with one line in err. */
SSL_CTX *stats_tls_new(const char *cert, const char *key, char *err, size_t err_len);

#endif
