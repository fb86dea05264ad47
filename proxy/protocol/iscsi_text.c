/*
 * iSCSI text parser and builder (RFC 7143 section 6.1).  Every length from
 * the wire is checked against the buffer and the 6.1 limits; pairs are
 * indexed in place, never copied.
 */
#include "iscsi_text.h"

#include <stdio.h>
#include <string.h>

/* RFC 7143 6.1: key names are letters, digits, '.', '-', '+', '@', '_'
 * (and '#' in the "X#" extension prefix, 13.22); we also require a letter
 * first (every standard key and X-/X# key starts with one). */
static bool key_char_ok(unsigned char c, bool first)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
        return true;
    if (first)
        return false;
    return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == '@' ||
           c == '_' || c == '#';
}

static bool only_nuls(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

/* Validate one complete pair [p, p + n) (n excludes the NUL). */
static enum iscsi_text_err parse_pair(const uint8_t *p, size_t n, struct iscsi_text_pair *out)
{
    const uint8_t *eq = memchr(p, '=', n);

    if (n == 0)
        return ISCSI_TEXT_EMPTY_KEY;
    if (!eq)
        return ISCSI_TEXT_NO_EQUALS;
    size_t key_len = (size_t)(eq - p);
    if (key_len == 0)
        return ISCSI_TEXT_EMPTY_KEY;
    if (key_len > ISCSI_TEXT_KEY_MAX)
        return ISCSI_TEXT_KEY_TOO_LONG;
    for (size_t i = 0; i < key_len; i++)
        if (!key_char_ok(p[i], i == 0))
            return ISCSI_TEXT_BAD_KEY_CHAR;
    size_t value_len = n - key_len - 1;
    if (value_len > ISCSI_TEXT_VALUE_MAX)
        return ISCSI_TEXT_VALUE_TOO_LONG;
    out->key = (const char *)p;
    out->key_len = key_len;
    out->value = (const char *)eq + 1;
    out->value_len = value_len;
    return ISCSI_TEXT_OK;
}

static bool same_key(const struct iscsi_text_pair *a, const struct iscsi_text_pair *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

enum iscsi_text_err iscsi_text_parse(const uint8_t *buf, size_t len, bool partial_ok,
                                     struct iscsi_text_pairs *out, size_t *consumed)
{
    size_t off = 0;

    out->n = 0;
    if (consumed)
        *consumed = 0;
    if (!buf)
        len = 0;
    while (off < len) {
        const uint8_t *start = buf + off;
        size_t left = len - off;

        if (only_nuls(start, left)) {   /* trailing padding */
            off = len;
            break;
        }
        const uint8_t *nul = memchr(start, '\0', left);
        if (!nul) {
            /* A pair cut by the end of the segment (C bit, RFC 7143 11.10.2 /
             * 11.12.2): only the caller knows whether more is coming. */
            if (!partial_ok)
                return ISCSI_TEXT_UNTERMINATED;
            if (left > ISCSI_TEXT_KEY_MAX + 1 + ISCSI_TEXT_VALUE_MAX)
                return ISCSI_TEXT_VALUE_TOO_LONG;
            break;
        }
        if (out->n == ISCSI_TEXT_PAIRS_MAX)
            return ISCSI_TEXT_TOO_MANY;
        struct iscsi_text_pair *pr = &out->pair[out->n];
        enum iscsi_text_err e = parse_pair(start, (size_t)(nul - start), pr);
        if (e != ISCSI_TEXT_OK)
            return e;
        for (size_t i = 0; i < out->n; i++)
            if (same_key(&out->pair[i], pr))
                return ISCSI_TEXT_DUPLICATE;
        out->n++;
        off += (size_t)(nul - start) + 1;
    }
    if (consumed)
        *consumed = off;
    return ISCSI_TEXT_OK;
}

const char *iscsi_text_strerror(enum iscsi_text_err err)
{
    switch (err) {
    case ISCSI_TEXT_OK:             return "ok";
    case ISCSI_TEXT_NO_EQUALS:      return "key=value pair without '='";
    case ISCSI_TEXT_EMPTY_KEY:      return "empty key";
    case ISCSI_TEXT_KEY_TOO_LONG:   return "key longer than 63 bytes";
    case ISCSI_TEXT_BAD_KEY_CHAR:   return "invalid character in key";
    case ISCSI_TEXT_VALUE_TOO_LONG: return "value too long";
    case ISCSI_TEXT_UNTERMINATED:   return "last key=value pair not NUL-terminated";
    case ISCSI_TEXT_TOO_MANY:       return "too many key=value pairs";
    case ISCSI_TEXT_DUPLICATE:      return "key sent twice";
    }
    return "unknown text error";
}

bool iscsi_text_key_is(const struct iscsi_text_pair *p, const char *name)
{
    size_t n = strlen(name);
    return p->key_len == n && memcmp(p->key, name, n) == 0;
}

const struct iscsi_text_pair *iscsi_text_find(const struct iscsi_text_pairs *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (iscsi_text_key_is(&t->pair[i], name))
            return &t->pair[i];
    return NULL;
}

void iscsi_text_builder_init(struct iscsi_text_builder *b, uint8_t *buf, size_t cap)
{
    b->buf = buf;
    b->cap = buf ? cap : 0;
    b->len = 0;
    b->overflow = false;
}

int iscsi_text_add_n(struct iscsi_text_builder *b, const char *key, size_t key_len,
                     const char *value)
{
    size_t value_len = strlen(value);

    if (b->overflow)
        return -1;
    /* key '=' value NUL, checked without overflowing size_t */
    if (key_len > b->cap - b->len || value_len > b->cap - b->len - key_len ||
        b->cap - b->len - key_len - value_len < 2) {
        b->overflow = true;
        return -1;
    }
    uint8_t *p = b->buf + b->len;
    memcpy(p, key, key_len);
    p[key_len] = '=';
    memcpy(p + key_len + 1, value, value_len);
    p[key_len + 1 + value_len] = '\0';
    b->len += key_len + value_len + 2;
    return 0;
}

int iscsi_text_add(struct iscsi_text_builder *b, const char *key, const char *value)
{
    return iscsi_text_add_n(b, key, strlen(key), value);
}

int iscsi_text_add_u32(struct iscsi_text_builder *b, const char *key, uint32_t value)
{
    char num[16];

    snprintf(num, sizeof(num), "%lu", (unsigned long)value);
    return iscsi_text_add(b, key, num);
}

/* ---- binary-value (6.1) ---------------------------------------------- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_digit(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static int hex_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    if (len == 0 || len % 2 != 0 || len / 2 > cap)
        return -1;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = len / 2;
    return 0;
}

/* RFC 4648 section 4 base64; n digits carry n * 6 / 8 whole bytes. */
static int b64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t pad = 0;

    while (pad < len && s[len - 1 - pad] == '=')
        pad++;
    size_t n = len - pad;
    /* 1 digit past a quantum carries no whole byte; padding, when sent,
     * fills the last quantum exactly (one '=' after 3 digits, two after 2) */
    if (n == 0 || n % 4 == 1 || pad > 2 || (pad && (len % 4 != 0 || n % 4 != 4 - pad)))
        return -1;
    if (n * 3 / 4 > cap)
        return -1;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int d = b64_digit(s[i]);
        if (d < 0)
            return -1;
        acc = (acc << 6 | (uint32_t)d) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (acc & ((1u << bits) - 1))       /* non-zero unused bits: not canonical */
        return -1;
    *out_len = o;
    return 0;
}

int iscsi_binary_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len,
                        enum iscsi_binary_encoding *enc)
{
    if (len < 2 || s[0] != '0')
        return -1;
    if (s[1] == 'x' || s[1] == 'X') {
        *enc = ISCSI_BINARY_HEX;
        return hex_decode(s + 2, len - 2, out, cap, out_len);
    }
    if (s[1] == 'b' || s[1] == 'B') {
        *enc = ISCSI_BINARY_BASE64;
        return b64_decode(s + 2, len - 2, out, cap, out_len);
    }
    return -1;
}

