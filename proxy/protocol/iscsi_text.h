/*
 * iSCSI text format (RFC 7143 section 6.1): the data segment of Login and
 * Text PDUs is a sequence of "key=value\0" pairs.  A bounded parser that
 * indexes the pairs in place (no copies, no allocation) and a bounded
 * builder for response text that fails instead of growing.  Pure code.
 */
#ifndef ISP_ISCSI_TEXT_H
#define ISP_ISCSI_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Binary values (6.1, "0x" hex and "0b" base64): binary_value.h. */
#include "binary_value.h"

#define ISCSI_TEXT_KEY_MAX    63     /* RFC 7143 6.1: key names at most 63 bytes */
#define ISCSI_TEXT_VALUE_MAX  8192   /* largest value any key allows (6.1); keys check less */
#define ISCSI_TEXT_PAIRS_MAX  64     /* pairs per negotiation sequence we accept */

enum iscsi_text_err {
    ISCSI_TEXT_OK = 0,
    ISCSI_TEXT_NO_EQUALS,            /* a pair without '=' */
    ISCSI_TEXT_EMPTY_KEY,            /* "=value" or an empty pair in the middle */
    ISCSI_TEXT_KEY_TOO_LONG,
    ISCSI_TEXT_BAD_KEY_CHAR,         /* key outside the 6.1 character set */
    ISCSI_TEXT_VALUE_TOO_LONG,
    ISCSI_TEXT_UNTERMINATED,         /* last pair lacks its NUL */
    ISCSI_TEXT_TOO_MANY,
    ISCSI_TEXT_DUPLICATE,            /* the same key twice (6.1 / 6.2) */
};

/* One pair, pointing into the parsed buffer.  key is NOT NUL-terminated
 * (it ends at '='); value is, since every complete pair ends with NUL. */
struct iscsi_text_pair {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
};

struct iscsi_text_pairs {
    size_t n;
    struct iscsi_text_pair pair[ISCSI_TEXT_PAIRS_MAX];
};

/*
 * Parse len bytes of text.  Runs of NUL at the very end (padding some
 * initiators leave) are ignored; an empty pair anywhere else is an error.
 * A last pair without its NUL is ISCSI_TEXT_UNTERMINATED unless partial_ok,
 * in which case parsing stops before it and *consumed (optional) tells where
 * the partial pair starts, so a C-bit continuation can complete it.
 * Returns ISCSI_TEXT_OK or the first error found.
 */
enum iscsi_text_err iscsi_text_parse(const uint8_t *buf, size_t len, bool partial_ok,
                                     struct iscsi_text_pairs *out, size_t *consumed);

const char *iscsi_text_strerror(enum iscsi_text_err err);

/* Does the pair's key equal the NUL-terminated name? (case-sensitive, 6.1) */
bool iscsi_text_key_is(const struct iscsi_text_pair *p, const char *name);
/* First pair with that key, or NULL. */
const struct iscsi_text_pair *iscsi_text_find(const struct iscsi_text_pairs *t, const char *name);

/* Bounded response builder over a caller's buffer.  Once an append does not
 * fit, the builder stays failed (overflow) and its length stops growing. */
struct iscsi_text_builder {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool overflow;
};

void iscsi_text_builder_init(struct iscsi_text_builder *b, uint8_t *buf, size_t cap);
/* Append "key=value\0"; key of key_len bytes (need not be NUL-terminated).
 * Returns 0, or -1 if it does not fit (the buffer is left as it was). */
int iscsi_text_add_n(struct iscsi_text_builder *b, const char *key, size_t key_len,
                     const char *value);
int iscsi_text_add(struct iscsi_text_builder *b, const char *key, const char *value);
int iscsi_text_add_u32(struct iscsi_text_builder *b, const char *key, uint32_t value);

#endif
