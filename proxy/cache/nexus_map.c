/* The logical units an I_T nexus has verified (nexus_map.h). */
#include "nexus_map.h"

#include <stdlib.h>
#include <string.h>

void nexus_map_init(struct nexus_map *m, size_t max)
{
    memset(m, 0, sizeof(*m));
    m->max = max;
}

void nexus_map_destroy(struct nexus_map *m)
{
    free(m->v);
    memset(m, 0, sizeof(*m));
}

/* Index of the first entry with lun_no >= key. */
static size_t lower_bound(const struct nexus_map *m, uint32_t key)
{
    size_t lo = 0, hi = m->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->v[mid].lun_no < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct nexus_lu *nexus_map_find(const struct nexus_map *m, uint32_t lun_no)
{
    size_t i = lower_bound(m, lun_no);
    return i < m->n && m->v[i].lun_no == lun_no ? &m->v[i] : NULL;
}

struct lun *nexus_map_lun(const struct nexus_map *m, uint32_t lun_no)
{
    const struct nexus_lu *e = nexus_map_find(m, lun_no);
    return e && e->state == NEXUS_LU_BOUND ? e->lun : NULL;
}

struct nexus_lu *nexus_map_begin(struct nexus_map *m, uint32_t lun_no)
{
    size_t i = lower_bound(m, lun_no);

    if ((i < m->n && m->v[i].lun_no == lun_no) || m->n >= m->max)
        return NULL;
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 4;
        if (cap > m->max)
            cap = m->max;
        struct nexus_lu *v = realloc(m->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        m->v = v;
        m->cap = cap;
    }
    memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
    m->n++;
    m->v[i] = (struct nexus_lu){ .lun_no = lun_no, .gen = ++m->next_gen,
                                 .state = NEXUS_LU_VERIFYING };
    return &m->v[i];
}

struct nexus_lu *nexus_map_answer(const struct nexus_map *m, uint32_t lun_no, uint32_t gen)
{
    struct nexus_lu *e = nexus_map_find(m, lun_no);
    return e && e->gen == gen && e->state == NEXUS_LU_VERIFYING ? e : NULL;
}

struct lun *nexus_map_forget(struct nexus_map *m, uint32_t lun_no)
{
    struct nexus_lu *e = nexus_map_find(m, lun_no);

    if (!e)
        return NULL;
    struct lun *l = e->state == NEXUS_LU_BOUND ? e->lun : NULL;
    size_t i = (size_t)(e - m->v);
    memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
    m->n--;
    return l;
}

void nexus_map_clear(struct nexus_map *m)
{
    m->n = 0;
}
