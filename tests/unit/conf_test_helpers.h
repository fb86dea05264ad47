/* Helpers the configuration unit tests share (cmocka). */
#ifndef ISP_CONF_TEST_HELPERS_H
#define ISP_CONF_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "conf.h"

/* text loads (file name t.conf); fails the test with the error otherwise. */
static inline struct conf *load_ok(const char *text)
{
    struct conf *c = NULL;
    char err[512] = "";
    if (conf_load_string(text, "t.conf", &c, err, sizeof(err)) != 0)
        fail_msg("unexpected error: %s\n--- input:\n%s", err, text);
    assert_non_null(c);
    return c;
}

/* What conf_print writes, in a malloc'd string. */
static inline char *print_to_string(const struct conf *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    conf_print(c, f);
    assert_int_equal(fclose(f), 0);
    return buf;
}

#endif
