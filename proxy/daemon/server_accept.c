/*
 * When accept() fails for want of descriptors or memory (EMFILE, ENFILE,
 * ENOBUFS, ENOMEM), the connection stays in the kernel's queue and the
 * listener is readable again at once: libevent's accept loop would spin at
 * 100% CPU and log without end.  So every listener stops accepting for
 * ACCEPT_PAUSE_MS, one line per interval says how often it happened, and
 * the sessions already in go on (docs/ARCHITECTURE.md, "Limits").  Also
 * the descriptor limit is raised to its hard limit at start.
 */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/listener.h>

#include "clock.h"
#include "log.h"
#include "server.h"

#define ACCEPT_PAUSE_MS 250

void proxy_raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
        log_info("file descriptor limit raised from %llu to %llu", (unsigned long long)was,
                 (unsigned long long)rl.rlim_max);
}

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct proxy *p = arg;

    (void)fd;
    (void)what;
    p->accept_paused = false;
    for (size_t i = 0; i < p->n_listeners; i++)
        evconnlistener_enable(p->listeners[i]);
}

void proxy_accept_error_cb(struct evconnlistener *l, void *arg)
{
    struct proxy *p = arg;
    int err = EVUTIL_SOCKET_ERROR();
    bool starved = err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
    struct log_limit_verdict v = log_limit_check(&p->refusal_log, starved ? "accept: out of "
                                                 "descriptors" : "accept: error", clock_now_us());

    (void)l;
    if (v.log)
        log_warn("accept: %s%s (%llu more since the last line)%s",
                 strerror(err), v.shared ? " (shared entry)" : "",
                 (unsigned long long)v.suppressed,
                 starved ? "; not accepting for a moment, sessions already in go on" : "");
    if (!starved || p->accept_paused)
        return;
    p->n.accept_pauses++;
    struct timeval tv = { 0, ACCEPT_PAUSE_MS * 1000 };
    if (!p->accept_ev)
        p->accept_ev = evtimer_new(p->base, accept_resume_cb, p);
    if (!p->accept_ev || evtimer_add(p->accept_ev, &tv) < 0)
        return;     /* cannot time a pause: keep accepting */
    p->accept_paused = true;
    for (size_t i = 0; i < p->n_listeners; i++)
        evconnlistener_disable(p->listeners[i]);
}
