/*
 * Target-side login (RFC 7143 sections 6.3, 11.12, 11.13) as a pure state
 * machine.  States are the target connection states of 8.1.2 that a login
 * spans (XPT_UP, IN_LOGIN, LOGGED_IN, FREE), with IN_LOGIN split into the
 * login stages of 6.3 (SecurityNegotiation, LoginOperationalNegotiation).
 * Transitions carry the 8.1.3 labels.  Key negotiation is table-driven in
 * iscsi_params.c and CHAP is iscsi_chap.c; this file owns stages,
 * T/C/CSG/NSG, the header invariants, the identity checks and admission of
 * the first request and the choice of AuthMethod.
 */
#include "iscsi_login.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iscsi_chap.h"
#include "iscsi_params.h"
#include "iscsi_text.h"

#define LOGIN_TEXT_MAX   65536   /* C-bit accumulation bound (6.1 asks >= 8192) */
#define LOGIN_RSP_MAX    8192    /* one Login Response data segment (13.12 default) */
#define LOGIN_PDUS_MAX   128     /* Login Requests per connection before we give up */
#define OUR_TPGT         1       /* 13.9: our one portal group */

#define FLAG_T  ISCSI_FLAG_LOGIN_TRANSIT
#define FLAG_C  ISCSI_FLAG_TEXT_CONT

enum login_state {
    LS_XPT_UP,          /* S2 XPT_UP: transport up, no Login Request yet */
    LS_SECURITY,        /* S3 IN_LOGIN, CSG=0 SecurityNegotiation */
    LS_OPERATIONAL,     /* S3 IN_LOGIN, CSG=1 LoginOperationalNegotiation */
    LS_FFP_PENDING,     /* S3 IN_LOGIN, transit to FullFeaturePhase accepted;
                           the backend login decides the final response */
    LS_LOGGED_IN,       /* S5 LOGGED_IN: final response with status 0 built */
    LS_FREE,            /* S1 FREE: login failed, the connection closes */
};

static const char *const state_names[] = {
    [LS_XPT_UP] = "XPT_UP",
    [LS_SECURITY] = "IN_LOGIN/SecurityNegotiation",
    [LS_OPERATIONAL] = "IN_LOGIN/LoginOperationalNegotiation",
    [LS_FFP_PENDING] = "IN_LOGIN/FullFeaturePhase-pending",
    [LS_LOGGED_IN] = "LOGGED_IN",
    [LS_FREE] = "FREE",
};

/*
 * The security stage (RFC 7143 6.3 and 12): each AuthMethod value
 * we accept is one handler.  A handler owns its own keys (CHAP owns CHAP_*,
 * 12.1.3) and runs once per complete Login Request of the security stage
 * until it reports AUTH_DONE.
 */
enum auth_status { AUTH_CONTINUE, AUTH_DONE, AUTH_FAIL };

struct auth_method {
    const char *name;                                   /* AuthMethod value, 12.1 */
    enum iscsi_auth_method method;
    bool (*owns_key)(const struct iscsi_text_pair *kv); /* NULL: owns none */
    enum auth_status (*step)(struct iscsi_login *l, const struct iscsi_text_pairs *req,
                             struct iscsi_text_builder *out, uint16_t *status,
                             const char **why);
};

struct iscsi_login {
    struct iscsi_neg neg;
    uint16_t tsih;
    struct iscsi_login_hooks hooks;
    enum login_state state;
    unsigned pdus;                  /* Login Requests seen */
    bool first_done;                /* the first complete request was processed */
    bool tpgt_sent;
    /* RFC 7143 11.12: fixed by the first request for the whole login */
    uint8_t isid[6];
    uint16_t cid;
    uint32_t cmdsn;
    uint32_t itt;                   /* ITT of the request the final reply answers */
    unsigned final_csg;
    /* security stage */
    struct iscsi_auth_policy policy;    /* from the admit hook; all false before */
    const struct auth_method *auth; /* negotiated AuthMethod, NULL before */
    struct iscsi_chap *chap;        /* the CHAP exchange, once CHAP is chosen */
    bool auth_done;
    /* text */
    size_t acc_len;
    uint8_t acc[LOGIN_TEXT_MAX];    /* the request text, joined across C-bit PDUs */
    size_t out_len;
    uint8_t out[LOGIN_RSP_MAX];     /* the reply's data segment */
};

