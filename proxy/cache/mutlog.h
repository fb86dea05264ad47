/*
 * The race rule of the allocation cache (docs/ARCHITECTURE.md, "The race rule").  A GET LBA
 * STATUS answer describes the LUN as the backend saw it when it executed the
 * query; its "unallocated" extents must not be applied to blocks that a
 * mutation touched after the query was sent, or that a mutation still in
 * flight may touch.
 *
 * Per LUN: a sequence number bumped by every mutation; mutations in flight
 * (their nodes live in the caller's task, so this costs no allocation and is
 * bounded by the commands in flight); and a bounded ring of recently
 * completed mutations.  When the ring overwrites an entry newer than a
 * query's sequence number, that query's negatives are dropped whole.
 * Pure: no I/O.
 */
#ifndef ISP_MUTLOG_H
#define ISP_MUTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MUTLOG_WHOLE_LUN UINT64_MAX     /* blocks value: the whole LUN */

/* One mutation in flight; embedded in the caller's task. */
struct mutation {
    uint64_t seq;
    uint64_t lba;
    uint64_t blocks;                    /* MUTLOG_WHOLE_LUN: everything */
    struct mutation *prev, *next;
};

struct mutlog_entry {
    uint64_t seq;                       /* taken at completion (mutlog_end) */
    uint64_t lba;
    uint64_t blocks;
};

struct mutlog {
    uint64_t seq;                       /* last sequence number given out */
    struct mutation *inflight;          /* doubly linked, unordered */
    size_t n_inflight;
    struct mutlog_entry *ring;          /* completed, oldest overwritten */
    size_t ring_cap, ring_len, ring_head;
    uint64_t forgotten_seq;             /* highest seq overwritten in the ring */
};

/* ring_cap entries of history (>= 1).  Returns 0, or -1 (no memory, or
 * ring_cap 0). */
int mutlog_init(struct mutlog *l, size_t ring_cap);
void mutlog_destroy(struct mutlog *l);

/* The sequence number a query records when it is sent. */
static inline uint64_t mutlog_now(const struct mutlog *l) { return l->seq; }

/* A mutation of [lba, lba + blocks) is about to be sent (call before the
 * command goes out, together with allocmap_mark_allocated). */
void mutlog_begin(struct mutlog *l, struct mutation *m, uint64_t lba, uint64_t blocks);
/* It completed (successfully or not): it moves into the ring with a fresh
 * sequence number, so a mutation sent before a query but completed after it
 * still counts as newer than the query. */
void mutlog_end(struct mutlog *l, struct mutation *m);
/* The LUN may have changed behind the proxy (unit attention, reset, session
 * loss): every query sent before now loses its negatives. */
void mutlog_invalidate(struct mutlog *l);

/*
 * Filter one "unallocated" extent of an answer to a query sent at sequence
 * number `since`: emit() is called, in ascending order, for each part of
 * [lba, lba + blocks) touched by no mutation in flight and no mutation
 * completed after the query was sent (ring seq > since); parts are maximal
 * (never adjacent).  Returns false, emitting nothing, if the ring has
 * forgotten a mutation newer than `since` (the caller then drops every
 * negative of that answer).
 */
bool mutlog_filter(const struct mutlog *l, uint64_t since, uint64_t lba, uint64_t blocks,
                   void (*emit)(void *arg, uint64_t lba, uint64_t blocks), void *arg);

/*
 * The same for what a mutation still in flight (`self`, begun and not
 * ended) left in [lba, lba + blocks) when it completed: `since` is its own
 * sequence number, and its own entry excludes nothing.  Every other
 * mutation in flight, or completed after it was sent, is excluded (it may
 * have been executed after it); one completed before it was sent was
 * executed before it, and is not.
 */
bool mutlog_filter_own(const struct mutlog *l, const struct mutation *self, uint64_t lba,
                       uint64_t blocks, void (*emit)(void *arg, uint64_t lba, uint64_t blocks),
                       void *arg);

#endif