int iscsi_binary_encode(const uint8_t *in, size_t len, enum iscsi_binary_encoding enc,
                        char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t need = enc == ISCSI_BINARY_HEX ? 2 + len * 2 : 2 + (len + 2) / 3 * 4;

    if (len > cap / 2 || need >= cap)
        return -1;
    out[0] = '0';
    out[1] = enc == ISCSI_BINARY_HEX ? 'x' : 'b';
    char *p = out + 2;
    if (enc == ISCSI_BINARY_HEX) {
        for (size_t i = 0; i < len; i++) {
            *p++ = hex[in[i] >> 4];
            *p++ = hex[in[i] & 15];
        }
    } else {
        for (size_t i = 0; i < len; i += 3) {
            size_t left = len - i;
            uint32_t v = (uint32_t)in[i] << 16 | (left > 1 ? (uint32_t)in[i + 1] << 8 : 0) |
                         (left > 2 ? in[i + 2] : 0);
            *p++ = b64_alphabet[v >> 18 & 63];
            *p++ = b64_alphabet[v >> 12 & 63];
            *p++ = left > 1 ? b64_alphabet[v >> 6 & 63] : '=';
            *p++ = left > 2 ? b64_alphabet[v & 63] : '=';
        }
    }
    *p = '\0';
    return 0;
}
