/*
 * Target-side CHAP for the iSCSI security stage (RFC 7143 12.1.3 and 9.2.1,
 * RFC 1994).  Every value from the wire is checked before it is used:
 * lengths against the RFC limits and our buffers, encodings by the strict
 * binary-value decoder (iscsi_text.c), numbers by iscsi_parse_number.
 */
#include "iscsi_chap.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "iscsi_params.h"

/* Our challenge is as long as the digest, and never shorter than 16 bytes
 * (the MD5 length every CHAP peer handles). */
#define CHALLENGE_MIN  16

enum chap_state {
    CHAP_WAIT_ALGORITHM,    /* step 1: CHAP_A expected */
    CHAP_WAIT_RESPONSE,     /* step 3: CHAP_N, CHAP_R [, CHAP_I, CHAP_C] expected */
    CHAP_DONE,
    CHAP_FAILED,
};

struct iscsi_chap {
    struct iscsi_auth_policy policy;
    struct iscsi_login_hooks hooks;
    enum chap_state state;
    unsigned alg;                           /* the CHAP_A we chose */
    size_t digest_len;
    uint8_t id;                             /* our CHAP_I */
    size_t challenge_len;
    uint8_t challenge[ISCSI_CHAP_DIGEST_MAX];   /* our CHAP_C */
    bool mutual;
    char name[ISCSI_VALUE_MAX + 1];         /* the CHAP_N that authenticated */
};

/* What the initiator sent in its step 3, decoded and checked. */
struct chap_response {
    uint8_t r[ISCSI_CHAP_BINARY_MAX];       /* CHAP_R */
    size_t r_len;
    bool mutual;                            /* CHAP_I and CHAP_C present */
    uint8_t i;                              /* CHAP_I */
    uint8_t c[ISCSI_CHAP_BINARY_MAX];       /* CHAP_C */
    size_t c_len;
    enum iscsi_binary_encoding c_enc;       /* our CHAP_R goes back the same way */
};

static const EVP_MD *digest_of(unsigned alg)
{
    switch (alg) {
    case ISCSI_CHAP_MD5:      return EVP_md5();
    case ISCSI_CHAP_SHA1:     return EVP_sha1();
    case ISCSI_CHAP_SHA256:   return EVP_sha256();
    case ISCSI_CHAP_SHA3_256: return EVP_sha3_256();
    default:                  return NULL;
    }
}

int iscsi_chap_digest(unsigned alg, uint8_t id, const uint8_t *secret, size_t secret_len,
                      const uint8_t *challenge, size_t challenge_len,
                      uint8_t out[ISCSI_CHAP_DIGEST_MAX])
{
    const EVP_MD *md = digest_of(alg);
    unsigned int n = 0;

    if (!md || EVP_MD_size(md) <= 0 || EVP_MD_size(md) > ISCSI_CHAP_DIGEST_MAX)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return -1;
    int ok = EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, &id, 1) &&
             EVP_DigestUpdate(ctx, secret, secret_len) &&
             EVP_DigestUpdate(ctx, challenge, challenge_len) &&
             EVP_DigestFinal_ex(ctx, out, &n);
    EVP_MD_CTX_free(ctx);
    return ok ? (int)n : -1;
}

struct iscsi_chap *iscsi_chap_new(const struct iscsi_auth_policy *policy,
                                  const struct iscsi_login_hooks *hooks)
{
    struct iscsi_chap *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->policy = *policy;
    c->hooks = *hooks;
    c->state = CHAP_WAIT_ALGORITHM;
    return c;
}

void iscsi_chap_free(struct iscsi_chap *c)
{
    if (c)
        OPENSSL_clear_free(c, sizeof(*c));
}

bool iscsi_chap_owns_key(const struct iscsi_text_pair *kv)
{
    return iscsi_text_key_is(kv, "CHAP_A") || iscsi_text_key_is(kv, "CHAP_I") ||
           iscsi_text_key_is(kv, "CHAP_C") || iscsi_text_key_is(kv, "CHAP_N") ||
           iscsi_text_key_is(kv, "CHAP_R");
}

const char *iscsi_chap_name(const struct iscsi_chap *c)
{
    return c->name;
}

bool iscsi_chap_mutual(const struct iscsi_chap *c)
{
    return c->mutual;
}

