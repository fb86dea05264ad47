/*
 * libFuzzer target for target-side CHAP (RFC 7143 12.1.3, RFC 1994).  Input:
 *   [0] configuration: bits 0-3 allow CHAP_A 5..8, 0x10 the target has a
 *       mutual account, 0x20 whose secret is the initiator's, 0x40 no
 *       random bytes, 0x80 no initiator accounts
 *   [1] seed of the deterministic random hook
 *   then requests, each [flags][length lo][length hi][text]:
 *       0x01 append CHAP_N=alice and the right CHAP_R for the last
 *            challenge (computed here with EVP), 0x02 base64 instead of
 *            hex, 0x04 unpadded base64, 0x08 one bit of it flipped,
 *       0x10 append CHAP_I / CHAP_C (mutual), 0x20 that CHAP_C is the
 *            target's own challenge (reflection)
 * Properties: no crash or leak; answers parse; the challenge is as long as
 * the digest (16 at least) in an allowed algorithm; success only for the
 * account "alice" with a canonical encoding of the right response, never
 * with a reflected challenge or a shared secret; a mutual answer is the
 * right one; nothing after the exchange ends.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#include <openssl/evp.h>

#include "fuzz_check.h"
#include "iscsi_chap.h"
#include "iscsi_text.h"

#define ISECRET "s3cr3t-p4ssw0rd"
#define TSECRET "t4rget-s3cret-99"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
    uint8_t cfg;
    uint32_t rng;
    /* the target's last challenge, read back from its answer */
    bool challenged;
    unsigned alg;
    uint8_t id;
    uint8_t chal[ISCSI_CHAP_DIGEST_MAX];
    size_t chal_len;
};

static int fuzz_random(void *ctx, uint8_t *buf, size_t len)
{
    struct run *r = ctx;
    if (r->cfg & 0x40)
        return -1;
    for (size_t i = 0; i < len; i++) {
        r->rng ^= r->rng << 13;
        r->rng ^= r->rng >> 17;
        r->rng ^= r->rng << 5;
        buf[i] = (uint8_t)r->rng;
    }
    return 0;
}

static int initiator_secret(void *ctx, const char *name, uint8_t *buf, size_t *len)
{
    const struct run *r = ctx;
    if ((r->cfg & 0x80) || strcmp(name, "alice") != 0 || *len < sizeof(ISECRET) - 1)
        return -1;
    *len = sizeof(ISECRET) - 1;
    memcpy(buf, ISECRET, *len);
    return 0;
}

static int target_secret(void *ctx, char *name, size_t name_len, uint8_t *buf, size_t *len)
{
    const struct run *r = ctx;
    const char *s = (r->cfg & 0x20) ? ISECRET : TSECRET;
    if (!(r->cfg & 0x10) || *len < strlen(s))
        return -1;
    snprintf(name, name_len, "proxy");
    *len = strlen(s);
    memcpy(buf, s, *len);
    return 0;
}

/* Independent of iscsi_chap.c: EVP directly, RFC 1994 4.1. */
static size_t expected(unsigned alg, uint8_t id, const char *secret, const uint8_t *c,
                       size_t clen, uint8_t *out)
{
    const EVP_MD *md = alg == 5 ? EVP_md5() : alg == 6 ? EVP_sha1()
                     : alg == 7 ? EVP_sha256() : EVP_sha3_256();
    unsigned int n = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    CHECK(ctx);
    CHECK(EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, &id, 1) &&
          EVP_DigestUpdate(ctx, secret, strlen(secret)) && EVP_DigestUpdate(ctx, c, clen) &&
          EVP_DigestFinal_ex(ctx, out, &n));
    EVP_MD_CTX_free(ctx);
    return n;
}

static void hex_of(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void b64_of(const uint8_t *b, size_t n, bool pad, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, b, (int)n);
    if (!pad)
        out[strcspn(out, "=")] = '\0';
}

/* Is v one of the canonical encodings of b: hex in either case, or base64
 * with or without its padding? */
