/*
 * Login key table and negotiation (RFC 7143 sections 6.1, 6.2, 12.1 and 13;
 * RFC 7144 for iSCSIProtocolLevel).  One row per key; the generic code below
 * reads the row to validate the offer, compute our answer with the key's
 * result function and store the outcome in struct iscsi_session_params.
 */
#include "iscsi_params.h"

#include <stdlib.h>
#include <string.h>

#define LIM(f)  offsetof(struct iscsi_login_limits, f)
#define PAR(f)  offsetof(struct iscsi_session_params, f)
#define NONE    ISCSI_PARAM_NONE
#define I       ISCSI_SENDER_I
#define T       ISCSI_SENDER_T
#define IRR     ISCSI_KEY_IRRELEVANT_DISCOVERY
#define FIRST   ISCSI_KEY_FIRST_ONLY
#define U24     16777215u          /* 2**24 - 1 */
#define VAL     255                /* 6.1: default longest value */
#define NAME    (ISCSI_NAME_MAX - 1)  /* 6.1 / 4.2.7.1: iSCSI names <= 223 bytes */

static const struct iscsi_key keys[] = {
    /* 12.1 AuthMethod: list KRB5|SRP|CHAP|None; no default; security stage
     * only; the security stage picks the method (iscsi_login.c). */
    { .name = "AuthMethod", .kind = ISCSI_KIND_AUTH, .use = ISCSI_USE_SEC, .senders = I | T,
      .values = "KRB5,SRP,CHAP,None", .field = NONE, .ours_lim = NONE, .max_len = VAL },
    /* 13.1 HeaderDigest: list CRC32C|None, default None, IO, both; answered
     * with the first offered value we support; CRC32C only if allowed. */
    { .name = "HeaderDigest", .kind = ISCSI_KIND_LIST, .use = ISCSI_USE_IO, .senders = I | T,
      .values = "CRC32C,None", .accept = "CRC32C,None", .crc_value = "CRC32C",
      .field = PAR(header_digest), .ours_lim = NONE, .max_len = VAL },
    /* 13.1 DataDigest: as HeaderDigest. */
    { .name = "DataDigest", .kind = ISCSI_KIND_LIST, .use = ISCSI_USE_IO, .senders = I | T,
      .values = "CRC32C,None", .accept = "CRC32C,None", .crc_value = "CRC32C",
      .field = PAR(data_digest), .ours_lim = NONE, .max_len = VAL },
    /* 13.2 MaxConnections: 1..65535, default 1, LO, min(); we answer 1. */
    { .name = "MaxConnections", .kind = ISCSI_KIND_NUM_MIN, .use = ISCSI_USE_LO,
      .senders = I | T, .flags = IRR, .min = 1, .max = 65535, .dflt = 1, .ours = 1,
      .ours_lim = NONE, .field = PAR(max_connections), .max_len = VAL },
    /* 13.3 SendTargets: FFP only, initiator; "All" | name | empty. */
    { .name = "SendTargets", .kind = ISCSI_KIND_SENDTARGETS, .use = ISCSI_USE_FFP,
      .senders = I, .field = NONE, .ours_lim = NONE, .max_len = VAL },
    /* 13.4 TargetName: declarative, IO; in login sent by the initiator in
     * its first request (the target sends it only in SendTargets answers). */
    { .name = "TargetName", .kind = ISCSI_KIND_STRING_DECL, .use = ISCSI_USE_IO,
      .senders = I | T, .flags = FIRST, .field = PAR(target_name),
      .field_size = ISCSI_NAME_MAX, .ours_lim = NONE, .max_len = NAME },
    /* 13.5 InitiatorName: declarative, IO, initiator, first request. */
    { .name = "InitiatorName", .kind = ISCSI_KIND_STRING_DECL, .use = ISCSI_USE_IO,
      .senders = I, .flags = FIRST, .field = PAR(initiator_name),
      .field_size = ISCSI_NAME_MAX, .ours_lim = NONE, .max_len = NAME },
    /* 13.6 TargetAlias: declarative, ALL, target only. */
    { .name = "TargetAlias", .kind = ISCSI_KIND_STRING_DECL, .use = ISCSI_USE_ALL,
      .senders = T, .field = NONE, .ours_lim = NONE, .max_len = VAL },
    /* 13.7 InitiatorAlias: declarative, ALL, initiator only. */
    { .name = "InitiatorAlias", .kind = ISCSI_KIND_STRING_DECL, .use = ISCSI_USE_ALL,
      .senders = I, .field = PAR(initiator_alias), .field_size = ISCSI_VALUE_MAX + 1,
      .ours_lim = NONE, .max_len = VAL },
    /* 13.8 TargetAddress: declarative, ALL, target only. */
    { .name = "TargetAddress", .kind = ISCSI_KIND_STRING_DECL, .use = ISCSI_USE_ALL,
      .senders = T, .field = NONE, .ours_lim = NONE, .max_len = VAL },
    /* 13.9 TargetPortalGroupTag: 0..65535, declarative, IO, target only. */
    { .name = "TargetPortalGroupTag", .kind = ISCSI_KIND_NUM_DECL, .use = ISCSI_USE_IO,
      .senders = T, .min = 0, .max = 65535, .field = NONE, .ours_lim = NONE, .max_len = VAL },
    /* 13.10 InitialR2T: Yes|No, default Yes, LO, OR.  Ours from the limits
     * (configuration key initial_r2t): No lets the initiator's choice stand. */
    { .name = "InitialR2T", .kind = ISCSI_KIND_BOOL_OR, .use = ISCSI_USE_LO, .senders = I | T,
      .flags = IRR, .max = 1, .dflt = 1, .ours_lim = LIM(initial_r2t),
      .field = PAR(initial_r2t), .max_len = VAL },
    /* 13.11 ImmediateData: Yes|No, default Yes, LO, AND.  Ours from the
     * limits (configuration key immediate_data). */
    { .name = "ImmediateData", .kind = ISCSI_KIND_BOOL_AND, .use = ISCSI_USE_LO,
      .senders = I | T, .flags = IRR, .max = 1, .dflt = 1, .ours_lim = LIM(immediate_data),
      .field = PAR(immediate_data), .max_len = VAL },
    /* 13.12 MaxRecvDataSegmentLength: 512..2**24-1, default 8192, ALL,
     * declarative both ways: the initiator's value bounds our Data-In. */
    { .name = "MaxRecvDataSegmentLength", .kind = ISCSI_KIND_NUM_DECL, .use = ISCSI_USE_ALL,
      .senders = I | T, .min = 512, .max = U24, .dflt = 8192, .ours_lim = LIM(max_recv_dsl),
      .field = PAR(initiator_mrdsl), .max_len = VAL },
    /* 13.13 MaxBurstLength: 512..2**24-1, default 262144, LO, min(). */
    { .name = "MaxBurstLength", .kind = ISCSI_KIND_NUM_MIN, .use = ISCSI_USE_LO,
      .senders = I | T, .flags = IRR, .min = 512, .max = U24, .dflt = 262144,
      .ours_lim = LIM(max_burst), .field = PAR(max_burst), .max_len = VAL },
    /* 13.14 FirstBurstLength: 512..2**24-1, default 65536, LO, min(),
     * must not exceed MaxBurstLength (checked before FFP). */
    { .name = "FirstBurstLength", .kind = ISCSI_KIND_NUM_MIN, .use = ISCSI_USE_LO,
      .senders = I | T, .flags = IRR, .min = 512, .max = U24, .dflt = 65536,
      .ours_lim = LIM(first_burst), .field = PAR(first_burst), .max_len = VAL },
    /* 13.15 DefaultTime2Wait: 0..3600, default 2, LO, max().  Ours 2. */
    { .name = "DefaultTime2Wait", .kind = ISCSI_KIND_NUM_MAX, .use = ISCSI_USE_LO,
      .senders = I | T, .min = 0, .max = 3600, .dflt = 2, .ours = 2, .ours_lim = NONE,
      .field = PAR(default_time2wait), .max_len = VAL },
    /* 13.16 DefaultTime2Retain: 0..3600, default 20, LO, min().  Ours 20. */
    { .name = "DefaultTime2Retain", .kind = ISCSI_KIND_NUM_MIN, .use = ISCSI_USE_LO,
      .senders = I | T, .min = 0, .max = 3600, .dflt = 20, .ours = 20, .ours_lim = NONE,
      .field = PAR(default_time2retain), .max_len = VAL },
    /* 13.17 MaxOutstandingR2T: 1..65535, default 1, LO, min(). */
    { .name = "MaxOutstandingR2T", .kind = ISCSI_KIND_NUM_MIN, .use = ISCSI_USE_LO,
      .senders = I | T, .flags = IRR, .min = 1, .max = 65535, .dflt = 1,
      .ours_lim = LIM(max_outstanding_r2t), .field = PAR(max_outstanding_r2t), .max_len = VAL },
    /* 13.18 DataPDUInOrder: Yes|No, default Yes, LO, OR.  Ours Yes: Data-Out
     * PDUs arrive in order, so the result is always Yes. */
    { .name = "DataPDUInOrder", .kind = ISCSI_KIND_BOOL_OR, .use = ISCSI_USE_LO,
      .senders = I | T, .flags = IRR, .max = 1, .dflt = 1, .ours = 1, .ours_lim = NONE,
      .field = PAR(data_pdu_in_order), .max_len = VAL },
    /* 13.19 DataSequenceInOrder: Yes|No, default Yes, LO, OR.  Ours Yes. */
    { .name = "DataSequenceInOrder", .kind = ISCSI_KIND_BOOL_OR, .use = ISCSI_USE_LO,
      .senders = I | T, .flags = IRR, .max = 1, .dflt = 1, .ours = 1, .ours_lim = NONE,
      .field = PAR(data_sequence_in_order), .max_len = VAL },
    /* 13.20 ErrorRecoveryLevel: 0..2, default 0, LO, min().  Ours 0. */
    { .name = "ErrorRecoveryLevel", .kind = ISCSI_KIND_NUM_MIN, .use = ISCSI_USE_LO,
      .senders = I | T, .min = 0, .max = 2, .dflt = 0, .ours = 0, .ours_lim = NONE,
      .field = PAR(error_recovery_level), .max_len = VAL },
    /* 13.21 SessionType: Discovery|Normal, default Normal, LO, initiator,
     * declarative; read by the login state machine from the first request. */
    { .name = "SessionType", .kind = ISCSI_KIND_STRING_DECL, .use = ISCSI_USE_LO,
      .senders = I, .flags = FIRST, .values = "Discovery,Normal", .field = NONE,
      .ours_lim = NONE, .max_len = VAL },
    /* 13.23 TaskReporting: list RFC3720|ResponseFence|FastAbort, default
     * RFC3720, LO, both.  We implement RFC3720 semantics only. */
    { .name = "TaskReporting", .kind = ISCSI_KIND_LIST, .use = ISCSI_USE_LO, .senders = I | T,
      .flags = IRR, .values = "RFC3720,ResponseFence,FastAbort", .accept = "RFC3720",
      .field = NONE, .ours_lim = NONE, .max_len = VAL },
    /* 13.24 / RFC 7144 2.1 iSCSIProtocolLevel: 0..31, default 0, LO, min().
     * Ours 1: RFC 7143 itself; no RFC 7144 features are offered. */
    { .name = "iSCSIProtocolLevel", .kind = ISCSI_KIND_NUM_MIN, .use = ISCSI_USE_LO,
      .senders = I | T, .min = 0, .max = 31, .dflt = 0, .ours = 1, .ours_lim = NONE,
      .field = NONE, .max_len = VAL },
    /* 13.25 obsoleted keys.  IFMarker/OFMarker: "SHOULD respond with Reject
     * ... MAY alternatively respond No ... MUST NOT respond NotUnderstood";
     * IFMarkInt/OFMarkInt: "MUST respond with Reject".  So Reject for all
     * four (NotUnderstood or Irrelevant would break 13.25). */
    { .name = "IFMarker", .kind = ISCSI_KIND_OBSOLETE, .use = ISCSI_USE_IO, .senders = I | T,
      .field = NONE, .ours_lim = NONE, .max_len = VAL },
    { .name = "OFMarker", .kind = ISCSI_KIND_OBSOLETE, .use = ISCSI_USE_IO, .senders = I | T,
      .field = NONE, .ours_lim = NONE, .max_len = VAL },
    { .name = "IFMarkInt", .kind = ISCSI_KIND_OBSOLETE, .use = ISCSI_USE_IO, .senders = I | T,
      .field = NONE, .ours_lim = NONE, .max_len = VAL },
    { .name = "OFMarkInt", .kind = ISCSI_KIND_OBSOLETE, .use = ISCSI_USE_IO, .senders = I | T,
      .field = NONE, .ours_lim = NONE, .max_len = VAL },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(NKEYS <= 64, "iscsi_neg.seen is a 64-bit mask over the key table");

const struct iscsi_key *iscsi_key_table(size_t *n)
{
    *n = NKEYS;
    return keys;
}

const struct iscsi_key *iscsi_key_find(const char *name, size_t len)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
            return &keys[i];
    return NULL;
}

