/*
 * Log lines a connection's initiator can cause at will (its PDUs, logins,
 * commands, and the SAN's answers to them), or the SAN can (unit
 * attentions invalidating and re-probing a LUN), rate-limited per source
 * address, the initiator's or (lun_log) the SAN's (log_limit.h;
 * docs/ARCHITECTURE.md, "Limits"): a flood from one address writes at
 * most PEER_LOG_BURST lines per interval, and the next
 * line logged says how many were suppressed (log_limited).
 */
#include <stdarg.h>

#include "conn.h"
#include "log.h"
#include "lun.h"
#include "server.h"

void conn_log(const struct conn *c, enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vlimited(&c->proxy->peer_log, c->addr, level, fmt, ap);
    va_end(ap);
}

void lun_log(const struct lun *l, enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vlimited(&l->proxy->peer_log, l->key.backend_addr, level, fmt, ap);
    va_end(ap);
}
