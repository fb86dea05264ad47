/*
 * The daemon's event loop: libevent's, polling poll_us before each sleep
 * (event_poll.c).
 */
#ifndef ISP_EVENT_POLL_H
#define ISP_EVENT_POLL_H

struct proxy;

/* Runs until event_base_loopexit/loopbreak or an event_base error. */
void proxy_run(struct proxy *p);

/* Called by the callbacks that read from a socket (an initiator's
 * connection, a backend session): there was traffic, poll on. */
void event_poll_note_traffic(void);

#endif
