/*
 * The keys of RFC 7143 section 13 (plus AuthMethod, 12.1, and
 * iSCSIProtocolLevel, RFC 7144) as ONE table that drives both validation and
 * negotiation: for each key its type, range, default, senders, where it may
 * appear and its result function.  The login state machine feeds it the
 * initiator's offers one key at a time; the results land in
 * struct iscsi_session_params.  Pure code: no I/O, no logging.
 */
#ifndef ISP_ISCSI_PARAMS_H
#define ISP_ISCSI_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iscsi_login.h"
#include "iscsi_text.h"

/* How a key is negotiated (RFC 7143 6.2). */
enum iscsi_key_kind {
    ISCSI_KIND_LIST,         /* 6.2.1: answer the first offered value we support */
    ISCSI_KIND_BOOL_OR,      /* 6.2.2: result = offer OR ours */
    ISCSI_KIND_BOOL_AND,     /* 6.2.2: result = offer AND ours */
    ISCSI_KIND_NUM_MIN,      /* 6.2.2: result = min(offer, ours) */
    ISCSI_KIND_NUM_MAX,      /* 6.2.2: result = max(offer, ours) */
    ISCSI_KIND_NUM_DECL,     /* declarative number: each side states its own */
    ISCSI_KIND_STRING_DECL,  /* declarative text: names, aliases, addresses */
    ISCSI_KIND_AUTH,         /* 12.1 AuthMethod: answered by the security stage */
    ISCSI_KIND_SENDTARGETS,  /* 13.3 / Appendix C: answered by iscsi_text_answer */
    ISCSI_KIND_OBSOLETE,     /* 13.25: obsoleted marker keys, answered Reject */
};

/* The RFC's "Use:" line: where the key may appear. */
enum iscsi_key_use {
    ISCSI_USE_SEC,   /* "During Login - Security Negotiation" (12.1) */
    ISCSI_USE_IO,    /* Initialize Only: login of every connection */
    ISCSI_USE_LO,    /* Leading Only: login of the session's first connection */
    ISCSI_USE_ALL,   /* login and Full Feature Phase */
    ISCSI_USE_FFP,   /* Full Feature Phase only */
};

#define ISCSI_SENDER_I   0x01   /* "Senders: Initiator" */
#define ISCSI_SENDER_T   0x02   /* "Senders: Target" */

#define ISCSI_KEY_IRRELEVANT_DISCOVERY 0x01  /* "Irrelevant when: SessionType=Discovery" */
#define ISCSI_KEY_FIRST_ONLY           0x02  /* must come in the first Login Request (6.3) */

#define ISCSI_PARAM_NONE  ((size_t)-1)       /* no limits field / no result field */

struct iscsi_key {
    const char *name;
    enum iscsi_key_kind kind;
    enum iscsi_key_use use;
    uint8_t senders;
    uint8_t flags;
    uint32_t min, max;       /* numerical range (Boolean: 0 = No, 1 = Yes) */
    uint32_t dflt;           /* RFC default for numbers and Booleans */
    const char *values;      /* list / enumerated keys: RFC values, comma-separated */
    const char *accept;      /* LIST keys: the values we accept */
    uint32_t ours;           /* our side of a BOOL/NUM negotiation ... */
    size_t ours_lim;         /* ... or offsetof(struct iscsi_login_limits, x) */
    const char *crc_value;   /* LIST keys: the value that sets the result flag; we
                                accept it only when limits->allow_digests */
    size_t field;            /* offsetof(struct iscsi_session_params, x) or NONE */
    size_t field_size;       /* STRING_DECL fields: buffer size */
    size_t max_len;          /* longest value accepted (6.1: 255 unless stated) */
};

/* Look a key up by exact, case-sensitive name (RFC 7143 6.1). */
const struct iscsi_key *iscsi_key_find(const char *name, size_t len);
/* The table itself, for tests and documentation. */
const struct iscsi_key *iscsi_key_table(size_t *n);

/* RFC 7143 6.1 numerical-value: decimal-constant (no leading zeros) or
 * hex-constant (0x...), below 2^64.  Returns 0, or -1 if malformed. */
int iscsi_parse_number(const char *s, size_t len, uint64_t *out);

/* SessionType (13.21): "Discovery" or "Normal"; -1 for anything else. */
int iscsi_parse_session_type(const char *s, bool *discovery);

/* Every session parameter at its RFC 7143 section 13 default. */
void iscsi_params_defaults(struct iscsi_session_params *p);

/* One login's negotiation state. */
struct iscsi_neg {
    struct iscsi_login_limits lim;    /* ours, clamped into the RFC ranges */
    struct iscsi_session_params p;    /* the results so far */
    uint64_t seen;                    /* table rows already offered in this login */
    bool mrdsl_declared;              /* our MaxRecvDataSegmentLength was sent */
};

void iscsi_neg_init(struct iscsi_neg *n, const struct iscsi_login_limits *lim);

enum iscsi_neg_outcome {
    ISCSI_NEG_FAIL = -1,      /* login fails: *status and *why are set */
    ISCSI_NEG_DONE = 0,       /* handled; any answer appended to out */
    ISCSI_NEG_SECURITY = 1,   /* a security key: the caller's auth layer answers */
};

/*
 * Negotiate one key the initiator sent in a Login Request of stage `stage`
 * (first: the first Login Request of the connection).  Applies RFC 7143 6.2:
 * unknown and X- / X# keys get NotUnderstood, keys irrelevant to a discovery
 * session Irrelevant, malformed or out-of-range offers Reject; a key sent
 * twice in one login, by the wrong sender or in the wrong stage fails the
 * login with Initiator Error (6.3, 6.2).  Results go into n->p.
 */
enum iscsi_neg_outcome iscsi_neg_login_key(struct iscsi_neg *n, const struct iscsi_text_pair *kv,
                                           enum iscsi_login_stage stage, bool first,
                                           struct iscsi_text_builder *out, uint16_t *status,
                                           const char **why);

/* After an operational-stage request: declare our MaxRecvDataSegmentLength
 * once (13.12) and record it as target_mrdsl. */
void iscsi_neg_declare(struct iscsi_neg *n, struct iscsi_text_builder *out);

/* Cross-key checks before Full Feature Phase (13.14: FirstBurstLength
 * <= MaxBurstLength).  Returns 0, or -1 with *status / *why. */
int iscsi_neg_final_check(const struct iscsi_neg *n, uint16_t *status, const char **why);

/* The answer to a non-SendTargets key in a Full Feature Phase Text Request
 * (6.2, 6.6): "NotUnderstood", "Irrelevant", "Reject", or NULL when the key
 * is a declaration that needs no answer. */
const char *iscsi_params_ffp_answer(const struct iscsi_text_pair *kv);

#endif
