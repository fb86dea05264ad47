/* Unit tests for target-side CHAP (RFC 7143 12.1.3 and 9.2.1, RFC 1994):
 * digest vectors computed independently with `openssl dgst`, then one case
 * per rule.  The binary-value codec it reads is tested in test_iscsi_text.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/crypto.h>

#include "iscsi_chap.h"
#include "iscsi_text.h"
#include "text_kv.h"

#define INI_NAME     "alice"
#define INI_SECRET   "s3cr3t-p4ssw0rd"
#define TGT_NAME     "iqn.2024-01.org.example:proxy"
#define TGT_SECRET   "t4rget-s3cret-99"
#define ID           0x2a                   /* the test random hook's CHAP_I */

/* `printf '\x2a' 's3cr3t-p4ssw0rd' <bytes 00..0f> | openssl dgst -<alg>` */
#define MD5_R        "0xc25bdf0ca955d57a736725540583b0c1"
#define MD5_R_B64    "0bwlvfDKlV1XpzZyVUBYOwwQ=="

/* ---- CRYPTO_memcmp interposed: counts calls, compares in constant time.
 * The definition in this executable takes precedence over libcrypto's for
 * the calls iscsi_chap.c makes. */
static int memcmp_calls;

int CRYPTO_memcmp(const void *in_a, const void *in_b, size_t len)
{
    const unsigned char *a = in_a, *b = in_b;
    unsigned char d = 0;

    memcmp_calls++;
    for (size_t i = 0; i < len; i++)
        d |= a[i] ^ b[i];
    return d != 0;
}

/* ---- hooks ----------------------------------------------------------- */

struct accounts {
    bool target_account;
    const char *target_secret;
    bool random_fails;
};

/* Deterministic "random": CHAP_I 0x2a, then the challenge 00 01 02 ... */
static int test_random(void *ctx, uint8_t *buf, size_t len)
{
    const struct accounts *a = ctx;
    if (a->random_fails)
        return -1;
    for (size_t i = 0; i < len; i++)
        buf[i] = i == 0 ? ID : (uint8_t)(i - 1);
    return 0;
}

static int initiator_secret(void *ctx, const char *name, uint8_t *buf, size_t *len)
{
    (void)ctx;
    if (strcmp(name, INI_NAME) != 0 || *len < strlen(INI_SECRET))
        return -1;
    *len = strlen(INI_SECRET);
    memcpy(buf, INI_SECRET, *len);
    return 0;
}

static int target_secret(void *ctx, char *name, size_t name_len, uint8_t *buf, size_t *len)
{
    const struct accounts *a = ctx;
    if (!a->target_account || *len < strlen(a->target_secret))
        return -1;
    snprintf(name, name_len, "%s", TGT_NAME);
    *len = strlen(a->target_secret);
    memcpy(buf, a->target_secret, *len);
    return 0;
}

/* ---- fixture --------------------------------------------------------- */

struct fx {
    struct accounts acc;
    struct iscsi_auth_policy policy;
    struct iscsi_chap *c;
    uint8_t out[8192];
    struct iscsi_text_pairs reply;
    uint16_t status;
    const char *why;
    const char *failed_why;     /* why of the last assert_failed */
};

static struct fx fx;

static int setup(void **state)
{
    memset(&fx, 0, sizeof(fx));
    fx.acc.target_account = true;
    fx.acc.target_secret = TGT_SECRET;
    fx.policy = (struct iscsi_auth_policy){ .chap_allowed = true,
                                            .chap_algorithms = ISCSI_CHAP_ALGS_ALL };
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    iscsi_chap_free(fx.c);
    return 0;
}

static void start(void)
{
    struct iscsi_login_hooks h = {
        .ctx = &fx.acc, .initiator_secret = initiator_secret, .target_secret = target_secret,
        .random = test_random,
    };
    iscsi_chap_free(fx.c);
    fx.c = iscsi_chap_new(&fx.policy, &h);
    assert_non_null(fx.c);
}

