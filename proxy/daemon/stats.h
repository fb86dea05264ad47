/*
 * The stats endpoint on stats_listen, served by libevent's evhttp on the
 * proxy's own loop: /metrics (Prometheus text exposition format), /stats
 * (the same figures as JSON), /healthz (200, or 503 with the reasons).
 * Never secrets, never initiator data.
 */
#ifndef ISP_STATS_H
#define ISP_STATS_H

struct proxy;

/* Returns 0 (also when stats are off), or -1 (logged) if it cannot listen. */
int stats_start(struct proxy *p);
void stats_stop(struct proxy *p);

#endif
