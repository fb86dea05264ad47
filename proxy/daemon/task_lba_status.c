/*
 * An initiator's GET LBA STATUS answered by the proxy (docs/ARCHITECTURE.md,
 * "GET LBA STATUS answered by the proxy") on a LUN whose zeros come from
 * GET LBA STATUS: the parameter data is built from the map
 * (lba_status_answer.c), in `exclusive` mode wholly, in `verify` mode for
 * mapped runs only.  When nothing may describe the STARTING LBA (an unknown
 * page; in verify, one the map does not know mapped), the task joins the
 * query engine like a READ (one backend query from that LBA to the end of the
 * LUN serves it and, in exclusive mode, every READ and query it covers), then
 * is answered from the map, or in verify from that fresh answer.  Anything
 * else goes to the SAN as sent, and the SAN's answer fills the map
 * (task_cache.c).  It moves through the READ states (task_read.c) so that
 * waiting, aborts and teardown work alike.
 */
#include "backend.h"
#include "conn.h"
#include "lun.h"
#include "lba_status_answer.h"
#include "zero_probe.h"

#define OP_SERVICE_ACTION_IN_16 0x9e
#define SA_GET_LBA_STATUS       0x12
#define ANSWER_MAX_DESC         1024    /* 16 KiB of parameter data at most */

bool task_lba_status_wanted(const struct task *t)
{
    const struct scsi_cdb_info *ci = &t->ci;

    return t->read && t->edtl > 0 && ci->opcode == OP_SERVICE_ACTION_IN_16 && ci->has_sa &&
           ci->service_action == SA_GET_LBA_STATUS && ci->has_lba;
}

bool task_lba_status_answerable(const struct task *t)
{
    const struct lun *l = t->lun;

    return lun_zero_serving(l) && l->map && l->zeros_from == LU_ZEROS_FROM_STATUS &&
           lun_coherence_for(l, t->conn->target) != CONF_COHERENCE_OFF &&
           !l->resv.may_be_held && !l->anchored_seen;
}

static void forward(struct task *t)
{
    task_read_set_state(t, READ_NOT_PLANNED);
    t->lun->n.lba_status_forwarded++;
    task_submit(t);
}

/* Data-In of the answer, status GOOD; an underflow residual when it is
 * shorter than the initiator's EDTL (RFC 7143 11.4.5.2). */
static void reply(struct task *t, struct iobuf *buf, size_t len)
{
    struct data_run run = { .data = buf->data, .ref = buf, .len = (uint32_t)len };
    uint32_t residual = t->edtl - (uint32_t)len;

    t->lun->n.lba_status_local++;
    task_unlink(t);
    t->state = TASK_DONE;
    task_send_data_in(t, &run, 1, SCSI_STATUS_GOOD, residual ? ISCSI_FLAG_RSP_UNDER : 0,
                      residual);
    task_free(t);
}

/* verify: the descriptors the initiator asked for and two more, so that the
 * run after its last (mapped, for a copy that asks at each hole) is in the
 * map with the run that ends it when the initiator asks there: answered
 * from the map, and exactly (a PARTIAL page's granules past the end of an
 * answer read as mapped).  The SAN's walk costs the same; only a few
 * descriptors cross the link. */
static uint32_t verify_query_len(const struct lba_status_request *req)
{
    uint32_t want = (req->alloc_len - SCSI_GLS_HDR_LEN) / SCSI_GLS_DESC_LEN + 2;

    return SCSI_GLS_ALLOC_LEN(want < QQ_VERIFY_DESC ? want : QQ_VERIFY_DESC);
}

void task_lba_status_resume(struct task *t, const struct lba_answer *fresh)
{
    struct lun *l = t->lun;
    bool exclusive = lun_coherence_for(l, t->conn->target) == CONF_COHERENCE_EXCLUSIVE;

    if (!task_lba_status_answerable(t) ||
        zero_probe_due(backend_sent(t->conn->backend), t->lun_no, clock_now_us())) {
        /* the one-second rule: pending unit attentions reach the initiator */
        forward(t);
        return;
    }
    struct lba_status_request req = {
        .lba = t->ci.lba,
        .alloc_len = (uint32_t)t->cdb[10] << 24 | (uint32_t)t->cdb[11] << 16 |
                     (uint32_t)t->cdb[12] << 8 | t->cdb[13],
        .report_type = t->cdb[14] & 0x07,   /* SBC-5 table 48 */
        .trust_unallocated = exclusive,
        .fresh = exclusive ? NULL : fresh,
    };
    size_t cap = t->edtl < SCSI_GLS_ALLOC_LEN(ANSWER_MAX_DESC) ? t->edtl
                                                                : SCSI_GLS_ALLOC_LEN(ANSWER_MAX_DESC);
    struct iobuf *buf = iobuf_new(cap);
    struct lba_status_reply r;
    if (!buf) {
        forward(t);
        return;
    }
    switch (lba_status_answer_build(l->map, l->n_blocks, &req, buf->data, cap, &r)) {
    case LBA_STATUS_ANSWERED:
        reply(t, buf, r.len);
        break;
    case LBA_STATUS_NEED_QUERY:
        /* once: an answer that still leaves the LBA undescribed (race rule,
         * a refusal) sends the command to the SAN */
        if (t->queries_waited++ == 0 &&
            lun_query_wait(l, t, req.lba, exclusive ? 0 : verify_query_len(&req)) == 0) {
            task_read_set_state(t, READ_WAIT_QUERY);
        } else {
            forward(t);
        }
        break;
    case LBA_STATUS_FORWARD:
        forward(t);
        break;
    }
    iobuf_unref(buf);
}