/* AuthMethod=None: nothing to exchange, authentication is complete. */
static enum auth_status auth_none_step(struct iscsi_login *l, const struct iscsi_text_pairs *req,
                                       struct iscsi_text_builder *out, uint16_t *status,
                                       const char **why)
{
    (void)l, (void)req, (void)out, (void)status, (void)why;
    return AUTH_DONE;
}

/* AuthMethod=CHAP (12.1.3): the exchange lives in iscsi_chap.c. */
static enum auth_status auth_chap_step(struct iscsi_login *l, const struct iscsi_text_pairs *req,
                                       struct iscsi_text_builder *out, uint16_t *status,
                                       const char **why)
{
    if (!l->chap) {
        l->chap = iscsi_chap_new(&l->policy, &l->hooks);
        if (!l->chap) {
            *status = ISCSI_LOGIN_ERR_OUT_OF_RESOURCES;
            *why = "out of memory for the CHAP exchange";
            return AUTH_FAIL;
        }
    }
    switch (iscsi_chap_step(l->chap, req, out, status, why)) {
    case ISCSI_CHAP_CONTINUE:
        return AUTH_CONTINUE;
    case ISCSI_CHAP_DONE:
        break;
    case ISCSI_CHAP_FAIL:
        return AUTH_FAIL;
    }
    struct iscsi_session_params *p = &l->neg.p;
    p->auth_method = ISCSI_AUTH_CHAP;
    p->chap_mutual = iscsi_chap_mutual(l->chap);
    snprintf(p->chap_name, sizeof(p->chap_name), "%s", iscsi_chap_name(l->chap));
    return AUTH_DONE;
}

static const struct auth_method auth_methods[] = {
    { .name = "None", .method = ISCSI_AUTH_NONE, .owns_key = NULL, .step = auth_none_step },
    { .name = "CHAP", .method = ISCSI_AUTH_CHAP, .owns_key = iscsi_chap_owns_key,
      .step = auth_chap_step },
};

#define N_AUTH_METHODS (sizeof(auth_methods) / sizeof(auth_methods[0]))

/* Does the admitted policy let this login use method m? */
static bool auth_allowed(const struct iscsi_login *l, const struct auth_method *m)
{
    return m->method == ISCSI_AUTH_CHAP ? l->policy.chap_allowed : !l->policy.chap_required;
}

/* The method whose keys these are (CHAP_* for CHAP), or NULL. */
static const struct auth_method *auth_key_owner(const struct iscsi_text_pair *kv)
{
    for (size_t i = 0; i < N_AUTH_METHODS; i++)
        if (auth_methods[i].owns_key && auth_methods[i].owns_key(kv))
            return &auth_methods[i];
    return NULL;
}

struct iscsi_login *iscsi_login_new(const struct iscsi_login_limits *limits, uint16_t tsih,
                                    const struct iscsi_login_hooks *hooks)
{
    if (!hooks || !hooks->admit)
        return NULL;
    struct iscsi_login *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    iscsi_neg_init(&l->neg, limits);
    l->tsih = tsih;
    l->hooks = *hooks;
    l->state = LS_XPT_UP;
    return l;
}

void iscsi_login_free(struct iscsi_login *l)
{
    if (!l)
        return;
    iscsi_chap_free(l->chap);
    free(l);
}

const struct iscsi_session_params *iscsi_login_params(const struct iscsi_login *l)
{
    return &l->neg.p;
}

const char *iscsi_login_state_name(const struct iscsi_login *l)
{
    return state_names[l->state];
}

static unsigned current_csg(const struct iscsi_login *l)
{
    return l->state == LS_OPERATIONAL ? ISCSI_STAGE_OPERATIONAL : ISCSI_STAGE_SECURITY;
}

/* Fill a Login Response header (11.13); statsn/expcmdsn/maxcmdsn are the
 * connection's. */
