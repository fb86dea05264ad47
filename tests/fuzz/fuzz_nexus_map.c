/*
 * Model-based libFuzzer target for nexus_map.c, the LUs each I_T nexus
 * verified (docs/ARCHITECTURE.md, "Identity per I_T nexus"): two sessions
 * see LUN numbers 0-7 mapped to LUs by the SAN, per session, and the SAN
 * remaps them at any time.  Events: a session starts a verification (it
 * reads the LU the number names *now*), its answer arrives (possibly late,
 * after remaps and unit attentions), REPORTED LUNS DATA HAS CHANGED (every
 * number forgotten) or INQUIRY DATA HAS CHANGED (one) reaches the session,
 * a remap.
 *
 * Checked after every event: a number resolves to an object only if the
 * session's own verification answered it, with the generation it was sent
 * with, and the LU the answer named is the one bound; a remap the session
 * has been told of (by a unit attention) never leaves an old binding; the
 * array stays sorted and within its bound.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "nexus_map.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NUMBERS 8
#define LUS 4
#define MAX_PENDING 16

static char lus[LUS];                   /* the objects: only addresses matter */
#define LU(i) ((struct lun *)(void *)&lus[i])

struct pending {
    int session;
    uint32_t lun_no, gen;
    int lu;                             /* what the SAN said when it answered */
};

struct session {
    struct nexus_map map;
    bool ua[NUMBERS];                   /* a remap's unit attention is pending */
};

/* The unit attention of a remap reaches the session (SAM-5: on its next
 * command to that LUN): REPORTED LUNS DATA HAS CHANGED forgets every number,
 * INQUIRY DATA HAS CHANGED one. */
static void deliver_ua(struct session *s, int n, bool all)
{
    if (all) {
        nexus_map_clear(&s->map);
        memset(s->ua, 0, sizeof(s->ua));
    } else {
        nexus_map_forget(&s->map, (uint32_t)n);
        s->ua[n] = false;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct session s[2];
    int san[2][NUMBERS];                /* per session (host group): number -> LU */
    struct pending p[MAX_PENDING];
    size_t np = 0;

    for (int k = 0; k < 2; k++) {
        nexus_map_init(&s[k].map, 6);
        memset(s[k].ua, 0, sizeof(s[k].ua));
        for (int n = 0; n < NUMBERS; n++)
            san[k][n] = (n + k) % LUS;
    }
    for (size_t i = 0; i + 1 < size; i += 2) {
        int k = data[i] & 1, n = (data[i] >> 1) & 7, op = data[i] >> 4;
        struct nexus_map *m = &s[k].map;
        switch (op % 5) {
        case 0: {                                       /* send a verification */
            struct nexus_lu *e = nexus_map_begin(m, (uint32_t)n);
            if (e && np < MAX_PENDING)
                p[np++] = (struct pending){ k, (uint32_t)n, e->gen, -1 };
            break;
        }
        case 1: {                                       /* the SAN executes one */
            if (np == 0)
                break;
            size_t j = data[i + 1] % np;
            struct pending *q = &p[j];
            if (q->lu >= 0)
                break;
            if (s[q->session].ua[q->lun_no]) {
                /* The SAN answers it with the pending unit attention. */
                deliver_ua(&s[q->session], (int)q->lun_no, data[i + 1] & 0x80);
                p[j] = p[--np];
                break;
            }
            q->lu = san[q->session][q->lun_no];
            break;
        }
        case 2: {                                       /* an executed one's answer arrives */
            if (np == 0)
                break;
            size_t j = data[i + 1] % np;
            struct pending q = p[j];
            if (q.lu < 0)
                break;
            p[j] = p[--np];
            struct nexus_lu *e = nexus_map_answer(&s[q.session].map, q.lun_no, q.gen);
            if (!e)
                break;
            CHECK(e->gen == q.gen && e->state == NEXUS_LU_VERIFYING);
            e->state = NEXUS_LU_BOUND;          /* the daemon binds what it named */
            e->lun = LU(q.lu);
            break;
        }
        case 3:                                         /* the SAN remaps a number */
            san[k][n] = data[i + 1] % LUS;
            s[k].ua[n] = true;
            break;
        default:                                        /* another command gets the UA */
            if (s[k].ua[n])
                deliver_ua(&s[k], n, data[i + 1] & 0x80);
            break;
        }
        for (int kk = 0; kk < 2; kk++) {
            const struct nexus_map *mm = &s[kk].map;
            CHECK(mm->n <= mm->max);
            for (size_t e = 1; e < mm->n; e++)
                CHECK(mm->v[e - 1].lun_no < mm->v[e].lun_no);
            for (int nn = 0; nn < NUMBERS; nn++) {
                struct lun *l = nexus_map_lun(mm, (uint32_t)nn);
                /* Bound only to the LU the SAN maps there, once the session
                 * has been told of every remap of that number. */
                if (l && !s[kk].ua[nn])
                    CHECK(l == LU(san[kk][nn]));
            }
        }
    }
    nexus_map_destroy(&s[0].map);
    nexus_map_destroy(&s[1].map);
    return 0;
}
