/*
 * Unit tests for conf/conf_file.c through the loader: stats_token_file is
 * read at load (trimmed, long enough, printable, in a file its group and
 * others can neither read nor write), stats_tls_key is checked the same
 * way, and the token is never printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "conf_private_file.h"
#include "conf_test_helpers.h"

#define PROXY "[proxy]\nlisten = 127.0.0.1:3260\n"
#define TGT   "[target iqn.2026-11.org.example:proxy.lun1]\n" \
              "backend_portal = 127.0.0.1:3261\n" \
              "backend_target = iqn.2026-11.org.example:san.lun1\n" \
              "allowed_addresses = 127.0.0.1\n"

static char dir[] = "/tmp/test_conf_file_XXXXXX";

/* The file NAME in the test directory with content and mode; returns its
 * path (a static buffer). */
static const char *make_file(const char *name, const char *content, mode_t mode)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(content, f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

/* Load PROXY + "key = path" + TGT; returns the error ("" when it loads). */
static const char *load_with(const char *key, const char *path, struct conf **out)
{
    static char err[512];
    char text[512];
    snprintf(text, sizeof(text), PROXY "%s = %.200s\n" TGT, key, path);
    err[0] = '\0';
    if (conf_load_string(text, "t.conf", out, err, sizeof(err)) == 0)
        return "";
    return err;
}

static int make_dir(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    char path[256];
    (void)state;
    snprintf(path, sizeof(path), "%s/token", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/key.pem", dir);
    unlink(path);
    return rmdir(dir);
}

/* The token is the file's content without the white space around it; the
 * printout names the file, never the token, and loads back the same. */
static void test_token_read(void **state)
{
    (void)state;
    char want[512];
    struct conf *c = NULL;
    const char *p = make_file("token", "\n  0123456789abcdef-token \r\n\n", 0600);
    assert_string_equal(load_with("stats_token_file", p, &c), "");
    assert_string_equal(c->stats_token, "0123456789abcdef-token");
    assert_string_equal(c->stats_token_file, p);
    char *printed = print_to_string(c);
    assert_null(strstr(printed, "0123456789abcdef"));
    snprintf(want, sizeof(want), "\nstats_token_file = %.200s\n", p);
    assert_non_null(strstr(printed, want));
    struct conf *again = load_ok(printed);
    assert_string_equal(again->stats_token, c->stats_token);
    free(printed);
    conf_free(again);
    conf_free(c);
    /* CF_TOKEN_MAX bytes is still a token. */
    char big[CF_TOKEN_MAX + 1];
    memset(big, 'x', CF_TOKEN_MAX);
    big[CF_TOKEN_MAX] = '\0';
    p = make_file("token", big, 0400);
    assert_string_equal(load_with("stats_token_file", p, &c), "");
    assert_int_equal(strlen(c->stats_token), CF_TOKEN_MAX);
    conf_free(c);
}

/* A file others may read or write, a short token, one with white space or
 * control bytes inside, a file far larger than a token: refused. */
static void test_token_refused(void **state)
{
    (void)state;
    static const struct { const char *content; mode_t mode; const char *why; } bad[] = {
        { "0123456789abcdef\n", 0640, "mode 0640 lets group or others read or write it (chmod 600)" },
        { "0123456789abcdef\n", 0604, "mode 0604 lets group or others read or write it (chmod 600)" },
        { "0123456789abcdef\n", 0620, "mode 0620 lets group or others read or write it (chmod 600)" },
        { "0123456789abcde\n", 0600, "the token is 15 bytes long (16..1024)" },
        { "\n\n", 0400, "the token is 0 bytes long (16..1024)" },
        { "01234567 89abcdef\n", 0600,
          "the token holds white space or a byte that is not printable ASCII (at byte 8)" },
        { "0123456789abcdef\x01\n", 0600,
          "the token holds white space or a byte that is not printable ASCII (at byte 16)" },
    };
    char want[512];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *p = make_file("token", bad[i].content, bad[i].mode);
        snprintf(want, sizeof(want), "t.conf:3: [proxy] stats_token_file: %.200s: %s", p, bad[i].why);
        struct conf *c = (struct conf *)&c;
        const char *err = load_with("stats_token_file", p, &c);
        if (strcmp(err, want) != 0 || c != NULL)
            fail_msg("case %zu: expected\n%s\ngot\n%s", i, want, err);
    }
    char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    const char *p = make_file("token", big, 0600);
    snprintf(want, sizeof(want), "t.conf:3: [proxy] stats_token_file: %.200s: larger than 4096 "
             "bytes: not a token file", p);
    struct conf *c;
    assert_string_equal(load_with("stats_token_file", p, &c), want);
}

/* The key: its mode is checked here, its content is OpenSSL's business. */
static void test_key_checked(void **state)
{
    (void)state;
    char key[256], want[1024];
    struct conf *c;
    snprintf(key, sizeof(key), "%s", make_file("key.pem", "not read here", 0644));
    snprintf(want, sizeof(want), "t.conf:3: [proxy] stats_tls_key: %.200s: mode 0644 lets group "
             "or others read or write it (chmod 600)", key);
    assert_string_equal(load_with("stats_tls_key", key, &c), want);
    assert_int_equal(chmod(key, 0400), 0);
    snprintf(want, sizeof(want), PROXY "stats_tls_cert = /any/cert.pem\nstats_tls_key = %.200s\n"
             TGT, key);
    c = load_ok(want);
    assert_string_equal(c->stats_tls_cert, "/any/cert.pem");
    assert_string_equal(c->stats_tls_key, key);
    char *p1 = print_to_string(c);
    struct conf *again = load_ok(p1);
    char *p2 = print_to_string(again);
    assert_string_equal(p1, p2);
    free(p1);
    free(p2);
    conf_free(again);
    conf_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_read),
        cmocka_unit_test(test_token_refused),
        cmocka_unit_test(test_key_checked),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