static void build_reply(struct iscsi_login_reply *r, const uint8_t isid[6], uint32_t itt,
                        uint8_t flags, uint16_t tsih, uint16_t status, const uint8_t *data,
                        size_t len)
{
    memset(r, 0, sizeof(*r));
    r->hdr.opcode = ISCSI_OP_LOGIN_RSP;
    r->hdr.flags = flags;
    r->hdr.data_len = (uint32_t)len;
    r->hdr.itt = itt;
    r->hdr.u.login_rsp.version_max = 0;
    r->hdr.u.login_rsp.version_active = 0;
    memcpy(r->hdr.u.login_rsp.isid, isid, 6);
    r->hdr.u.login_rsp.tsih = tsih;
    r->hdr.u.login_rsp.status_class = (uint8_t)(status >> 8);
    r->hdr.u.login_rsp.status_detail = (uint8_t)(status & 0xff);
    r->status = status;
    r->data = len ? data : NULL;
    r->data_len = len;
}

/* T7 IN_LOGIN -> FREE: a Login Response with a non-zero status and no text
 * (11.13.5), then the connection closes. */
static enum iscsi_login_result fail(struct iscsi_login *l, const struct iscsi_pdu_hdr *req,
                                    struct iscsi_login_reply *r, uint16_t status,
                                    const char *why)
{
    const uint8_t *isid = req && l->state == LS_XPT_UP ? req->u.login_req.isid : l->isid;
    uint32_t itt = req ? req->itt : l->itt;
    uint8_t flags = (uint8_t)(current_csg(l) << 2);

    l->state = LS_FREE;
    build_reply(r, isid, itt, flags, 0, status, NULL, 0);
    r->why = why;
    return ISCSI_LOGIN_REPLY_AND_CLOSE;
}

/* 6.2.1 applied to AuthMethod: the first offered method we have a handler
 * for and the admitted policy allows (None only when CHAP is not required,
 * CHAP only when allowed); none -> Authentication Failure (12.1). */
static int select_auth(struct iscsi_login *l, const struct iscsi_text_pair *kv,
                       struct iscsi_text_builder *out, uint16_t *status, const char **why)
{
    const char *v = kv->value;
    size_t len = kv->value_len;

    if (len > ISCSI_VALUE_MAX) {
        *status = ISCSI_LOGIN_ERR_INITIATOR;
        *why = "AuthMethod value too long";
        return -1;
    }
    for (size_t at = 0; at <= len;) {
        size_t elen = strcspn(v + at, ",");
        for (size_t i = 0; elen && i < N_AUTH_METHODS; i++) {
            const struct auth_method *m = &auth_methods[i];
            if (strlen(m->name) == elen && memcmp(m->name, v + at, elen) == 0 &&
                auth_allowed(l, m)) {
                l->auth = m;
                iscsi_text_add(out, "AuthMethod", m->name);
                return 0;
            }
        }
        at += elen + 1;
    }
    *status = ISCSI_LOGIN_ERR_AUTH_FAILED;
    *why = "no acceptable AuthMethod offered";
    return -1;
}

/*
 * Identity checks on the first complete Login Request (6.3, 13.4, 13.5,
 * 13.21): SessionType, InitiatorName, and for normal sessions a TargetName;
 * then the admit hook decides whether this initiator may log in to it and
 * how it must authenticate.
 */