/* One request of "key=value" strings (NULL-terminated list). */
static enum iscsi_chap_status req(const char *kv, ...)
{
    static uint8_t text[8192];
    struct iscsi_text_pairs pairs;
    struct iscsi_text_builder b;
    size_t n;
    va_list ap;

    va_start(ap, kv);
    n = join_kv(text, sizeof(text), kv, ap);
    va_end(ap);
    assert_int_equal(iscsi_text_parse(text, n, false, &pairs, NULL), ISCSI_TEXT_OK);
    iscsi_text_builder_init(&b, fx.out, sizeof(fx.out));
    fx.status = 0;
    fx.why = NULL;
    enum iscsi_chap_status st = iscsi_chap_step(fx.c, &pairs, &b, &fx.status, &fx.why);
    assert_false(b.overflow);
    assert_int_equal(iscsi_text_parse(fx.out, b.len, false, &fx.reply, NULL), ISCSI_TEXT_OK);
    return st;
}

static const char *reply(const char *key)
{
    const struct iscsi_text_pair *p = iscsi_text_find(&fx.reply, key);
    return p ? p->value : NULL;
}

static void assert_failed(enum iscsi_chap_status st, uint16_t status)
{
    assert_int_equal(st, ISCSI_CHAP_FAIL);
    assert_int_equal(fx.status, status);
    assert_non_null(fx.why);
    fx.failed_why = fx.why;
    assert_null(strstr(fx.why, INI_SECRET));
    assert_null(strstr(fx.why, TGT_SECRET));
    assert_int_equal(fx.reply.n, 0);
    /* the exchange is over */
    assert_int_equal(req("CHAP_A=5", NULL), ISCSI_CHAP_FAIL);
}

/* Start an exchange and have the target send its MD5 challenge. */
static void challenged(void)
{
    start();
    assert_int_equal(req("CHAP_A=5", NULL), ISCSI_CHAP_CONTINUE);
}

/* A string of n hex digit pairs after "0x": byte i is (i + base) & 0xff. */
static const char *hex_value(const char *key, size_t n, unsigned base)
{
    static char buf[2][4096];
    static int which;
    char *s = buf[which ^= 1];
    int off = snprintf(s, sizeof(buf[0]), "%s=0x", key);
    for (size_t i = 0; i < n; i++)
        off += snprintf(s + off, sizeof(buf[0]) - (size_t)off, "%02x", (unsigned)((i + base) & 0xff));
    return s;
}

/* ---- digests --------------------------------------------------------- */

static void test_digest_vectors(void **state)
{
    static const struct { unsigned alg; const char *hex; } v[] = {
        { ISCSI_CHAP_MD5, "c25bdf0ca955d57a736725540583b0c1" },
        { ISCSI_CHAP_SHA1, "b364d71d4a7956b63205efec9fd936bf5b0ff58b" },
        { ISCSI_CHAP_SHA256, "1d02189262fe0910625f34ea68b85ee92cfaf66adf00e17e78a6ec1bb90f2ad3" },
        { ISCSI_CHAP_SHA3_256,
          "9bfa326d6f84a57cc94579608e60c5802c65f88482d8b3ad93ebaa71c374021a" },
    };
    uint8_t challenge[16], out[ISCSI_CHAP_DIGEST_MAX];
    char hex[2 + 2 * ISCSI_CHAP_DIGEST_MAX + 1];
    (void)state;
    for (int i = 0; i < 16; i++)
        challenge[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        int n = iscsi_chap_digest(v[i].alg, ID, (const uint8_t *)INI_SECRET,
                                  strlen(INI_SECRET), challenge, sizeof(challenge), out);
        assert_int_equal(n, (int)strlen(v[i].hex) / 2);
        assert_int_equal(iscsi_binary_encode(out, (size_t)n, ISCSI_BINARY_HEX, hex, sizeof(hex)), 0);
        assert_string_equal(hex + 2, v[i].hex);
    }
    assert_int_equal(iscsi_chap_digest(4, ID, NULL, 0, challenge, 16, out), -1);
    assert_int_equal(iscsi_chap_digest(9, ID, NULL, 0, challenge, 16, out), -1);
}

