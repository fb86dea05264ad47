/*
 * CHAP (RFC 1994) as the security stage of an iSCSI login carries it
 * (RFC 7143 12.1.3), target side, as a pure exchange: the login feeds it
 * each complete Login Request of the security stage once AuthMethod=CHAP is
 * agreed, and it appends its answer keys.  Digests come from OpenSSL's EVP;
 * secrets come from the login hooks and are cleansed after each use.
 *
 *   initiator                              target
 *   CHAP_A=<A1,A2,...>                 ->
 *                                      <-  CHAP_A=<A> CHAP_I=<I> CHAP_C=<C>
 *   CHAP_N=<N> CHAP_R=<R>
 *     [CHAP_I=<I'> CHAP_C=<C'>]        ->  (verified; 0x0201 if wrong)
 *                                      <-  [CHAP_N=<N'> CHAP_R=<R'>]  (mutual)
 */
#ifndef ISP_ISCSI_CHAP_H
#define ISP_ISCSI_CHAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iscsi_login.h"
#include "iscsi_text.h"

/* CHAP_A values: the IANA "PPP Authentication Algorithms" numbers; RFC 7143
 * 12.1.3 makes 5 (MD5) the one every implementation has. */
#define ISCSI_CHAP_MD5           5
#define ISCSI_CHAP_SHA1          6
#define ISCSI_CHAP_SHA256        7
#define ISCSI_CHAP_SHA3_256      8
#define ISCSI_CHAP_ALG_BIT(a)    (1u << (a))
#define ISCSI_CHAP_ALGS_ALL      (ISCSI_CHAP_ALG_BIT(5) | ISCSI_CHAP_ALG_BIT(6) | \
                                  ISCSI_CHAP_ALG_BIT(7) | ISCSI_CHAP_ALG_BIT(8))

#define ISCSI_CHAP_DIGEST_MAX    32     /* SHA-256, SHA3-256 */
#define ISCSI_CHAP_BINARY_MAX    1024   /* 12.1.3: binary length of C and R */
#define ISCSI_CHAP_SECRET_MAX    255    /* what the hooks may return */

enum iscsi_chap_status {
    ISCSI_CHAP_CONTINUE,        /* answer sent (or nothing to answer yet) */
    ISCSI_CHAP_DONE,            /* the initiator is authenticated */
    ISCSI_CHAP_FAIL,            /* *status and *why set; the login fails */
};

struct iscsi_chap;

/* One login's exchange.  The policy and hooks are copied; NULL when out of
 * memory. */
struct iscsi_chap *iscsi_chap_new(const struct iscsi_auth_policy *policy,
                                  const struct iscsi_login_hooks *hooks);
void iscsi_chap_free(struct iscsi_chap *c);

/* Is this one of the keys CHAP carries (CHAP_A, CHAP_I, CHAP_C, CHAP_N,
 * CHAP_R)? */
bool iscsi_chap_owns_key(const struct iscsi_text_pair *kv);

/*
 * Run one complete Login Request of the security stage: the CHAP keys in
 * req are checked in the order of 12.1.3 and answered into out.  A request
 * without CHAP keys before the challenge (the one that only agreed
 * AuthMethod) continues; keys out of order or sent twice fail.  Every
 * failure is Authentication Failure (0x0201), except a target-side fault
 * (no random bytes, a digest OpenSSL cannot compute: 0x0300).  *why never
 * holds a secret, a digest or a value from the wire.
 */
enum iscsi_chap_status iscsi_chap_step(struct iscsi_chap *c, const struct iscsi_text_pairs *req,
                                       struct iscsi_text_builder *out, uint16_t *status,
                                       const char **why);

/* After ISCSI_CHAP_DONE: the CHAP_N that authenticated, and whether the
 * target answered a mutual challenge. */
const char *iscsi_chap_name(const struct iscsi_chap *c);
bool iscsi_chap_mutual(const struct iscsi_chap *c);

/* RFC 1994 4.1: Response = H(Identifier || secret || Challenge) with the
 * digest of CHAP_A alg, into out.  Returns the digest length, or -1 for an
 * algorithm outside 5..8 or an OpenSSL failure. */
int iscsi_chap_digest(unsigned alg, uint8_t id, const uint8_t *secret, size_t secret_len,
                      const uint8_t *challenge, size_t challenge_len,
                      uint8_t out[ISCSI_CHAP_DIGEST_MAX]);

#endif