int iscsi_parse_number(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0)
        return -1;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (len - 2 > 16)
            return -1;
        for (size_t i = 2; i < len; i++) {
            char c = s[i];
            unsigned d;
            if (c >= '0' && c <= '9')
                d = (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                d = (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                d = (unsigned)(c - 'A' + 10);
            else
                return -1;
            v = v << 4 | d;
        }
        *out = v;
        return 0;
    }
    if (s[0] == '0' && len > 1)          /* decimal-constant: no leading zeros */
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int iscsi_parse_session_type(const char *s, bool *discovery)
{
    if (strcmp(s, "Discovery") == 0)
        *discovery = true;
    else if (strcmp(s, "Normal") == 0)
        *discovery = false;
    else
        return -1;
    return 0;
}

void iscsi_params_defaults(struct iscsi_session_params *p)
{
    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i < NKEYS; i++) {
        const struct iscsi_key *k = &keys[i];
        if (k->field == NONE)
            continue;
        switch (k->kind) {
        case ISCSI_KIND_NUM_MIN:
        case ISCSI_KIND_NUM_MAX:
        case ISCSI_KIND_NUM_DECL:
            memcpy((char *)p + k->field, &k->dflt, sizeof(uint32_t));
            break;
        case ISCSI_KIND_BOOL_OR:
        case ISCSI_KIND_BOOL_AND: {
            bool b = k->dflt != 0;
            memcpy((char *)p + k->field, &b, sizeof(bool));
            break;
        }
        default:        /* lists default to None / flags false; strings empty */
            break;
        }
    }
    p->target_mrdsl = 8192;     /* 13.12 default, until we declare ours */
}