/* ---- the exchange ---------------------------------------------------- */

static void test_owns_keys(void **state)
{
    static const char *const keys[] = { "CHAP_A", "CHAP_I", "CHAP_C", "CHAP_N", "CHAP_R" };
    (void)state;
    for (size_t i = 0; i < 5; i++) {
        struct iscsi_text_pair kv = { .key = keys[i], .key_len = 6, .value = "", .value_len = 0 };
        assert_true(iscsi_chap_owns_key(&kv));
    }
    struct iscsi_text_pair other = { .key = "CHAP_X", .key_len = 6, .value = "" };
    assert_false(iscsi_chap_owns_key(&other));
    struct iscsi_text_pair auth = { .key = "AuthMethod", .key_len = 10, .value = "" };
    assert_false(iscsi_chap_owns_key(&auth));
}

static void test_one_way_hex(void **state)
{
    (void)state;
    challenged();
    assert_string_equal(reply("CHAP_A"), "5");
    assert_string_equal(reply("CHAP_I"), "42");
    assert_string_equal(reply("CHAP_C"), "0x000102030405060708090a0b0c0d0e0f");
    assert_int_equal(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, NULL), ISCSI_CHAP_DONE);
    assert_int_equal(fx.reply.n, 0);
    assert_string_equal(iscsi_chap_name(fx.c), INI_NAME);
    assert_false(iscsi_chap_mutual(fx.c));
}

static void test_one_way_upper_hex_and_base64(void **state)
{
    (void)state;
    challenged();
    assert_int_equal(req("CHAP_N=" INI_NAME, "CHAP_R=0XC25BDF0CA955D57A736725540583B0C1", NULL),
                     ISCSI_CHAP_DONE);
    challenged();
    assert_int_equal(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R_B64, NULL), ISCSI_CHAP_DONE);
}

static void test_request_without_chap_keys_continues(void **state)
{
    (void)state;
    start();
    assert_int_equal(req("X-other=1", NULL), ISCSI_CHAP_CONTINUE);
    assert_int_equal(fx.reply.n, 0);
    assert_int_equal(req("CHAP_A=5", NULL), ISCSI_CHAP_CONTINUE);
    assert_string_equal(reply("CHAP_A"), "5");
}

static void test_algorithm_first_allowed_wins(void **state)
{
    (void)state;
    start();
    assert_int_equal(req("CHAP_A=7,5", NULL), ISCSI_CHAP_CONTINUE);
    assert_string_equal(reply("CHAP_A"), "7");
    assert_int_equal(strlen(reply("CHAP_C")), 2 + 64);       /* 32-byte challenge */
    start();
    assert_int_equal(req("CHAP_A=1,x,0x6,5", NULL), ISCSI_CHAP_CONTINUE);  /* unknowns skipped */
    assert_string_equal(reply("CHAP_A"), "6");
    assert_int_equal(strlen(reply("CHAP_C")), 2 + 40);       /* SHA-1: 20 bytes */
    start();
    assert_int_equal(req("CHAP_A=8", NULL), ISCSI_CHAP_CONTINUE);
    assert_string_equal(reply("CHAP_A"), "8");
    assert_int_equal(strlen(reply("CHAP_C")), 2 + 64);
}

