/*
 * SAM-5 task attribute rules for the tasks a session sends to one LUN of the
 * backend (see order_gate.h).  One list per session in arrival order; the
 * rules look only at nodes of the same LUN.  Without ORDERED or HEAD OF QUEUE
 * nodes in the gate (the usual case) every answer is O(1).
 */
#include "order_gate.h"

#include <stddef.h>

enum order_attr order_attr_from_iscsi(uint8_t attr_bits)
{
    switch (attr_bits & 0x07) {
    case 0:                     /* untagged: implied SIMPLE */
    case 1:
        return ORDER_SIMPLE;
    case 3:
        return ORDER_HEAD_OF_QUEUE;
    default:                    /* 2 ORDERED; 4 ACA and 5-7 reserved: as ORDERED */
        return ORDER_ORDERED;
    }
}

void order_gate_init(struct order_gate *g)
{
    TAILQ_INIT(&g->q);
    g->n_barriers = 0;
    g->n_waiting = 0;
}

void order_gate_enter(struct order_gate *g, struct order_node *n, uint32_t lun,
                      enum order_attr attr)
{
    n->lun = lun;
    n->attr = attr;
    n->in_gate = true;
    n->waiting = false;
    n->started = false;
    if (attr == ORDER_HEAD_OF_QUEUE)
        TAILQ_INSERT_HEAD(&g->q, n, link);
    else
        TAILQ_INSERT_TAIL(&g->q, n, link);
    if (attr != ORDER_SIMPLE)
        g->n_barriers++;
}

/* May n start, given the nodes ahead of it? */
static bool may_start(const struct order_gate *g, const struct order_node *n)
{
    if (n->attr == ORDER_HEAD_OF_QUEUE || g->n_barriers == 0)
        return true;
    for (const struct order_node *o = TAILQ_FIRST(&g->q); o != n; o = TAILQ_NEXT(o, link)) {
        if (o->lun != n->lun)
            continue;
        if (n->attr == ORDER_ORDERED || o->attr != ORDER_SIMPLE)
            return false;
    }
    return true;
}

bool order_gate_request(struct order_gate *g, struct order_node *n)
{
    if (!n->in_gate || n->started)
        return true;
    if (may_start(g, n)) {
        if (n->waiting) {
            n->waiting = false;
            g->n_waiting--;
        }
        n->started = true;
        return true;
    }
    if (!n->waiting) {
        n->waiting = true;
        g->n_waiting++;
    }
    return false;
}

void order_gate_leave(struct order_gate *g, struct order_node *n)
{
    if (!n->in_gate)
        return;
    TAILQ_REMOVE(&g->q, n, link);
    n->in_gate = false;
    if (n->attr != ORDER_SIMPLE)
        g->n_barriers--;
    if (n->waiting) {
        n->waiting = false;
        g->n_waiting--;
    }
}

struct order_node *order_gate_next(struct order_gate *g)
{
    if (g->n_waiting == 0)
        return NULL;
    struct order_node *n;
    TAILQ_FOREACH(n, &g->q, link) {
        if (n->waiting && order_gate_request(g, n))
            return n;
    }
    return NULL;
}
