/*
 * The daemon's event loop: libevent's, with a short busy poll before each
 * sleep.
 *
 * An initiator that sends its next command as soon as the last is answered
 * (qemu-img walking a LUN with GET LBA STATUS, any queue-depth-1 workload)
 * otherwise finds the proxy asleep in epoll_wait, and waking a sleeping
 * process on an idle CPU costs more than the answer itself: a loopback
 * ping-pong between two processes takes 55 us a round trip on the 2-core VM
 * this was measured on, 21 us when the answering side polls.  So after a
 * burst of work the loop asks epoll without blocking, for up to poll_us:
 * traffic within that time is handled and restarts the window; a window
 * that finds none lets the loop sleep.  The cost is at most poll_us of CPU
 * per burst, counted (loop_poll_idle_us).  QEMU's iothreads poll the same
 * way (poll-max-ns).
 *
 * Only while every initiator waits for its answers: with more than one
 * command in flight on a connection the next event comes anyway, and a
 * poll's CPU is taken from the initiator and the SAN on the same machine
 * (4 KiB random READs at 32 in flight through loopback lost a quarter of
 * their IOPS to a proxy that polled regardless).
 */
#include "event_poll.h"

#include <event2/event.h>

#include "clock.h"
#include "server.h"

/* Socket reads so far (event_poll_note_traffic): the loop is single
 * threaded, and the callbacks that count are libevent's. */
static uint64_t traffic;

void event_poll_note_traffic(void)
{
    traffic++;
}

/* Whether the last event_base_loop call ended on loopexit/loopbreak (each
 * call forgets what the one before was asked). */
static bool loop_ended(struct event_base *base)
{
    return event_base_got_exit(base) || event_base_got_break(base);
}

/* Some connection is open, none has more than one command in flight. */
static bool initiators_wait_for_answers(const struct proxy *p)
{
    return p->conns_pipelining == 0 && !TAILQ_EMPTY(&p->conns);
}

enum poll_result { POLL_TRAFFIC, POLL_IDLE, POLL_ENDED };

/* Polls up to poll_us: traffic came and was handled, the window passed
 * without any, or the loop was asked to end. */
static enum poll_result poll_for_traffic(struct proxy *p, uint64_t poll_us)
{
    uint64_t start = clock_now_us(), now = start, seen = traffic;

    while (now - start < poll_us) {
        event_base_loop(p->base, EVLOOP_NONBLOCK);
        if (loop_ended(p->base))
            return POLL_ENDED;
        if (traffic != seen) {
            p->n.loop_poll_hits++;
            return POLL_TRAFFIC;
        }
        now = clock_now_us();
    }
    p->n.loop_poll_idle_us += now - start;
    return POLL_IDLE;
}

void proxy_run(struct proxy *p)
{
    enum poll_result r;

    do {
        p->n.loop_waits++;
        if (event_base_loop(p->base, EVLOOP_ONCE) != 0 || loop_ended(p->base))
            return;
        /* poll_us is read each time: a reload (SIGHUP) changes it at once */
        do
            r = p->conf->poll_us && initiators_wait_for_answers(p)
                    ? poll_for_traffic(p, p->conf->poll_us) : POLL_IDLE;
        while (r == POLL_TRAFFIC);
    } while (r != POLL_ENDED);
}