static bool encodes(const char *v, const uint8_t *b, size_t n)
{
    char enc[2 * ISCSI_CHAP_DIGEST_MAX + 8];

    if (v[0] != '0')
        return false;
    if (v[1] == 'x' || v[1] == 'X') {
        hex_of(b, n, enc);
        return strcasecmp(v + 2, enc) == 0;
    }
    if (v[1] != 'b' && v[1] != 'B')
        return false;
    b64_of(b, n, true, enc);
    if (strcmp(v + 2, enc) == 0)
        return true;
    b64_of(b, n, false, enc);
    return strcmp(v + 2, enc) == 0;
}

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s) / 2;
    CHECK(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        CHECK(sscanf(s + 2 * i, "%2x", &v) == 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

/* The target's step-2 answer: remember its challenge, check its shape. */
static void read_challenge(struct run *r, const struct iscsi_text_pairs *ans)
{
    const struct iscsi_text_pair *a = iscsi_text_find(ans, "CHAP_A");
    const struct iscsi_text_pair *i = iscsi_text_find(ans, "CHAP_I");
    const struct iscsi_text_pair *c = iscsi_text_find(ans, "CHAP_C");
    uint8_t d[ISCSI_CHAP_DIGEST_MAX];

    if (!a) {
        CHECK(!i && !c);
        return;
    }
    CHECK(i && c && !r->challenged);
    r->alg = (unsigned)(a->value[0] - '0');
    CHECK(a->value_len == 1 && r->alg >= 5 && r->alg <= 8);
    CHECK(r->cfg & (1u << (r->alg - 5)));
    r->id = (uint8_t)strtoul(i->value, NULL, 10);
    CHECK(strncmp(c->value, "0x", 2) == 0);
    r->chal_len = unhex(c->value + 2, r->chal, sizeof(r->chal));
    size_t dlen = expected(r->alg, 0, "", NULL, 0, d);
    CHECK(r->chal_len == (dlen > 16 ? dlen : 16));
    r->challenged = true;
}

/* Success: only alice, only the right response, mutual answered right. */
static void check_success(const struct run *r, const struct iscsi_text_pairs *req,
                          const struct iscsi_text_pairs *ans, const struct iscsi_chap *c)
{
    const struct iscsi_text_pair *n = iscsi_text_find(req, "CHAP_N");
    const struct iscsi_text_pair *rr = iscsi_text_find(req, "CHAP_R");
    const struct iscsi_text_pair *ci = iscsi_text_find(req, "CHAP_I");
    const struct iscsi_text_pair *cc = iscsi_text_find(req, "CHAP_C");
    uint8_t want[ISCSI_CHAP_DIGEST_MAX];

    CHECK(r->challenged && n && rr && !(r->cfg & 0x80));
    CHECK(strcmp(n->value, "alice") == 0 && strcmp(iscsi_chap_name(c), "alice") == 0);
    size_t wl = expected(r->alg, r->id, ISECRET, r->chal, r->chal_len, want);
    CHECK(encodes(rr->value, want, wl));
    CHECK(iscsi_chap_mutual(c) == (cc != NULL));
    if (!cc) {
        CHECK(ans->n == 0);
        return;
    }
    CHECK(ci && (r->cfg & 0x10) && !(r->cfg & 0x20));
    uint8_t ch[ISCSI_CHAP_BINARY_MAX], got[ISCSI_CHAP_BINARY_MAX];
    size_t chl, gotl;
    enum iscsi_binary_encoding ce, ge;
    CHECK(iscsi_binary_decode(cc->value, cc->value_len, ch, sizeof(ch), &chl, &ce) == 0);
    CHECK(!(chl == r->chal_len && memcmp(ch, r->chal, chl) == 0));
    const struct iscsi_text_pair *tn = iscsi_text_find(ans, "CHAP_N");
    const struct iscsi_text_pair *tr = iscsi_text_find(ans, "CHAP_R");
    CHECK(tn && tr && strcmp(tn->value, "proxy") == 0);
    CHECK(iscsi_binary_decode(tr->value, tr->value_len, got, sizeof(got), &gotl, &ge) == 0);
    CHECK(ge == ce);
    wl = expected(r->alg, (uint8_t)strtoul(ci->value, NULL, 0), TSECRET, ch, chl, want);
    CHECK(gotl == wl && memcmp(got, want, wl) == 0);
}

/* "key=0x..." or "key=0b..." for the bytes b, as flags f ask. */
static void encode_kv(char *out, size_t cap, const char *key, const uint8_t *b, size_t n,
                      uint8_t f)
{
    int o = snprintf(out, cap, "%s=0%c", key, (f & 0x02) ? 'b' : 'x');
    if (f & 0x02)
        b64_of(b, n, !(f & 0x04), out + o);
    else
        hex_of(b, n, out + o);
}

/* Append the keys flags f ask for to text (len bytes used of cap). */
static size_t append(const struct run *r, uint8_t f, uint8_t *text, size_t len, size_t cap)
{
    uint8_t resp[ISCSI_CHAP_DIGEST_MAX], ch[ISCSI_CHAP_DIGEST_MAX];
    char kv[4][2 * ISCSI_CHAP_DIGEST_MAX + 16];
    int nkv = 0;

    if ((f & 0x01) && r->challenged) {
        size_t n = expected(r->alg, r->id, ISECRET, r->chal, r->chal_len, resp);
        if (f & 0x08)
            resp[n / 2] ^= 0x10;
        snprintf(kv[nkv++], sizeof(kv[0]), "CHAP_N=alice");
        encode_kv(kv[nkv++], sizeof(kv[0]), "CHAP_R", resp, n, f);
    }
    if (f & 0x10) {
        size_t n = r->challenged ? r->chal_len : 16;
        for (size_t i = 0; i < n; i++)
            ch[i] = (f & 0x20) && r->challenged ? r->chal[i] : (uint8_t)(i * 7 + f);
        snprintf(kv[nkv++], sizeof(kv[0]), "CHAP_I=%u", (unsigned)f);
        encode_kv(kv[nkv++], sizeof(kv[0]), "CHAP_C", ch, n, f);
    }
    for (int i = 0; i < nkv; i++) {
        size_t l = strlen(kv[i]) + 1;
        if (l > cap - len)
            break;
        memcpy(text + len, kv[i], l);
        len += l;
    }
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t text[16384];
    uint8_t out[8192];
    struct iscsi_text_pairs req, ans;
    struct iscsi_text_builder b;

    if (size < 2)
        return 0;
    struct run r = { .cfg = data[0], .rng = 0x9e3779b9u ^ data[1] };
    struct iscsi_auth_policy policy = { .chap_allowed = true,
                                        .chap_algorithms = (unsigned)(data[0] & 0x0f) << 5 };
    struct iscsi_login_hooks hooks = { .ctx = &r, .initiator_secret = initiator_secret,
                                       .target_secret = target_secret, .random = fuzz_random };
    struct iscsi_chap *c = iscsi_chap_new(&policy, &hooks);
    bool over = false;

    if (!c)
        return 0;
    for (size_t off = 2; size - off >= 3;) {
        uint8_t f = data[off];
        size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
        off += 3;
        if (len > size - off)
            len = size - off;
        if (len > sizeof(text) / 2)
            len = sizeof(text) / 2;
        memcpy(text, data + off, len);
        off += len;
        len = append(&r, f, text, len, sizeof(text));
        if (iscsi_text_parse(text, len, false, &req, NULL) != ISCSI_TEXT_OK)
            continue;
        uint16_t status = 0;
        const char *why = NULL;
        iscsi_text_builder_init(&b, out, sizeof(out));
        enum iscsi_chap_status st = iscsi_chap_step(c, &req, &b, &status, &why);
        CHECK(!b.overflow);
        CHECK(iscsi_text_parse(out, b.len, false, &ans, NULL) == ISCSI_TEXT_OK);
        if (over) {     /* ended: every later step fails */
            CHECK(st == ISCSI_CHAP_FAIL);
            continue;
        }
        switch (st) {
        case ISCSI_CHAP_CONTINUE:
            read_challenge(&r, &ans);
            break;
        case ISCSI_CHAP_DONE:
            check_success(&r, &req, &ans, c);
            over = true;
            break;
        case ISCSI_CHAP_FAIL:
            CHECK(why && (status == 0x0201 || status == 0x0300) && b.len == 0);
            over = true;
            break;
        }
    }
    iscsi_chap_free(c);
    return 0;
}
