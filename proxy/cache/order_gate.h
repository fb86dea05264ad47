/*
 * Task attributes (SAM-5 task set management) kept by the proxy itself:
 * libiscsi sends every task to the backend SIMPLE, so the ordering an
 * initiator asks for would be lost there.  Per session, tasks of one LUN:
 *
 *   HEAD OF QUEUE  starts at once, and is placed ahead of every task held;
 *   SIMPLE         starts when no ORDERED or HEAD OF QUEUE task ahead of it
 *                  (same LUN) is still in the gate;
 *   ORDERED        starts when no task at all is ahead of it (same LUN): every
 *                  older task has completed; it holds every SIMPLE or ORDERED
 *                  task behind it until it completes.
 *
 * ACA (and the reserved attribute values) are kept as ORDERED: the proxy never
 * establishes an ACA condition (NACA is the backend's business), and ORDERED
 * is the strictest order that still lets the task run.  Untagged (0) is
 * SIMPLE (SAM: an untagged task has an implied SIMPLE attribute).
 *
 * Pure: the caller embeds a node in each task, asks whether the task may
 * start, and after a completion asks which held tasks may start now.  Memory
 * is the caller's (one node per task; tasks are bounded by the CmdSN window).
 */
#ifndef ISP_ORDER_GATE_H
#define ISP_ORDER_GATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

enum order_attr {
    ORDER_SIMPLE = 0,
    ORDER_ORDERED,
    ORDER_HEAD_OF_QUEUE,
};

struct order_node {
    TAILQ_ENTRY(order_node) link;
    uint32_t lun;
    enum order_attr attr;
    bool in_gate;       /* entered, not yet left */
    bool waiting;       /* asked to start and was held */
    bool started;
};

struct order_gate {
    TAILQ_HEAD(, order_node) q;     /* oldest first; HEAD OF QUEUE at the front */
    unsigned n_barriers;            /* ORDERED and HEAD OF QUEUE nodes in q */
    unsigned n_waiting;
};

/* The ATTR field of an iSCSI SCSI Command PDU (RFC 7143 11.3.1, byte 1
 * bits 2-0: 0 untagged, 1 simple, 2 ordered, 3 head of queue, 4 ACA). */
enum order_attr order_attr_from_iscsi(uint8_t attr_bits);

void order_gate_init(struct order_gate *g);
/* A task arrives (in command order) with this LUN and attribute. */
void order_gate_enter(struct order_gate *g, struct order_node *n, uint32_t lun,
                      enum order_attr attr);
/* The task is ready to go to the backend: true if it may start now (it is
 * then started); else it is held until order_gate_next hands it out. */
bool order_gate_request(struct order_gate *g, struct order_node *n);
/* The task completed, was aborted or its connection closes (idempotent;
 * a node never entered is ignored). */
void order_gate_leave(struct order_gate *g, struct order_node *n);
/* A held task that may start now (marked started), or NULL. */
struct order_node *order_gate_next(struct order_gate *g);

#endif
