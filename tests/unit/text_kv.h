/* Text-key requests for the unit tests (cmocka): "key=value" strings joined
 * with NULs, as RFC 7143 6.1 puts them in a data segment. */
#ifndef ISP_TEXT_KV_H
#define ISP_TEXT_KV_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

/* first and the strings in ap up to a NULL, into buf; returns the length. */
static inline size_t join_kv(uint8_t *buf, size_t cap, const char *first, va_list ap)
{
    size_t n = 0;

    for (const char *s = first; s; s = va_arg(ap, const char *)) {
        size_t l = strlen(s) + 1;
        assert_true(n + l <= cap);
        memcpy(buf + n, s, l);
        n += l;
    }
    return n;
}

#endif