static uint32_t clamp(uint32_t v, uint32_t lo, uint32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void iscsi_neg_init(struct iscsi_neg *n, const struct iscsi_login_limits *lim)
{
    memset(n, 0, sizeof(*n));
    if (lim)
        n->lim = *lim;
    /* Our own values must be ones the RFC allows us to send. */
    n->lim.max_recv_dsl = clamp(n->lim.max_recv_dsl, 512, U24);
    n->lim.max_burst = clamp(n->lim.max_burst, 512, U24);
    n->lim.first_burst = clamp(n->lim.first_burst, 512, n->lim.max_burst);
    n->lim.max_outstanding_r2t = clamp(n->lim.max_outstanding_r2t, 1, 65535);
    iscsi_params_defaults(&n->p);
}

static enum iscsi_neg_outcome fail(uint16_t *status, const char **why, uint16_t st,
                                   const char *reason)
{
    *status = st;
    *why = reason;
    return ISCSI_NEG_FAIL;
}

static uint32_t ours_of(const struct iscsi_neg *n, const struct iscsi_key *k)
{
    uint32_t v = k->ours;
    if (k->ours_lim != NONE)
        memcpy(&v, (const char *)&n->lim + k->ours_lim, sizeof(v));
    return v;
}

/* The element equal to [v, v+len) in a comma-separated list, or NULL. */
static const char *list_find(const char *list, const char *v, size_t len)
{
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && memcmp(p, v, len) == 0)
            return p;
        p = p[n] ? p + n + 1 : NULL;
    }
    return NULL;
}