static int check_identity(struct iscsi_login *l, const struct iscsi_text_pairs *t,
                          uint16_t *status, const char **why)
{
    const struct iscsi_text_pair *st = iscsi_text_find(t, "SessionType");
    const struct iscsi_text_pair *in = iscsi_text_find(t, "InitiatorName");
    const struct iscsi_text_pair *tn = iscsi_text_find(t, "TargetName");
    bool discovery = false;

    if (st && iscsi_parse_session_type(st->value, &discovery) < 0) {
        *status = ISCSI_LOGIN_ERR_SESSION_TYPE;
        *why = "unsupported SessionType";
        return -1;
    }
    l->neg.p.discovery = discovery;
    if (!in || in->value_len == 0) {
        *status = ISCSI_LOGIN_ERR_MISSING_PARAMETER;
        *why = "InitiatorName missing from the first Login Request";
        return -1;
    }
    if (in->value_len >= ISCSI_NAME_MAX) {
        *status = ISCSI_LOGIN_ERR_INITIATOR;
        *why = "InitiatorName longer than 223 bytes";
        return -1;
    }
    if (discovery)
        return 0;
    if (!tn || tn->value_len == 0) {
        *status = ISCSI_LOGIN_ERR_MISSING_PARAMETER;
        *why = "TargetName missing from the first Login Request";
        return -1;
    }
    if (tn->value_len >= ISCSI_NAME_MAX) {
        *status = ISCSI_LOGIN_ERR_NOT_FOUND;
        *why = "TargetName longer than 223 bytes";
        return -1;
    }
    return 0;
}

static int admit(struct iscsi_login *l, const struct iscsi_text_pairs *t, uint16_t *status,
                 const char **why)
{
    const struct iscsi_text_pair *in = iscsi_text_find(t, "InitiatorName");
    const struct iscsi_text_pair *tn = iscsi_text_find(t, "TargetName");
    struct iscsi_auth_policy policy = { 0 };
    const char *reason = NULL;

    /* both values end with the NUL of their pair (iscsi_text_parse) */
    uint16_t st = l->hooks.admit(l->hooks.ctx, l->neg.p.discovery ? NULL : tn->value,
                                 in->value, &policy, &reason);
    if (st != ISCSI_LOGIN_SUCCESS) {
        *status = st;
        *why = reason ? reason : "refused by the target's policy";
        return -1;
    }
    policy.chap_allowed |= policy.chap_required;
    policy.chap_algorithms &= ISCSI_CHAP_ALGS_ALL;
    l->policy = policy;
    /* 6.3: skipping SecurityNegotiation needs a target without auth */
    if (l->state == LS_OPERATIONAL && policy.chap_required) {
        *status = ISCSI_LOGIN_ERR_AUTH_FAILED;
        *why = "authentication required but security stage skipped";
        return -1;
    }
    return 0;
}

/*
 * A key of an authentication method (CHAP_*) outside that method's
 * exchange: in the operational stage it is out of place (6.3); before any
 * AuthMethod is agreed, or after authentication ended, it is out of order
 * (12.1.3); after AuthMethod=None it is Irrelevant (6.2).  Keys of the
 * agreed method before it completes go to its step function.
 */
static int route_auth_key(struct iscsi_login *l, const struct iscsi_text_pair *kv,
                          const struct auth_method *owner, enum iscsi_login_stage stage,
                          struct iscsi_text_builder *out, uint16_t *status, const char **why)
{
    if (stage != ISCSI_STAGE_SECURITY) {
        *status = ISCSI_LOGIN_ERR_INITIATOR;
        *why = "authentication key outside the security stage";
        return -1;
    }
    *status = ISCSI_LOGIN_ERR_AUTH_FAILED;
    if (!l->auth) {
        *why = "authentication key before AuthMethod was agreed";
        return -1;
    }
    if (l->auth == owner && l->auth_done) {
        *why = "authentication key after authentication completed";
        return -1;
    }
    if (l->auth != owner)
        iscsi_text_add_n(out, kv->key, kv->key_len, "Irrelevant");
    return 0;
}

/* Answer every key of one complete request; AuthMethod first, so the keys
 * of the chosen method are routed to it. */
