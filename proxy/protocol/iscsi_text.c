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