/* 6.2.1 list negotiation: the first value of the offer that we support, as
 * a pointer into our own accept list, or NULL (answer Reject).  Values we do
 * not know are skipped; an empty element makes the whole offer malformed. */
static const char *pick_from_list(const struct iscsi_neg *n, const struct iscsi_key *k,
                                  const char *offer, size_t len)
{
    const char *pick = NULL;

    for (size_t at = 0;;) {
        const char *e = offer + at;
        const char *comma = memchr(e, ',', len - at);
        size_t elen = comma ? (size_t)(comma - e) : len - at;
        if (elen == 0)
            return NULL;
        const char *ours = list_find(k->accept, e, elen);
        if (ours && k->crc_value && !n->lim.allow_digests &&
            strncmp(ours, k->crc_value, elen) == 0 && k->crc_value[elen] == '\0')
            ours = NULL;
        if (!pick)
            pick = ours;
        if (!comma)
            return pick;
        at += elen + 1;
    }
}

static void set_u32(struct iscsi_neg *n, const struct iscsi_key *k, uint32_t v)
{
    if (k->field != NONE)
        memcpy((char *)&n->p + k->field, &v, sizeof(v));
}

static void set_bool(struct iscsi_neg *n, const struct iscsi_key *k, bool v)
{
    if (k->field != NONE)
        memcpy((char *)&n->p + k->field, &v, sizeof(v));
}

