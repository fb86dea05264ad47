/*
 * Target-side login (RFC 7143 sections 6 and 13) as a pure state machine.
 * The connection feeds it each Login Request (decoded header + data segment)
 * and sends the reply it builds.  No sockets, no event loop: unit-tested and
 * fuzzed directly.
 *
 * The only asynchronous step is the transition to Full Feature Phase of a
 * normal session: the proxy must log in to the backend first, so the state
 * machine returns ISCSI_LOGIN_FFP_PENDING and the caller later calls
 * iscsi_login_finish() with the backend's outcome.
 */
#ifndef ISP_ISCSI_LOGIN_H
#define ISP_ISCSI_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iscsi_pdu.h"

#define ISCSI_NAME_MAX   224   /* RFC 7143 6.1: iSCSI names are at most 223 bytes */
#define ISCSI_VALUE_MAX  255   /* RFC 7143 6.1: default maximum value length */

/* Login status class/detail pairs (RFC 7143 11.13.5). */
#define ISCSI_LOGIN_STATUS(cls, det)           (((cls) << 8) | (det))
#define ISCSI_LOGIN_SUCCESS                    0x0000
#define ISCSI_LOGIN_ERR_INITIATOR              0x0200
#define ISCSI_LOGIN_ERR_AUTH_FAILED            0x0201
#define ISCSI_LOGIN_ERR_FORBIDDEN              0x0202
#define ISCSI_LOGIN_ERR_NOT_FOUND              0x0203
#define ISCSI_LOGIN_ERR_TARGET_REMOVED         0x0204
#define ISCSI_LOGIN_ERR_UNSUPPORTED_VERSION    0x0205
#define ISCSI_LOGIN_ERR_TOO_MANY_CONNECTIONS   0x0206
#define ISCSI_LOGIN_ERR_MISSING_PARAMETER      0x0207
#define ISCSI_LOGIN_ERR_CANT_INCLUDE           0x0208
#define ISCSI_LOGIN_ERR_SESSION_TYPE           0x0209
#define ISCSI_LOGIN_ERR_NO_SESSION             0x020a
#define ISCSI_LOGIN_ERR_INVALID_DURING_LOGIN   0x020b
#define ISCSI_LOGIN_ERR_TARGET                 0x0300
#define ISCSI_LOGIN_ERR_SERVICE_UNAVAILABLE    0x0301
#define ISCSI_LOGIN_ERR_OUT_OF_RESOURCES       0x0302

/* What the proxy offers / accepts (its side of every negotiation). */
struct iscsi_login_limits {
    uint32_t max_recv_dsl;          /* our MaxRecvDataSegmentLength, declared */
    uint32_t max_burst;             /* upper bound we accept for MaxBurstLength */
    uint32_t first_burst;           /* upper bound for FirstBurstLength */
    uint32_t max_outstanding_r2t;   /* upper bound for MaxOutstandingR2T */
    bool     allow_digests;         /* accept CRC32C for HeaderDigest/DataDigest */
    uint32_t immediate_data;        /* our side of ImmediateData (AND): 1 Yes, 0 No */
    uint32_t initial_r2t;           /* our side of InitialR2T (OR): 1 Yes, 0 No */
};

/* The AuthMethod (RFC 7143 12.1) a login used. */
enum iscsi_auth_method {
    ISCSI_AUTH_NONE = 0,            /* AuthMethod=None, or no security stage */
    ISCSI_AUTH_CHAP,                /* CHAP (12.1.3) */
};

/* The outcome of negotiation, in force from Full Feature Phase on. */
struct iscsi_session_params {
    bool     discovery;             /* SessionType=Discovery */
    bool     header_digest;         /* CRC32C negotiated */
    bool     data_digest;
    uint32_t initiator_mrdsl;       /* initiator's MaxRecvDataSegmentLength: Data-In size */
    uint32_t target_mrdsl;          /* ours: Data-Out / immediate data size */
    uint32_t max_burst;
    uint32_t first_burst;
    uint32_t max_outstanding_r2t;
    bool     initial_r2t;
    bool     immediate_data;
    bool     data_pdu_in_order;
    bool     data_sequence_in_order;
    uint32_t max_connections;
    uint32_t default_time2wait;
    uint32_t default_time2retain;
    uint32_t error_recovery_level;
    char     initiator_name[ISCSI_NAME_MAX];
    char     initiator_alias[ISCSI_VALUE_MAX + 1];
    char     target_name[ISCSI_NAME_MAX];   /* empty for discovery sessions */
    /* how the initiator authenticated (RFC 7143 12), for log lines */
    enum iscsi_auth_method auth_method;
    bool     chap_mutual;           /* the target authenticated itself too */
    char     chap_name[ISCSI_VALUE_MAX + 1];  /* the CHAP_N that authenticated */
};

enum iscsi_login_result {
    ISCSI_LOGIN_REPLY,              /* send reply->hdr + data, stay in login */
    ISCSI_LOGIN_REPLY_AND_CLOSE,    /* send the (failure) reply, then close */
    ISCSI_LOGIN_FFP_PENDING,        /* log in to the backend, then iscsi_login_finish() */
    ISCSI_LOGIN_DONE,               /* send the final reply; Full Feature Phase begins
                                       (discovery sessions: no backend needed) */
};

