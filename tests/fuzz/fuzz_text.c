/*
 * libFuzzer target for the text parser (RFC 7143 6.1) and the Full Feature
 * Phase Text answer (13.3, Appendix C), and the binary-value codec (6.1).
 * Byte 0 picks the mode: 0x01 discovery session, 0x02 small output buffer;
 * the rest is the text, and also read as one binary-value.
 * Properties: no crash, every answer we build parses again, and a
 * binary-value decodes only from its canonical form: encoding it again
 * gives the input back, up to the case of hex and optional base64 padding.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "iscsi_discovery.h"
#include "iscsi_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const targets[] = {
    "iqn.2024-01.org.example:disk1", "iqn.2024-01.org.example:disk2",
};
static const struct iscsi_portal portals[] = {
    { .address = "192.0.2.1:3260", .tpgt = 1 },
    { .address = "[2001:db8::1]:3260", .tpgt = 2 },
};

static void check_binary(const char *s, size_t len)
{
    static uint8_t bin[1024];
    static char again[2 + 2 * sizeof(bin) + 1];
    size_t n;
    enum iscsi_binary_encoding enc;

    if (iscsi_binary_decode(s, len, bin, sizeof(bin), &n, &enc) < 0)
        return;
    if (n == 0 || iscsi_binary_encode(bin, n, enc, again, sizeof(again)) < 0)
        abort();
    size_t alen = strlen(again);
    if (enc == ISCSI_BINARY_HEX) {
        if (alen != len || strncasecmp(again, s, len) != 0)
            abort();
        return;
    }
    /* base64: the same prefix letter and digits, then no padding or all of it */
    size_t digits = strcspn(again, "=");
    if (len < digits || (s[1] != 'b' && s[1] != 'B') ||
        memcmp(again + 2, s + 2, digits - 2) != 0)
        abort();
    if (len != digits && (len != alen || memcmp(s + digits, again + digits, alen - digits) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[8192];
    struct iscsi_text_pairs t;
    size_t used, out_len;

    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    size_t len = size - 1;
    uint8_t *text = len ? malloc(len) : NULL;   /* exact size: ASan catches overreads */
    if (len && !text)
        return 0;
    if (len)
        memcpy(text, data + 1, len);

    if (iscsi_text_parse(text, len, true, &t, &used) == ISCSI_TEXT_OK && used > len)
        abort();
    (void)iscsi_text_parse(text, len, false, &t, NULL);
    check_binary((const char *)text, len);

    struct iscsi_discovery_ctx ctx = {
        .targets = targets, .n_targets = 2, .portals = portals, .n_portals = 2,
        .discovery_session = mode & 1, .session_target = "iqn.2024-01.org.example:disk2",
    };
    size_t cap = (mode & 2) ? 64 : sizeof(out);
    if (iscsi_text_answer(&ctx, text, len, out, cap, &out_len) == 0) {
        if (out_len > cap)
            abort();
        if (out_len && iscsi_text_parse(out, out_len, false, &t, NULL) != ISCSI_TEXT_OK &&
            iscsi_text_parse(out, out_len, false, &t, NULL) != ISCSI_TEXT_DUPLICATE &&
            iscsi_text_parse(out, out_len, false, &t, NULL) != ISCSI_TEXT_TOO_MANY)
            abort();
    }
    free(text);
    return 0;
}