/* Where may this key appear during login (6.3)?  Security keys in the
 * SecurityNegotiation stage only; operational negotiations in the
 * LoginOperationalNegotiation stage only; declarations in either. */
static bool stage_ok(const struct iscsi_key *k, enum iscsi_login_stage stage)
{
    switch (k->kind) {
    case ISCSI_KIND_AUTH:
        return stage == ISCSI_STAGE_SECURITY;
    case ISCSI_KIND_SENDTARGETS:
        return false;
    case ISCSI_KIND_LIST:
    case ISCSI_KIND_BOOL_OR:
    case ISCSI_KIND_BOOL_AND:
    case ISCSI_KIND_NUM_MIN:
    case ISCSI_KIND_NUM_MAX:
        return stage == ISCSI_STAGE_OPERATIONAL;
    case ISCSI_KIND_NUM_DECL:
    case ISCSI_KIND_STRING_DECL:
    case ISCSI_KIND_OBSOLETE:
        return true;
    }
    return false;
}

/* Answer the offer of a negotiated key (6.2.1 / 6.2.2) and store the result. */
static void negotiate(struct iscsi_neg *n, const struct iscsi_key *k, const char *v,
                      size_t len, struct iscsi_text_builder *out)
{
    uint64_t offer;

    switch (k->kind) {
    case ISCSI_KIND_LIST: {
        const char *pick = len <= k->max_len ? pick_from_list(n, k, v, len) : NULL;
        if (!pick) {
            iscsi_text_add(out, k->name, "Reject");
            return;
        }
        char val[32];
        size_t plen = strcspn(pick, ",");
        if (plen >= sizeof(val))
            plen = sizeof(val) - 1;
        memcpy(val, pick, plen);
        val[plen] = '\0';
        iscsi_text_add(out, k->name, val);
        if (k->crc_value)
            set_bool(n, k, strcmp(val, k->crc_value) == 0);
        return;
    }
    case ISCSI_KIND_BOOL_OR:
    case ISCSI_KIND_BOOL_AND: {
        bool yes;
        if (strcmp(v, "Yes") == 0)
            yes = true;
        else if (strcmp(v, "No") == 0)
            yes = false;
        else {
            iscsi_text_add(out, k->name, "Reject");
            return;
        }
        bool r = k->kind == ISCSI_KIND_BOOL_OR ? (yes || ours_of(n, k)) : (yes && ours_of(n, k));
        iscsi_text_add(out, k->name, r ? "Yes" : "No");
        set_bool(n, k, r);
        return;
    }
    case ISCSI_KIND_NUM_MIN:
    case ISCSI_KIND_NUM_MAX: {
        if (iscsi_parse_number(v, len, &offer) < 0 || offer < k->min || offer > k->max) {
            iscsi_text_add(out, k->name, "Reject");
            return;
        }
        uint32_t o = ours_of(n, k), r;
        if (k->kind == ISCSI_KIND_NUM_MIN)
            r = (uint32_t)offer < o ? (uint32_t)offer : o;
        else
            r = (uint32_t)offer > o ? (uint32_t)offer : o;
        iscsi_text_add_u32(out, k->name, r);
        set_u32(n, k, r);
        return;
    }
    default:
        return;
    }
}

