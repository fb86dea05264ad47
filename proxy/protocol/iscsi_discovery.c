/*
 * Text Requests in Full Feature Phase (RFC 7143 11.10, 11.11, 6.2) and the
 * SendTargets key (13.3, Appendix C).  Answers come from the configured
 * target names and the proxy's own portals only.
 *
 * SendTargets values, Appendix C:
 *   All     "MUST be supported on a discovery session and MUST NOT be
 *           supported on an operational session": every target in a
 *           discovery session; SendTargets=Reject in a normal session.
 *   <name>  that target if we serve it (in a normal session only the
 *           session's own target); otherwise nothing.
 *   (empty) "only ... the target to which the session is logged in": the
 *           session's target in a normal session, nothing in discovery.
 * Each target is answered as TargetName=<name> followed by one
 * TargetAddress=<address>,<tpgt> per portal.
 */
#include "iscsi_discovery.h"

#include <stdio.h>
#include <string.h>

#include "iscsi_params.h"
#include "iscsi_text.h"

static void add_target(const struct iscsi_discovery_ctx *ctx, const char *name,
                       struct iscsi_text_builder *b)
{
    char addr[ISCSI_TEXT_VALUE_MAX];

    iscsi_text_add(b, "TargetName", name);
    for (size_t i = 0; i < ctx->n_portals; i++) {
        const struct iscsi_portal *p = &ctx->portals[i];
        if (!p->address)
            continue;
        int n = snprintf(addr, sizeof(addr), "%s,%u", p->address, (unsigned)p->tpgt);
        if (n < 0 || (size_t)n >= sizeof(addr)) {
            b->overflow = true;     /* an address that cannot be sent: fail the answer */
            continue;
        }
        iscsi_text_add(b, "TargetAddress", addr);
    }
}

static bool served(const struct iscsi_discovery_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->n_targets; i++)
        if (ctx->targets && ctx->targets[i] && strcmp(ctx->targets[i], name) == 0)
            return true;
    return false;
}

static void send_targets(const struct iscsi_discovery_ctx *ctx, const struct iscsi_text_pair *kv,
                         struct iscsi_text_builder *b)
{
    const char *target = ctx->session_target;

    if (strcmp(kv->value, "All") == 0) {
        if (!ctx->discovery_session) {
            iscsi_text_add(b, "SendTargets", "Reject");
            return;
        }
        for (size_t i = 0; ctx->targets && i < ctx->n_targets; i++)
            if (ctx->targets[i])
                add_target(ctx, ctx->targets[i], b);
        return;
    }
    if (kv->value_len == 0) {
        if (!ctx->discovery_session && target && target[0])
            add_target(ctx, target, b);
        return;
    }
    if (ctx->discovery_session) {
        if (served(ctx, kv->value))
            add_target(ctx, kv->value, b);
    } else if (target && strcmp(target, kv->value) == 0) {
        add_target(ctx, target, b);
    }
}

int iscsi_text_answer(const struct iscsi_discovery_ctx *ctx, const uint8_t *req, size_t req_len,
                      uint8_t *out, size_t out_cap, size_t *out_len)
{
    struct iscsi_text_pairs pairs;
    struct iscsi_text_builder b;

    *out_len = 0;
    if (iscsi_text_parse(req, req_len, false, &pairs, NULL) != ISCSI_TEXT_OK)
        return -1;
    iscsi_text_builder_init(&b, out, out_cap);
    for (size_t i = 0; i < pairs.n; i++) {
        const struct iscsi_text_pair *kv = &pairs.pair[i];
        if (iscsi_text_key_is(kv, "SendTargets")) {
            send_targets(ctx, kv, &b);
            continue;
        }
        const char *answer = iscsi_params_ffp_answer(kv);
        if (answer)
            iscsi_text_add_n(&b, kv->key, kv->key_len, answer);
    }
    if (b.overflow)
        return -1;
    *out_len = b.len;
    return 0;
}