static int process_keys(struct iscsi_login *l, const struct iscsi_text_pairs *t,
                        enum iscsi_login_stage stage, struct iscsi_text_builder *out,
                        uint16_t *status, const char **why)
{
    bool first = !l->first_done;

    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < t->n; i++) {
            const struct iscsi_text_pair *kv = &t->pair[i];
            bool is_auth = iscsi_text_key_is(kv, "AuthMethod");
            if (is_auth != (pass == 0))
                continue;
            const struct auth_method *owner = is_auth ? NULL : auth_key_owner(kv);
            if (owner) {
                if (route_auth_key(l, kv, owner, stage, out, status, why) < 0)
                    return -1;
                continue;
            }
            enum iscsi_neg_outcome r =
                iscsi_neg_login_key(&l->neg, kv, stage, first, out, status, why);
            if (r == ISCSI_NEG_FAIL)
                return -1;
            if (r == ISCSI_NEG_SECURITY && select_auth(l, kv, out, status, why) < 0)
                return -1;
        }
    }
    if (stage == ISCSI_STAGE_SECURITY && l->auth && !l->auth_done) {
        switch (l->auth->step(l, t, out, status, why)) {
        case AUTH_FAIL:
            return -1;
        case AUTH_DONE:
            l->auth_done = true;
            break;
        case AUTH_CONTINUE:
            break;
        }
    }
    return 0;
}

/* Header rules of 11.12 for a request in the current state; on the first
 * request, T4 XPT_UP -> IN_LOGIN.  Returns 0 or -1 with status/why. */
static int check_header(struct iscsi_login *l, const struct iscsi_pdu_hdr *req,
                        uint16_t *status, const char **why)
{
    unsigned csg = iscsi_login_csg(req), nsg = iscsi_login_nsg(req);

    *status = ISCSI_LOGIN_ERR_INITIATOR;
    if (l->state == LS_XPT_UP) {
        /* 11.12.4: we speak version 0x00 only */
        if (req->u.login_req.version_min != 0) {
            *status = ISCSI_LOGIN_ERR_UNSUPPORTED_VERSION;
            *why = "VersionMin is not 0";
            return -1;
        }
        /* 11.12.6 / 6.3: TSIH != 0 adds a connection to a session; we run
         * one connection per session, so no such session exists. */
        if (req->u.login_req.tsih != 0) {
            *status = ISCSI_LOGIN_ERR_NO_SESSION;
            *why = "TSIH names no session (one connection per session)";
            return -1;
        }
        if (csg != ISCSI_STAGE_SECURITY && csg != ISCSI_STAGE_OPERATIONAL) {
            *why = "first Login Request CSG is neither 0 nor 1";
            return -1;
        }
        memcpy(l->isid, req->u.login_req.isid, sizeof(l->isid));
        l->cid = req->u.login_req.cid;
        l->cmdsn = req->u.login_req.cmdsn;
        l->state = csg == ISCSI_STAGE_SECURITY ? LS_SECURITY : LS_OPERATIONAL;   /* T4 */
    } else {
        /* 11.12: ISID, TSIH, CID and CmdSN stay the same through a login */
        if (memcmp(l->isid, req->u.login_req.isid, sizeof(l->isid)) != 0) {
            *why = "ISID changed during login";
            return -1;
        }
        if (req->u.login_req.tsih != 0) {
            *why = "TSIH changed during login";
            return -1;
        }
        if (req->u.login_req.cid != l->cid) {
            *why = "CID changed during login";
            return -1;
        }
        if (req->u.login_req.cmdsn != l->cmdsn) {
            *why = "CmdSN changed during login";
            return -1;
        }
        if (csg != current_csg(l)) {
            *why = "CSG does not match the current login stage";
            return -1;
        }
    }
    /* 11.12.2: C=1 requires T=0 */
    if ((req->flags & FLAG_T) && (req->flags & FLAG_C)) {
        *why = "Login Request with both T and C bits set";
        return -1;
    }
    /* 11.12.3: NSG is 1 or 3 and beyond CSG (2 is reserved) */
    if ((req->flags & FLAG_T) && (nsg == 2 || nsg <= csg)) {
        *why = "invalid NSG for a transit request";
        return -1;
    }
    return 0;
}

enum iscsi_login_result iscsi_login_step(struct iscsi_login *l, const struct iscsi_pdu_hdr *req,
                                         const uint8_t *data, size_t data_len,
                                         struct iscsi_login_reply *reply)
{
    uint16_t status = ISCSI_LOGIN_ERR_INITIATOR;
    const char *why = NULL;
    struct iscsi_text_pairs pairs;
    struct iscsi_text_builder b;