enum iscsi_neg_outcome iscsi_neg_login_key(struct iscsi_neg *n, const struct iscsi_text_pair *kv,
                                           enum iscsi_login_stage stage, bool first,
                                           struct iscsi_text_builder *out, uint16_t *status,
                                           const char **why)
{
    const struct iscsi_key *k = iscsi_key_find(kv->key, kv->key_len);

    if (!k) {
        /* 6.2: unknown keys, including X- and X# extensions (13.22) we do
         * not implement, are answered NotUnderstood. */
        iscsi_text_add_n(out, kv->key, kv->key_len, "NotUnderstood");
        return ISCSI_NEG_DONE;
    }
    uint64_t bit = UINT64_C(1) << (size_t)(k - keys);
    if (n->seen & bit)      /* 6.3: no redeclaration / renegotiation in a login */
        return fail(status, why, ISCSI_LOGIN_ERR_INITIATOR, "key sent twice during login");
    n->seen |= bit;
    if (!(k->senders & ISCSI_SENDER_I))
        return fail(status, why, ISCSI_LOGIN_ERR_INITIATOR, "target-only key sent by initiator");
    if (!stage_ok(k, stage))
        return fail(status, why, ISCSI_LOGIN_ERR_INITIATOR, "key not allowed in this login stage");
    if ((k->flags & FIRST) && !first)
        return fail(status, why, ISCSI_LOGIN_ERR_INITIATOR,
                    "key allowed only in the first Login Request");
    if (k->kind == ISCSI_KIND_AUTH)
        return ISCSI_NEG_SECURITY;
    if (k->kind == ISCSI_KIND_OBSOLETE) {
        iscsi_text_add(out, k->name, "Reject");      /* 13.25 */
        return ISCSI_NEG_DONE;
    }
    if ((k->flags & IRR) && n->p.discovery) {
        iscsi_text_add(out, k->name, "Irrelevant");  /* 6.2 */
        return ISCSI_NEG_DONE;
    }
    if (k->kind == ISCSI_KIND_STRING_DECL) {
        if (kv->value_len > k->max_len)
            return fail(status, why, ISCSI_LOGIN_ERR_INITIATOR, "declared value too long");
        if (k->field != NONE && !(k->field == PAR(target_name) && n->p.discovery)) {
            memcpy((char *)&n->p + k->field, kv->value, kv->value_len);
            ((char *)&n->p + k->field)[kv->value_len] = '\0';
        }
        return ISCSI_NEG_DONE;
    }
    if (k->kind == ISCSI_KIND_NUM_DECL) {
        uint64_t v;
        if (iscsi_parse_number(kv->value, kv->value_len, &v) < 0 || v < k->min || v > k->max)
            return fail(status, why, ISCSI_LOGIN_ERR_INITIATOR,
                        "declared number malformed or out of range");
        set_u32(n, k, (uint32_t)v);
        return ISCSI_NEG_DONE;
    }
    negotiate(n, k, kv->value, kv->value_len, out);
    return ISCSI_NEG_DONE;
}

void iscsi_neg_declare(struct iscsi_neg *n, struct iscsi_text_builder *out)
{
    if (n->mrdsl_declared)
        return;
    n->mrdsl_declared = true;
    n->p.target_mrdsl = n->lim.max_recv_dsl;
    iscsi_text_add_u32(out, "MaxRecvDataSegmentLength", n->lim.max_recv_dsl);
}

int iscsi_neg_final_check(const struct iscsi_neg *n, uint16_t *status, const char **why)
{
    if (!n->p.discovery && n->p.first_burst > n->p.max_burst) {
        fail(status, why, ISCSI_LOGIN_ERR_INITIATOR, "FirstBurstLength exceeds MaxBurstLength");
        return -1;
    }
    return 0;
}

const char *iscsi_params_ffp_answer(const struct iscsi_text_pair *kv)
{
    const struct iscsi_key *k = iscsi_key_find(kv->key, kv->key_len);

    if (!k)
        return "NotUnderstood";         /* 6.2, 13.22 */
    if (k->kind == ISCSI_KIND_OBSOLETE)
        return "Reject";                /* 13.25 */
    if (k->kind == ISCSI_KIND_STRING_DECL && k->use == ISCSI_USE_ALL &&
        (k->senders & ISCSI_SENDER_I))
        return NULL;                    /* InitiatorAlias: a declaration, no answer */
    if (k->kind == ISCSI_KIND_NUM_DECL && k->use == ISCSI_USE_ALL)
        return "Reject";                /* MaxRecvDataSegmentLength: not renegotiated */
    return "Irrelevant";                /* login-only keys have no meaning in FFP */
}