static void test_algorithm_md5_disallowed(void **state)
{
    (void)state;
    fx.policy.chap_algorithms = ISCSI_CHAP_ALG_BIT(ISCSI_CHAP_SHA256);
    start();
    assert_int_equal(req("CHAP_A=5,7", NULL), ISCSI_CHAP_CONTINUE);
    assert_string_equal(reply("CHAP_A"), "7");
    start();
    assert_failed(req("CHAP_A=5", NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
    start();
    assert_failed(req("CHAP_A=6,8", NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
}

static void test_algorithm_list_malformed(void **state)
{
    static const char *const bad[] = { "CHAP_A=", "CHAP_A=5,,7", "CHAP_A=,5", "CHAP_A=9,", };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        start();
        assert_failed(req(bad[i], NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
    }
    start();
    assert_failed(req("CHAP_A=4,9,05,5x", NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);   /* none known */
}

static void test_sha256_exchange(void **state)
{
    uint8_t challenge[32], r[ISCSI_CHAP_DIGEST_MAX];
    char rv[128] = "CHAP_R=";
    (void)state;
    start();
    assert_int_equal(req("CHAP_A=7", NULL), ISCSI_CHAP_CONTINUE);
    for (int i = 0; i < 32; i++)
        challenge[i] = (uint8_t)i;
    assert_int_equal(iscsi_chap_digest(7, ID, (const uint8_t *)INI_SECRET, strlen(INI_SECRET),
                                       challenge, 32, r), 32);
    iscsi_binary_encode(r, 32, ISCSI_BINARY_BASE64, rv + 7, sizeof(rv) - 7);
    assert_int_equal(req("CHAP_N=" INI_NAME, rv, NULL), ISCSI_CHAP_DONE);
}

static void test_response_length(void **state)
{
    (void)state;
    challenged();       /* MD5: CHAP_R must be exactly 16 bytes */
    assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R "00", NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
    challenged();
    assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=0xc25bdf0ca955d57a736725540583b0", NULL),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
    challenged();
    assert_failed(req("CHAP_N=" INI_NAME, hex_value("CHAP_R", 1025, 0), NULL),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
}

static void test_wrong_response(void **state)
{
    (void)state;
    challenged();       /* right length, one bit off */
    assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=0xc25bdf0ca955d57a736725540583b0c0", NULL),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
    assert_string_equal(fx.failed_why, "CHAP_R wrong");
}

static void test_malformed_response(void **state)
{
    static const char *const bad[] = {
        "CHAP_R=", "CHAP_R=0x", "CHAP_R=c25bdf0ca955d57a736725540583b0c1",
        "CHAP_R=0xc25bdf0ca955d57a736725540583b0c", "CHAP_R=0xc25bdf0ca955d57a736725540583b0cg",
        "CHAP_R=0bwlvfDKlV1XpzZyVUBYOwwQ=", "CHAP_R=0bwlvfDKlV1XpzZyVUBYOwwR",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        challenged();
        assert_failed(req("CHAP_N=" INI_NAME, bad[i], NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
    }
}

static void test_constant_time_compare_used(void **state)
{
    (void)state;
    challenged();
    memcmp_calls = 0;
    assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=0x00000000000000000000000000000000", NULL),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
    assert_true(memcmp_calls >= 1);
    challenged();
    memcmp_calls = 0;
    assert_int_equal(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, NULL), ISCSI_CHAP_DONE);
    assert_true(memcmp_calls >= 1);
}

static void test_unknown_name(void **state)
{
    (void)state;
    challenged();
    assert_failed(req("CHAP_N=mallory", "CHAP_R=" MD5_R, NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
    assert_string_equal(fx.failed_why, "CHAP_N is not a known account");
    challenged();
    assert_failed(req("CHAP_N=", "CHAP_R=" MD5_R, NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
    char longname[300] = "CHAP_N=";
    memset(longname + 7, 'a', 256);
    challenged();
    assert_failed(req(longname, "CHAP_R=" MD5_R, NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
}

static void test_missing_keys(void **state)
{
    (void)state;
    challenged();
    assert_failed(req("CHAP_N=" INI_NAME, NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
    challenged();
    assert_failed(req("CHAP_R=" MD5_R, NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
    challenged();
    assert_failed(req("X-nothing=1", NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
    challenged();
    assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, "CHAP_I=1", NULL),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
    challenged();
    assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, hex_value("CHAP_C", 16, 100), NULL),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
}

static void test_keys_out_of_order(void **state)
{
    (void)state;
    start();
    assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
    start();
    assert_failed(req("CHAP_A=5", "CHAP_I=1", NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
    challenged();
    assert_failed(req("CHAP_A=5", NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);     /* sent twice */
    challenged();
    assert_int_equal(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, NULL), ISCSI_CHAP_DONE);
    assert_int_equal(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, NULL), ISCSI_CHAP_FAIL);
}

static void test_identifier_range(void **state)
{
    static const char *const bad[] = {
        "CHAP_I=-1", "CHAP_I=256", "CHAP_I=1x", "CHAP_I=x1", "CHAP_I=", "CHAP_I=007",
        "CHAP_I=18446744073709551616", "CHAP_I=99999999999999999999999", "CHAP_I=0x100",
        "CHAP_I= 1", "CHAP_I=1 ",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        challenged();
        assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, bad[i],
                          hex_value("CHAP_C", 16, 100), NULL),
                      ISCSI_LOGIN_ERR_AUTH_FAILED);
    }
    challenged();
    assert_int_equal(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, "CHAP_I=255",
                         hex_value("CHAP_C", 16, 100), NULL), ISCSI_CHAP_DONE);
    challenged();
    assert_int_equal(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, "CHAP_I=0xff",
                         hex_value("CHAP_C", 16, 100), NULL), ISCSI_CHAP_DONE);
}

/* The target's mutual answer, computed here from the same inputs. */
static void expect_mutual(uint8_t id, size_t clen, unsigned base, enum iscsi_binary_encoding enc)
{
    uint8_t c[ISCSI_CHAP_BINARY_MAX], r[ISCSI_CHAP_DIGEST_MAX];
    char s[128];
    for (size_t i = 0; i < clen; i++)
        c[i] = (uint8_t)((i + base) & 0xff);
    assert_int_equal(iscsi_chap_digest(5, id, (const uint8_t *)TGT_SECRET, strlen(TGT_SECRET),
                                       c, clen, r), 16);
    iscsi_binary_encode(r, 16, enc, s, sizeof(s));
    assert_string_equal(reply("CHAP_N"), TGT_NAME);
    assert_string_equal(reply("CHAP_R"), s);
    assert_true(iscsi_chap_mutual(fx.c));
}

static void test_mutual(void **state)
{
    (void)state;
    challenged();
    assert_int_equal(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, "CHAP_I=7",
                         hex_value("CHAP_C", 16, 100), NULL), ISCSI_CHAP_DONE);
    expect_mutual(7, 16, 100, ISCSI_BINARY_HEX);
    /* the answer uses the encoding of the initiator's CHAP_C */
    challenged();
    assert_int_equal(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, "CHAP_I=0",
                         "CHAP_C=0bEBESExQVFhcYGRobHB0eHw==", NULL), ISCSI_CHAP_DONE);
    expect_mutual(0, 16, 16, ISCSI_BINARY_BASE64);
}

static void test_mutual_challenge_length(void **state)
{
    (void)state;
    challenged();
    assert_int_equal(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, "CHAP_I=9",
                         hex_value("CHAP_C", 1024, 3), NULL), ISCSI_CHAP_DONE);
    expect_mutual(9, 1024, 3, ISCSI_BINARY_HEX);
    challenged();
    assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, "CHAP_I=9",
                      hex_value("CHAP_C", 1025, 3), NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
    challenged();
    assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, "CHAP_I=9", "CHAP_C=0x", NULL),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
}

static void test_mutual_without_target_account(void **state)
{
    (void)state;
    fx.acc.target_account = false;
    challenged();
    assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, "CHAP_I=7",
                      hex_value("CHAP_C", 16, 100), NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
    assert_string_equal(fx.failed_why, "mutual CHAP asked but the target has no CHAP account");
    /* one-way still works without one */
    challenged();
    assert_int_equal(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, NULL), ISCSI_CHAP_DONE);
}

static void test_mutual_wrong_initiator_response_first(void **state)
{
    (void)state;
    challenged();
    assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=0x00000000000000000000000000000000",
                      "CHAP_I=7", hex_value("CHAP_C", 16, 100), NULL),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
    assert_string_equal(fx.failed_why, "CHAP_R wrong");
}

static void test_reflection(void **state)
{
    (void)state;
    challenged();       /* our challenge was 00 01 .. 0f */
    assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, "CHAP_I=42",
                      "CHAP_C=0x000102030405060708090a0b0c0d0e0f", NULL),
                  ISCSI_LOGIN_ERR_AUTH_FAILED);
    assert_string_equal(fx.failed_why, "CHAP_C reflects the target's challenge");
    challenged();       /* the same bytes in base64 */
    assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, "CHAP_I=1",
                      "CHAP_C=0bAAECAwQFBgcICQoLDA0ODw", NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
    assert_string_equal(fx.failed_why, "CHAP_C reflects the target's challenge");
}

static void test_same_secret_both_ways(void **state)
{
    (void)state;
    fx.acc.target_secret = INI_SECRET;
    challenged();
    assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, "CHAP_I=7",
                      hex_value("CHAP_C", 16, 100), NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
    assert_string_equal(fx.failed_why, "initiator and target CHAP secrets are the same");
}

static void test_no_random(void **state)
{
    (void)state;
    fx.acc.random_fails = true;
    start();
    assert_failed(req("CHAP_A=5", NULL), ISCSI_LOGIN_ERR_TARGET);
}

static void test_default_random(void **state)
{
    (void)state;
    struct iscsi_login_hooks h = { .initiator_secret = initiator_secret };
    iscsi_chap_free(fx.c);
    fx.c = iscsi_chap_new(&fx.policy, &h);
    assert_int_equal(req("CHAP_A=5", NULL), ISCSI_CHAP_CONTINUE);
    assert_int_equal(strlen(reply("CHAP_C")), 2 + 32);
    assert_null(strstr(reply("CHAP_C"), "000102030405"));
}

static void test_no_secret_hooks(void **state)
{
    (void)state;
    struct iscsi_login_hooks h = { .ctx = &fx.acc, .random = test_random };
    iscsi_chap_free(fx.c);
    fx.c = iscsi_chap_new(&fx.policy, &h);
    assert_int_equal(req("CHAP_A=5", NULL), ISCSI_CHAP_CONTINUE);
    assert_failed(req("CHAP_N=" INI_NAME, "CHAP_R=" MD5_R, NULL), ISCSI_LOGIN_ERR_AUTH_FAILED);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_digest_vectors),
        T(test_owns_keys),
        T(test_one_way_hex),
        T(test_one_way_upper_hex_and_base64),
        T(test_request_without_chap_keys_continues),
        T(test_algorithm_first_allowed_wins),
        T(test_algorithm_md5_disallowed),
        T(test_algorithm_list_malformed),
        T(test_sha256_exchange),
        T(test_response_length),
        T(test_wrong_response),
        T(test_malformed_response),
        T(test_constant_time_compare_used),
        T(test_unknown_name),
        T(test_missing_keys),
        T(test_keys_out_of_order),
        T(test_identifier_range),
        T(test_mutual),
        T(test_mutual_challenge_length),
        T(test_mutual_without_target_account),
        T(test_mutual_wrong_initiator_response_first),
        T(test_reflection),
        T(test_same_secret_both_ways),
        T(test_no_random),
        T(test_default_random),
        T(test_no_secret_hooks),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
