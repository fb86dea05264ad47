/* The proxy as a whole: configuration, listeners, live connections. */
#ifndef ISP_SERVER_H
#define ISP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "conf.h"
#include "conn.h"
#include "iscsi_discovery.h"
#include "lun.h"

struct proxy {
    struct event_base *base;
    struct conf *conf;
    struct evconnlistener **listeners;
    size_t n_listeners;
    struct conn_list conns;
    struct lun_list luns;           /* every backend LUN reached, kept for the proxy's life */
    uint16_t next_tsih;
    /* What SendTargets answers: our target names and our own portals. */
    const char **target_names;
    struct iscsi_portal *portals;
    char (*portal_text)[80];
    size_t n_portals;
};

struct proxy *proxy_new(struct event_base *base, struct conf *conf);
/* Open every listen portal; -1 (logged) if any fails. */
int proxy_listen(struct proxy *p);
/* Stop accepting and close every connection (torn down on the next loop turn). */
void proxy_stop(struct proxy *p);
/* Free what is left once the loop has run the teardowns. */
void proxy_free(struct proxy *p);
/* A fresh non-zero session handle. */
uint16_t proxy_alloc_tsih(struct proxy *p);

#endif