    memset(reply, 0, sizeof(*reply));
    if (l->state == LS_FFP_PENDING || l->state == LS_LOGGED_IN || l->state == LS_FREE)
        return fail(l, req, reply, ISCSI_LOGIN_ERR_INITIATOR, "Login Request after login ended");
    if (req->opcode != ISCSI_OP_LOGIN_REQ)
        return fail(l, req, reply, ISCSI_LOGIN_ERR_INVALID_DURING_LOGIN,
                    "non-Login request during login");
    if (++l->pdus > LOGIN_PDUS_MAX)
        return fail(l, req, reply, ISCSI_LOGIN_ERR_INITIATOR, "too many Login Requests");
    if (data_len && !data)
        return fail(l, req, reply, ISCSI_LOGIN_ERR_INITIATOR, "data segment missing");
    if (check_header(l, req, &status, &why) < 0)
        return fail(l, req, reply, status, why);

    enum iscsi_login_stage stage = current_csg(l);
    if (data_len > sizeof(l->acc) - l->acc_len)
        return fail(l, req, reply, ISCSI_LOGIN_ERR_INITIATOR, "login text exceeds 64 KiB");
    if (data_len)
        memcpy(l->acc + l->acc_len, data, data_len);
    l->acc_len += data_len;

    /* 11.12.2 C bit: more text follows; the target answers with an empty
     * Login Response and keeps collecting (6.3). */
    if (req->flags & FLAG_C) {
        build_reply(reply, l->isid, req->itt, (uint8_t)(stage << 2), 0, 0, NULL, 0);
        return ISCSI_LOGIN_REPLY;
    }

    enum iscsi_text_err te = iscsi_text_parse(l->acc, l->acc_len, false, &pairs, NULL);
    if (te != ISCSI_TEXT_OK)
        return fail(l, req, reply, ISCSI_LOGIN_ERR_INITIATOR, iscsi_text_strerror(te));
    iscsi_text_builder_init(&b, l->out, sizeof(l->out));
    if (!l->first_done && (check_identity(l, &pairs, &status, &why) < 0 ||
                           admit(l, &pairs, &status, &why) < 0))
        return fail(l, req, reply, status, why);
    if (process_keys(l, &pairs, stage, &b, &status, &why) < 0)
        return fail(l, req, reply, status, why);
    l->first_done = true;
    l->acc_len = 0;         /* pairs point into acc: reset only after use */
    /* 13.9: TargetPortalGroupTag in the first response of a normal session */
    if (!l->neg.p.discovery && !l->tpgt_sent) {
        iscsi_text_add_u32(&b, "TargetPortalGroupTag", OUR_TPGT);
        l->tpgt_sent = true;
    }
    if (stage == ISCSI_STAGE_OPERATIONAL)
        iscsi_neg_declare(&l->neg, &b);       /* 13.12 */

    unsigned nsg = iscsi_login_nsg(req);
    bool transit = (req->flags & FLAG_T) &&
                   (stage != ISCSI_STAGE_SECURITY || l->auth_done ||
                    (!l->auth && !l->policy.chap_required));
    if (transit && nsg == ISCSI_STAGE_FULL_FEATURE &&
        iscsi_neg_final_check(&l->neg, &status, &why) < 0)
        return fail(l, req, reply, status, why);
    if (b.overflow)
        return fail(l, req, reply, ISCSI_LOGIN_ERR_TARGET, "login response text exceeds 8192 bytes");
    l->out_len = b.len;