/*
 * A reply: a fully built Login Response header except statsn, expcmdsn and
 * maxcmdsn, which the connection owns and fills in; and its data segment
 * (owned by the login object, valid until the next call on it).
 */
struct iscsi_login_reply {
    struct iscsi_pdu_hdr hdr;
    const uint8_t *data;
    size_t data_len;
    uint16_t status;                /* class << 8 | detail, for logs and stats */
    const char *why;                /* short reason for a failure, for the log line */
};

/* How a target (or discovery) wants its initiators to authenticate. */
struct iscsi_auth_policy {
    bool chap_required;             /* AuthMethod=None refused (0x0201); implies chap_allowed */
    bool chap_allowed;              /* CHAP offered at all (false: None only) */
    unsigned chap_algorithms;       /* bit (1u << n) for CHAP_A n allowed, n in 5..8
                                       (ISCSI_CHAP_ALG_BIT in iscsi_chap.h) */
};

/* What the login asks of the configuration.  Secrets are copied into the
 * caller's buffers, which the login cleanses after use. */
struct iscsi_login_hooks {
    void *ctx;
    /* Required.  Called once, on the first complete Login Request, after
     * its identity checks: target_name is NULL for a discovery session.
     * Returns 0 to admit, with *policy filled in, or the login status to
     * refuse with (0x0203 not found, 0x0202 forbidden, ...) and *why set
     * to a short reason (it reaches the log line, never the wire). */
    uint16_t (*admit)(void *ctx, const char *target_name, const char *initiator_name,
                      struct iscsi_auth_policy *policy, const char **why);
    /* The secret of initiator account `name` (the CHAP_N received) for this
     * login's target: 0 with the secret in buf (at most *len bytes on entry,
     * its length on return), or -1 when there is no such account.  NULL:
     * no accounts. */
    int (*initiator_secret)(void *ctx, const char *name, uint8_t *buf, size_t *len);
    /* The target's own account for mutual CHAP: 0 with its NUL-terminated
     * name (name_len bytes available) and secret (as above), or -1 when the
     * target has none.  NULL: none. */
    int (*target_secret)(void *ctx, char *name, size_t name_len, uint8_t *buf, size_t *len);
    /* Fills len bytes with random data, returns 0 or -1.  NULL: OpenSSL's
     * RAND_bytes; tests and fuzzers inject a deterministic one. */
    int (*random)(void *ctx, uint8_t *buf, size_t len);
};

struct iscsi_login;

/* tsih: the session handle this session will get if it logs in.  The hooks
 * are copied; NULL when hooks or hooks->admit is missing, or out of memory. */
struct iscsi_login *iscsi_login_new(const struct iscsi_login_limits *limits, uint16_t tsih,
                                    const struct iscsi_login_hooks *hooks);
void iscsi_login_free(struct iscsi_login *l);

enum iscsi_login_result iscsi_login_step(struct iscsi_login *l, const struct iscsi_pdu_hdr *req,
                                         const uint8_t *data, size_t data_len,
                                         struct iscsi_login_reply *reply);

/* After ISCSI_LOGIN_FFP_PENDING: status 0 builds the final success reply,
 * anything else a failure reply with that status (then close). */
enum iscsi_login_result iscsi_login_finish(struct iscsi_login *l, uint16_t status,
                                           struct iscsi_login_reply *reply);

const struct iscsi_session_params *iscsi_login_params(const struct iscsi_login *l);

/* Why a login failed, from its status class and detail (RFC 7143
 * 11.13.5): a small fixed set, a label value of the login failure counter. */
enum iscsi_login_failure {
    ISCSI_LOGIN_FAILURE_AUTHENTICATION,         /* 0x0201 */
    ISCSI_LOGIN_FAILURE_AUTHORIZATION,          /* 0x0202 */
    ISCSI_LOGIN_FAILURE_NOT_FOUND,              /* 0x0203 */
    ISCSI_LOGIN_FAILURE_TARGET_REMOVED,         /* 0x0204 */
    ISCSI_LOGIN_FAILURE_UNSUPPORTED_VERSION,    /* 0x0205 */
    ISCSI_LOGIN_FAILURE_TOO_MANY_CONNECTIONS,   /* 0x0206 */
    ISCSI_LOGIN_FAILURE_MISSING_PARAMETER,      /* 0x0207 */
    ISCSI_LOGIN_FAILURE_INITIATOR_ERROR,        /* other initiator errors (class 2) */
    ISCSI_LOGIN_FAILURE_TARGET_ERROR,           /* 0x0300 */
    ISCSI_LOGIN_FAILURE_BACKEND_UNAVAILABLE,    /* 0x0301 */
    ISCSI_LOGIN_FAILURE_OUT_OF_RESOURCES,       /* 0x0302 */
    ISCSI_LOGIN_FAILURE_OTHER,
    ISCSI_LOGIN_FAILURE_COUNT
};
enum iscsi_login_failure iscsi_login_failure_of(uint16_t status);
/* "authentication", "not_found", ... */
const char *iscsi_login_failure_name(enum iscsi_login_failure f);

/* The login's state by its RFC 7143 8.1.2 / 6.3 name, for log lines. */
const char *iscsi_login_state_name(const struct iscsi_login *l);

#endif