static enum iscsi_chap_status fail(struct iscsi_chap *c, uint16_t *status, const char **why,
                                   uint16_t st, const char *reason)
{
    c->state = CHAP_FAILED;
    *status = st;
    *why = reason;
    return ISCSI_CHAP_FAIL;
}

static int fill_random(const struct iscsi_chap *c, uint8_t *buf, size_t len)
{
    if (c->hooks.random)
        return c->hooks.random(c->hooks.ctx, buf, len);
    return len <= INT_MAX && RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

/* The digest length of alg if policy allows it and OpenSSL can compute it
 * (a FIPS provider has no MD5), else 0. */
static size_t usable(const struct iscsi_chap *c, uint64_t alg)
{
    uint8_t probe[ISCSI_CHAP_DIGEST_MAX];

    if (alg < ISCSI_CHAP_MD5 || alg > ISCSI_CHAP_SHA3_256 ||
        !(c->policy.chap_algorithms & ISCSI_CHAP_ALG_BIT(alg)))
        return 0;
    int n = iscsi_chap_digest((unsigned)alg, 0, NULL, 0, NULL, 0, probe);
    return n > 0 ? (size_t)n : 0;
}

/* Step 2 (12.1.3): the first algorithm of the initiator's CHAP_A list we
 * allow, as in list negotiation (6.2.1): values we do not know are skipped,
 * an empty element anywhere makes the list malformed.  1 chosen, 0 none,
 * -1 malformed. */
static int pick_algorithm(struct iscsi_chap *c, const struct iscsi_text_pair *a)
{
    const char *v = a->value;
    size_t len = a->value_len;
    int picked = 0;

    if (len == 0 || len > ISCSI_VALUE_MAX)
        return -1;
    for (size_t at = 0;;) {
        const char *comma = memchr(v + at, ',', len - at);
        size_t elen = comma ? (size_t)(comma - (v + at)) : len - at;
        uint64_t alg;
        if (elen == 0)
            return -1;
        if (!picked && iscsi_parse_number(v + at, elen, &alg) == 0) {
            size_t dlen = usable(c, alg);
            if (dlen) {
                c->alg = (unsigned)alg;
                c->digest_len = dlen;
                picked = 1;
            }
        }
        if (!comma)
            return picked;
        at += elen + 1;
    }
}

/* Steps 1-2: CHAP_A in, CHAP_A / CHAP_I / CHAP_C out. */
static enum iscsi_chap_status send_challenge(struct iscsi_chap *c,
                                             const struct iscsi_text_pair *a,
                                             struct iscsi_text_builder *out, uint16_t *status,
                                             const char **why)
{
    uint8_t rnd[1 + ISCSI_CHAP_DIGEST_MAX];
    char enc[2 + 2 * ISCSI_CHAP_DIGEST_MAX + 1];

    int picked = pick_algorithm(c, a);
    if (picked < 0)
        return fail(c, status, why, ISCSI_LOGIN_ERR_AUTH_FAILED, "CHAP_A list malformed");
    /* 12.1.3: no Reject value for CHAP_A; the target fails the login */
    if (picked == 0)
        return fail(c, status, why, ISCSI_LOGIN_ERR_AUTH_FAILED,
                    "no CHAP_A algorithm the target allows");
    c->challenge_len = c->digest_len > CHALLENGE_MIN ? c->digest_len : CHALLENGE_MIN;
    /* RFC 1994 2.3 and 4.1: a fresh, unpredictable Challenge and Identifier */
    if (fill_random(c, rnd, 1 + c->challenge_len) < 0)
        return fail(c, status, why, ISCSI_LOGIN_ERR_TARGET, "no random bytes for the challenge");
    c->id = rnd[0];
    memcpy(c->challenge, rnd + 1, c->challenge_len);
    iscsi_binary_encode(c->challenge, c->challenge_len, ISCSI_BINARY_HEX, enc, sizeof(enc));
    iscsi_text_add_u32(out, "CHAP_A", c->alg);
    iscsi_text_add_u32(out, "CHAP_I", c->id);
    iscsi_text_add(out, "CHAP_C", enc);
    c->state = CHAP_WAIT_RESPONSE;
    return ISCSI_CHAP_CONTINUE;
}

/* Step 3, syntax: everything decoded and bounded before anything is used.
 * 12.1.3: N is text, I a number, C and R binary of at most 1024 bytes. */
static const char *parse_response(const struct iscsi_chap *c, const struct iscsi_text_pairs *req,
                                  struct chap_response *rsp)
{
    const struct iscsi_text_pair *n = iscsi_text_find(req, "CHAP_N");
    const struct iscsi_text_pair *r = iscsi_text_find(req, "CHAP_R");
    const struct iscsi_text_pair *i = iscsi_text_find(req, "CHAP_I");
    const struct iscsi_text_pair *ch = iscsi_text_find(req, "CHAP_C");
    enum iscsi_binary_encoding r_enc;
    uint64_t id;

    if (!n || !r)
        return "CHAP_N or CHAP_R missing";
    if (!i != !ch)
        return "CHAP_I and CHAP_C not sent together";
    if (n->value_len == 0 || n->value_len > ISCSI_VALUE_MAX)
        return "CHAP_N empty or longer than 255 bytes";
    if (iscsi_binary_decode(r->value, r->value_len, rsp->r, sizeof(rsp->r), &rsp->r_len,
                            &r_enc) < 0)
        return "CHAP_R malformed or longer than 1024 bytes";
    if (rsp->r_len != c->digest_len)
        return "CHAP_R length is not the digest length";
    rsp->mutual = ch != NULL;
    if (!rsp->mutual)
        return NULL;
    if (iscsi_parse_number(i->value, i->value_len, &id) < 0 || id > 255)
        return "CHAP_I malformed or above 255";
    rsp->i = (uint8_t)id;
    if (iscsi_binary_decode(ch->value, ch->value_len, rsp->c, sizeof(rsp->c), &rsp->c_len,
                            &rsp->c_enc) < 0)
        return "CHAP_C malformed or longer than 1024 bytes";
    /* 9.2.1: an originator must not reuse the responder's challenge for the
     * other direction (a reflection attack); the responder checks it */
    if (rsp->c_len == c->challenge_len && memcmp(rsp->c, c->challenge, rsp->c_len) == 0)
        return "CHAP_C reflects the target's challenge";
    return NULL;
}

/* Step 3, the check: CHAP_R against H(our I || secret of CHAP_N || our C). */
static enum iscsi_chap_status verify_initiator(struct iscsi_chap *c, const char *name,
                                               const struct chap_response *rsp,
                                               uint16_t *status, const char **why)
{
    uint8_t secret[ISCSI_CHAP_SECRET_MAX];
    uint8_t expect[ISCSI_CHAP_DIGEST_MAX];
    size_t secret_len = sizeof(secret);
    enum iscsi_chap_status st = ISCSI_CHAP_CONTINUE;

    if (!c->hooks.initiator_secret ||
        c->hooks.initiator_secret(c->hooks.ctx, name, secret, &secret_len) < 0) {
        st = fail(c, status, why, ISCSI_LOGIN_ERR_AUTH_FAILED, "CHAP_N is not a known account");
    } else if (secret_len == 0 || secret_len > sizeof(secret)) {
        st = fail(c, status, why, ISCSI_LOGIN_ERR_AUTH_FAILED, "CHAP account has no usable secret");
    } else if (iscsi_chap_digest(c->alg, c->id, secret, secret_len, c->challenge,
                                 c->challenge_len, expect) != (int)c->digest_len) {
        st = fail(c, status, why, ISCSI_LOGIN_ERR_TARGET, "CHAP digest failed");
    } else if (CRYPTO_memcmp(expect, rsp->r, c->digest_len) != 0) {
        /* constant time: the comparison leaks nothing about the expected value */
        st = fail(c, status, why, ISCSI_LOGIN_ERR_AUTH_FAILED, "CHAP_R wrong");
    }
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(expect, sizeof(expect));
    return st;
}

/* Step 4 (mutual): CHAP_N / CHAP_R = H(their I || target secret || their C). */
static enum iscsi_chap_status answer_mutual(struct iscsi_chap *c, const struct chap_response *rsp,
                                            struct iscsi_text_builder *out, uint16_t *status,
                                            const char **why)
{
    char name[ISCSI_VALUE_MAX + 1];
    uint8_t secret[ISCSI_CHAP_SECRET_MAX];
    uint8_t mine[ISCSI_CHAP_DIGEST_MAX];
    char enc[2 + 2 * ISCSI_CHAP_DIGEST_MAX + 1];
    size_t secret_len = sizeof(secret);
    enum iscsi_chap_status st = ISCSI_CHAP_CONTINUE;

    name[0] = '\0';
    if (!c->hooks.target_secret ||
        c->hooks.target_secret(c->hooks.ctx, name, sizeof(name), secret, &secret_len) < 0) {
        st = fail(c, status, why, ISCSI_LOGIN_ERR_AUTH_FAILED,
                  "mutual CHAP asked but the target has no CHAP account");
        goto out;
    }
    name[sizeof(name) - 1] = '\0';
    if (name[0] == '\0' || secret_len == 0 || secret_len > sizeof(secret)) {
        st = fail(c, status, why, ISCSI_LOGIN_ERR_AUTH_FAILED, "target CHAP account unusable");
        goto out;
    }
    /* 9.2.1: a response equal to the one we would give to our own
     * challenge means one secret serves both directions: refused */
    if (iscsi_chap_digest(c->alg, c->id, secret, secret_len, c->challenge, c->challenge_len,
                          mine) != (int)c->digest_len) {
        st = fail(c, status, why, ISCSI_LOGIN_ERR_TARGET, "CHAP digest failed");
        goto out;
    }
    if (CRYPTO_memcmp(mine, rsp->r, c->digest_len) == 0) {
        st = fail(c, status, why, ISCSI_LOGIN_ERR_AUTH_FAILED,
                  "initiator and target CHAP secrets are the same");
        goto out;
    }
    if (iscsi_chap_digest(c->alg, rsp->i, secret, secret_len, rsp->c, rsp->c_len, mine) !=
        (int)c->digest_len) {
        st = fail(c, status, why, ISCSI_LOGIN_ERR_TARGET, "CHAP digest failed");
        goto out;
    }
    iscsi_binary_encode(mine, c->digest_len, rsp->c_enc, enc, sizeof(enc));
    iscsi_text_add(out, "CHAP_N", name);
    iscsi_text_add(out, "CHAP_R", enc);
    c->mutual = true;
out:
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(mine, sizeof(mine));
    return st;
}

static enum iscsi_chap_status check_response(struct iscsi_chap *c,
                                             const struct iscsi_text_pairs *req,
                                             struct iscsi_text_builder *out, uint16_t *status,
                                             const char **why)
{
    struct chap_response rsp;
    const char *bad = parse_response(c, req, &rsp);

    if (bad)
        return fail(c, status, why, ISCSI_LOGIN_ERR_AUTH_FAILED, bad);
    const struct iscsi_text_pair *n = iscsi_text_find(req, "CHAP_N");
    /* 12.1.3: the initiator is verified first; only then does the target
     * answer a mutual challenge */
    if (verify_initiator(c, n->value, &rsp, status, why) == ISCSI_CHAP_FAIL)
        return ISCSI_CHAP_FAIL;
    if (rsp.mutual && answer_mutual(c, &rsp, out, status, why) == ISCSI_CHAP_FAIL)
        return ISCSI_CHAP_FAIL;
    memcpy(c->name, n->value, n->value_len);
    c->name[n->value_len] = '\0';
    c->state = CHAP_DONE;
    return ISCSI_CHAP_DONE;
}

enum iscsi_chap_status iscsi_chap_step(struct iscsi_chap *c, const struct iscsi_text_pairs *req,
                                       struct iscsi_text_builder *out, uint16_t *status,
                                       const char **why)
{
    const struct iscsi_text_pair *a = iscsi_text_find(req, "CHAP_A");
    bool step3 = iscsi_text_find(req, "CHAP_N") || iscsi_text_find(req, "CHAP_R") ||
                 iscsi_text_find(req, "CHAP_I") || iscsi_text_find(req, "CHAP_C");

    switch (c->state) {
    case CHAP_WAIT_ALGORITHM:
        if (step3)
            return fail(c, status, why, ISCSI_LOGIN_ERR_AUTH_FAILED,
                        "CHAP keys before the target's challenge");
        if (!a)     /* the request that agreed AuthMethod=CHAP only */
            return ISCSI_CHAP_CONTINUE;
        return send_challenge(c, a, out, status, why);
    case CHAP_WAIT_RESPONSE:
        if (a)
            return fail(c, status, why, ISCSI_LOGIN_ERR_AUTH_FAILED, "CHAP_A sent twice");
        return check_response(c, req, out, status, why);
    case CHAP_DONE:
    case CHAP_FAILED:
        break;
    }
    return fail(c, status, why, ISCSI_LOGIN_ERR_AUTH_FAILED, "CHAP key after the exchange ended");
}