    if (!transit) {
        /* stay in the stage: T=0, NSG reserved */
        build_reply(reply, l->isid, req->itt, (uint8_t)(stage << 2), 0, 0, l->out, l->out_len);
        return ISCSI_LOGIN_REPLY;
    }
    if (nsg == ISCSI_STAGE_OPERATIONAL) {
        /* SecurityNegotiation -> LoginOperationalNegotiation */
        build_reply(reply, l->isid, req->itt, (uint8_t)(FLAG_T | stage << 2 | nsg), 0, 0,
                    l->out, l->out_len);
        l->state = LS_OPERATIONAL;
        return ISCSI_LOGIN_REPLY;
    }
    /* -> FullFeaturePhase */
    l->itt = req->itt;
    l->final_csg = stage;
    if (l->neg.p.discovery) {
        /* T5 IN_LOGIN -> LOGGED_IN: no backend behind a discovery session */
        build_reply(reply, l->isid, l->itt,
                    (uint8_t)(FLAG_T | stage << 2 | ISCSI_STAGE_FULL_FEATURE), l->tsih, 0,
                    l->out, l->out_len);
        l->state = LS_LOGGED_IN;
        return ISCSI_LOGIN_DONE;
    }
    l->state = LS_FFP_PENDING;
    return ISCSI_LOGIN_FFP_PENDING;
}

enum iscsi_login_result iscsi_login_finish(struct iscsi_login *l, uint16_t status,
                                           struct iscsi_login_reply *reply)
{
    memset(reply, 0, sizeof(*reply));
    if (l->state != LS_FFP_PENDING)
        return fail(l, NULL, reply, ISCSI_LOGIN_ERR_TARGET, "no login waiting for the backend");
    if (status != ISCSI_LOGIN_SUCCESS) {
        l->state = l->final_csg == ISCSI_STAGE_OPERATIONAL ? LS_OPERATIONAL : LS_SECURITY;
        return fail(l, NULL, reply, status, "backend login failed");
    }
    /* T5 IN_LOGIN -> LOGGED_IN: the final Login Response (11.13) */
    build_reply(reply, l->isid, l->itt,
                (uint8_t)(FLAG_T | l->final_csg << 2 | ISCSI_STAGE_FULL_FEATURE), l->tsih, 0,
                l->out, l->out_len);
    l->state = LS_LOGGED_IN;
    return ISCSI_LOGIN_DONE;
}

enum iscsi_login_failure iscsi_login_failure_of(uint16_t status)
{
    switch (status) {
    case ISCSI_LOGIN_ERR_AUTH_FAILED:          return ISCSI_LOGIN_FAILURE_AUTHENTICATION;
    case ISCSI_LOGIN_ERR_FORBIDDEN:            return ISCSI_LOGIN_FAILURE_AUTHORIZATION;
    case ISCSI_LOGIN_ERR_NOT_FOUND:            return ISCSI_LOGIN_FAILURE_NOT_FOUND;
    case ISCSI_LOGIN_ERR_TARGET_REMOVED:       return ISCSI_LOGIN_FAILURE_TARGET_REMOVED;
    case ISCSI_LOGIN_ERR_UNSUPPORTED_VERSION:  return ISCSI_LOGIN_FAILURE_UNSUPPORTED_VERSION;
    case ISCSI_LOGIN_ERR_TOO_MANY_CONNECTIONS: return ISCSI_LOGIN_FAILURE_TOO_MANY_CONNECTIONS;
    case ISCSI_LOGIN_ERR_MISSING_PARAMETER:    return ISCSI_LOGIN_FAILURE_MISSING_PARAMETER;
    case ISCSI_LOGIN_ERR_TARGET:               return ISCSI_LOGIN_FAILURE_TARGET_ERROR;
    case ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE:  return ISCSI_LOGIN_FAILURE_BACKEND_UNAVAILABLE;
    case ISCSI_LOGIN_ERR_OUT_OF_RESOURCES:     return ISCSI_LOGIN_FAILURE_OUT_OF_RESOURCES;
    default:
        return (status >> 8) == 0x02 ? ISCSI_LOGIN_FAILURE_INITIATOR_ERROR
                                     : ISCSI_LOGIN_FAILURE_OTHER;
    }
}

const char *iscsi_login_failure_name(enum iscsi_login_failure f)
{
    static const char *const names[ISCSI_LOGIN_FAILURE_COUNT] = {
        "authentication", "authorization", "not_found", "target_removed",
        "unsupported_version", "too_many_connections", "missing_parameter",
        "initiator_error", "target_error", "backend_unavailable", "out_of_resources", "other",
    };
    return (unsigned)f < ISCSI_LOGIN_FAILURE_COUNT ? names[f] : "other";
}
