/* RFC 7143 6.1 binary values, hex and base64 (see binary_value.h). */
#include "binary_value.h"

#include <string.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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

static int b64_digit(char c)
{
    const char *p = memchr(b64_alphabet, c, 64);   /* not the NUL at [64] */
    return p ? (int)(p - b64_alphabet) : -1;
}

static int hex_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len,
                      const char **why)
{
    if (len == 0 || len % 2 != 0) {
        *why = len ? "0x value with an odd number of hex digits" : "no hex digits after 0x";
        return -1;
    }
    if (len / 2 > cap) {
        *why = "0x value longer than allowed";
        return -1;
    }
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0) {
            *why = "0x value with a character that is not a hex digit";
            return -1;
        }
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = len / 2;
    return 0;
}

/* RFC 4648 section 4 base64; n digits carry n * 6 / 8 whole bytes. */
static int b64_decode(const char *s, size_t len, unsigned flags, uint8_t *out, size_t cap,
                      size_t *out_len, const char **why)
{
    size_t pad = 0;

    if (len == 0) {
        *why = "no base64 digits after 0b";
        return -1;
    }
    if ((flags & BINARY_VALUE_PAD_REQUIRED) && len % 4 != 0) {
        *why = "0b value whose length is not a multiple of 4 (base64 with '=' padding)";
        return -1;
    }
    /* A third '=' is left among the digits, where it is refused. */
    while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
        pad++;
    size_t n = len - pad;
    /* 1 digit past a quantum carries no whole byte; padding, when sent,
     * fills the last quantum exactly (one '=' after 3 digits, two after 2) */
    if (n == 0 || n % 4 == 1 || (pad && (len % 4 != 0 || n % 4 != 4 - pad))) {
        *why = "0b value with a lone last digit or '=' that does not end a group of 4";
        return -1;
    }
    if (n * 3 / 4 > cap) {
        *why = "0b value longer than allowed";
        return -1;
    }
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int d = b64_digit(s[i]);
        if (d < 0) {
            *why = "0b value with a character outside the base64 alphabet or misplaced '='";
            return -1;
        }
        acc = (acc << 6 | (uint32_t)d) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    /* The bits of the last digit that no byte uses must be 0 (RFC 4648 3.5). */
    if (acc & ((1u << bits) - 1)) {
        *why = "0b value whose last digit has bits no byte uses";
        return -1;
    }
    *out_len = o;
    return 0;
}

bool binary_value_prefixed(const char *s, size_t len)
{
    return len >= 2 && s[0] == '0' &&
           (s[1] == 'x' || s[1] == 'X' || s[1] == 'b' || s[1] == 'B');
}

int binary_value_decode(const char *s, size_t len, unsigned flags, uint8_t *out, size_t cap,
                        size_t *out_len, enum iscsi_binary_encoding *enc, const char **why)
{
    if (!binary_value_prefixed(s, len)) {
        *why = "not a binary value (0x<hex> or 0b<base64>)";
        return -1;
    }
    if (s[1] == 'x' || s[1] == 'X') {
        *enc = ISCSI_BINARY_HEX;
        return hex_decode(s + 2, len - 2, out, cap, out_len, why);
    }
    *enc = ISCSI_BINARY_BASE64;
    return b64_decode(s + 2, len - 2, flags, out, cap, out_len, why);
}

int iscsi_binary_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len,
                        enum iscsi_binary_encoding *enc)
{
    const char *why;

    return binary_value_decode(s, len, 0, out, cap, out_len, enc, &why);
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
