/*
 * Binary values as RFC 7143 section 6.1 writes them: hex-constant ("0x" /
 * "0X") and base64-constant ("0b" / "0B", RFC 4648 alphabet).  The one codec
 * for CHAP values on the wire (iscsi_chap.c) and for the secrets of an
 * auth_file (conf/).  Pure code.
 */
#ifndef ISP_BINARY_VALUE_H
#define ISP_BINARY_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum iscsi_binary_encoding {
    ISCSI_BINARY_HEX,
    ISCSI_BINARY_BASE64,
};

/* binary_value_decode flag: base64 must come in whole groups of 4, padded
 * with '=' (6.1 makes the padding optional). */
#define BINARY_VALUE_PAD_REQUIRED 0x1u

/* Does s (len bytes) start with "0x", "0X", "0b" or "0B"? */
bool binary_value_prefixed(const char *s, size_t len);

/*
 * Decode a binary-value of len bytes (not NUL-terminated, prefix included)
 * into out, at most cap bytes.  Returns 0 with *out_len and *enc set, or -1
 * with *why (a static string naming the rule, never the value) when the
 * value is empty, malformed or decodes to more than cap bytes.  Stricter
 * than 6.1 in two places, both of which only refuse forms no encoder of a
 * binary string produces: an odd number of hex digits (6.1 would read a
 * leading zero nibble), and base64 whose unused trailing bits are not zero.
 * Base64 pad characters are optional unless flags has
 * BINARY_VALUE_PAD_REQUIRED, but when present they must complete the last
 * quantum.
 */
int binary_value_decode(const char *s, size_t len, unsigned flags, uint8_t *out, size_t cap,
                        size_t *out_len, enum iscsi_binary_encoding *enc, const char **why);

/* binary_value_decode as 6.1 has it (padding optional), without the reason. */
int iscsi_binary_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *out_len,
                        enum iscsi_binary_encoding *enc);

/* Encode len bytes as a NUL-terminated binary-value ("0x" lowercase hex, or
 * "0b" padded base64) into out.  Returns 0, or -1 if it does not fit cap. */
int iscsi_binary_encode(const uint8_t *in, size_t len, enum iscsi_binary_encoding enc,
                        char *out, size_t cap);

#endif
