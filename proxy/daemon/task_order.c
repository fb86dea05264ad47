/*
 * Task attributes honoured by the proxy (order_gate.h): libiscsi sends every
 * task SIMPLE, so a task the gate holds waits here, before it is planned or
 * sent to the backend, and starts on a later loop turn when the tasks it
 * waits for are gone.  Releasing on a loop turn of its own keeps a start
 * (which may complete at once: a READ answered from zeros) out of the code
 * that ended a task, which may be walking the session's task list.
 */
#include <stddef.h>

#include "conn.h"
#include "log.h"

void task_order_enter(struct task *t, uint8_t attr_bits)
{
    order_gate_enter(&t->conn->order, &t->order, t->lun_no, order_attr_from_iscsi(attr_bits));
}

/* Planned against the cache, or sent to the backend whole. */
static void task_begin(struct task *t)
{
    if (!task_read_start(t))
        task_submit(t);
}

void task_start(struct task *t)
{
    if (!order_gate_request(&t->conn->order, &t->order)) {
        t->state = TASK_HELD;
        return;
    }
    task_begin(t);
}

void task_order_leave(struct task *t)
{
    struct conn *c = t->conn;

    order_gate_leave(&c->order, &t->order);
    if (c->order.n_waiting && c->state != CONN_CLOSING)
        event_active(c->order_ev, EV_TIMEOUT, 0);
}

void task_order_release_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    struct order_node *n;

    (void)fd;
    (void)what;
    while (c->state != CONN_CLOSING && (n = order_gate_next(&c->order)) != NULL) {
        struct task *t = (struct task *)(void *)((char *)n - offsetof(struct task, order));
        log_debug("%s: ITT 0x%08x released by the task order", c->peer, t->itt);
        task_begin(t);
    }
}
