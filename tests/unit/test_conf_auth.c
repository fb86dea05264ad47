/*
 * Unit tests for auth_file and the access keys (conf_auth.c,
 * conf_keys_access.c, conf_file.c): secrets in text, hex and base64 with
 * their length limits, every error with its exact message (never holding a
 * secret), the checks across the two files, file permissions and paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "conf_test_helpers.h"

#define PROXY "[proxy]\nlisten = 127.0.0.1\nauth_file = t.auth\n"
#define TGT   "[target iqn.2026-11.org.example:proxy.lun1]\n" \
              "backend_portal = 127.0.0.1:3261\n" \
              "backend_target = iqn.2026-11.org.example:san.lun1\n"
#define TGT2  "[target iqn.2026-11.org.example:proxy.lun2]\n" \
              "backend_portal = 127.0.0.1:3261\n" \
              "backend_target = iqn.2026-11.org.example:san.lun2\n"
#define TLAB  "[target iqn.2026-11.org.example:proxy.lun1]"
#define ACL   "allowed_addresses = 127.0.0.1\n"
/* The main file of the auth_file tests: line 8 names account a. */
#define USES_A PROXY TGT ACL "chap_accounts = a\n"
#define AUTH  "[account a]\nsecret = secret-of-a-12\n[account b]\nsecret = secret-of-b-12\n"

static struct conf *load_with_auth(const char *text, const char *auth)
{
    struct conf *c = NULL;
    char err[512] = "";
    if (conf_load_strings(text, "t.conf", auth, &c, err, sizeof(err)) != 0)
        fail_msg("unexpected error: %s\n--- input:\n%s--- auth:\n%s", err, text, auth);
    return c;
}

static void load_fails(const char *text, const char *auth, const char *msg)
{
    struct conf *c = (struct conf *)&c;
    char err[512] = "unchanged";
    int rc = conf_load_strings(text, "t.conf", auth, &c, err, sizeof(err));
    if (rc != -1 || c != NULL || strcmp(err, msg) != 0)
        fail_msg("rc %d\n--- input:\n%s--- auth:\n%s--- expected:\n%s\n--- got:\n%s", rc, text,
                 auth ? auth : "(none)", msg, err);
}

/* "[account a]\nsecret = " SECRET, loaded; returns a's secret length. */
static size_t secret_len_of(const char *secret, unsigned char *out)
{
    char auth[2048];
    snprintf(auth, sizeof(auth), "[account a]\nsecret = %s\n", secret);
    struct conf *c = load_with_auth(USES_A, auth);
    const struct conf_account *a = conf_find_account(c, "a");
    assert_non_null(a);
    assert_int_equal(a->secret[a->secret_len], '\0');
    size_t n = a->secret_len;
    memcpy(out, a->secret, n);
    conf_free(c);
    return n;
}

/* n bytes as hex, over indented lines of 64 digits after the first 40. */
static void hex_lines(char *buf, size_t len, size_t n)
{
    size_t k = (size_t)snprintf(buf, len, "0x");
    for (size_t i = 0; i < n; i++) {
        if (i == 20 || (i > 20 && (i - 20) % 32 == 0))
            k += (size_t)snprintf(buf + k, len - k, "\n    ");
        k += (size_t)snprintf(buf + k, len - k, "%02x", (unsigned)(i * 7 + 1) & 0xff);
    }
}

static void test_secret_forms(void **state)
{
    (void)state;
    unsigned char s[512];
    assert_int_equal(secret_len_of("twelve bytes", s), 12);
    assert_memory_equal(s, "twelve bytes", 12);
    /* Inner spaces and ';' without a space before it belong to a text secret. */
    assert_int_equal(secret_len_of("a b;c=d:e#fg ; comment", s), 12);
    assert_memory_equal(s, "a b;c=d:e#fg", 12);
    assert_int_equal(secret_len_of("0X000102030405060708090A0b", s), 12);
    assert_memory_equal(s, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b", 12);
    assert_int_equal(secret_len_of("0bAAECAwQFBgcICQoL", s), 12);
    assert_memory_equal(s, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b", 12);
    assert_int_equal(secret_len_of("0BaGVsbG8gd29ybGQhIQ==", s), 13);
    assert_memory_equal(s, "hello world!!", 13);
    assert_int_equal(secret_len_of("0baGVsbG8gd29ybGQhISE=", s), 14);
    assert_memory_equal(s, "hello world!!!", 14);
    /* 255 bytes: over continuation lines, in hex and base64. */
    char buf[2048];
    hex_lines(buf, sizeof(buf), 255);
    assert_int_equal(secret_len_of(buf, s), 255);
    for (size_t i = 0; i < 255; i++)
        assert_int_equal(s[i], (i * 7 + 1) & 0xff);
    memset(buf, 0, sizeof(buf));
    memcpy(buf, "0b", 2);
    for (size_t i = 0; i < 340; i++)
        buf[2 + i + (i >= 150 ? 5 : 0)] = "/+9zA"[i % 5];
    memcpy(buf + 2 + 150, "\n    ", 5);       /* 340 digits: 255 bytes, no padding */
    assert_int_equal(secret_len_of(buf, s), 255);
    assert_int_equal(s[0], 0xff);
}

static void test_secret_lengths(void **state)
{
    (void)state;
    char auth[2048], hex[1200];
    unsigned char s[512];
    /* 11 is too short, 12 fits; 255 fits, 256 is too long, in every form. */
    load_fails(USES_A, "[account a]\nsecret = eleven byte\n",
               "t.auth:2: [account a] secret: 11 bytes; a CHAP secret has 12 to 255 bytes");
    load_fails(USES_A, "[account a]\nsecret = 0x000102030405060708090a\n",
               "t.auth:2: [account a] secret: 11 bytes; a CHAP secret has 12 to 255 bytes");
    load_fails(USES_A, "[account a]\nsecret = 0bAAECAwQFBgcICQo=\n",
               "t.auth:2: [account a] secret: 11 bytes; a CHAP secret has 12 to 255 bytes");
    hex_lines(hex, sizeof(hex), 256);
    snprintf(auth, sizeof(auth), "[account a]\nsecret = %s\n", hex);
    load_fails(USES_A, auth,
               "t.auth:2: [account a] secret: 256 bytes; a CHAP secret has 12 to 255 bytes");
    hex_lines(hex, sizeof(hex), 300);
    snprintf(auth, sizeof(auth), "[account a]\nsecret = %s\n", hex);
    load_fails(USES_A, auth, "t.auth:2: [account a] secret: longer than 255 bytes");
    /* The longest text secret: a 198-character line. */
    snprintf(auth, sizeof(auth), "[account a]\nsecret = %0189d\n", 0);
    assert_int_equal(secret_len_of(auth + strlen("[account a]\nsecret = "), s), 189);
}

static void test_auth_errors(void **state)
{
    (void)state;
    static const struct { const char *auth, *msg; } bads[] = {
        { "[account a]\nsecret = 0x0001020304050607080900a\n",
          "t.auth:2: [account a] secret: 0x value with an odd number of hex digits" },
        { "[account a]\nsecret = 0x000102030405060708090g0b\n",
          "t.auth:2: [account a] secret: 0x value with a character that is not a hex digit" },
        { "[account a]\nsecret = 0x\n", "t.auth:2: [account a] secret: no hex digits after 0x" },
        { "[account a]\nsecret = 0b\n", "t.auth:2: [account a] secret: no base64 digits after 0b" },
        { "[account a]\nsecret = 0bAAECAwQFBgcICQoLD\n", "t.auth:2: [account a] secret: 0b value "
          "whose length is not a multiple of 4 (base64 with '=' padding)" },
        { "[account a]\nsecret = 0bAAECAwQFBgc=CQoL\n", "t.auth:2: [account a] secret: 0b value "
          "with a character outside the base64 alphabet or misplaced '='" },
        { "[account a]\nsecret = 0bAAECAwQFBgcICQoLD===\n", "t.auth:2: [account a] secret: "
          "0b value with a character outside the base64 alphabet or misplaced '='" },
        { "[account a]\nsecret = 0bAAECAwQFBgcICQoLDA-_\n", "t.auth:2: [account a] secret: "
          "0b value with a character outside the base64 alphabet or misplaced '='" },
        { "[account a]\nsecret = 0bAAECAwQFBgcICQoLDB==\n",
          "t.auth:2: [account a] secret: 0b value whose last digit has bits no byte uses" },
        { "[account a]\nsecret = 0bAAECAwQFBgcICQoLDAB=\n",
          "t.auth:2: [account a] secret: 0b value whose last digit has bits no byte uses" },
        { "[account a]\nsecret = text-secret-1\n  2345\n", "t.auth:3: [account a] secret: a text "
          "secret cannot go on over an indented line; write it as 0x<hex> or 0b<base64>" },
        { "[account a]\nsecret = 0x000102030405060708090a0b\n  password = x\n", "t.auth:3: "
          "[account a] secret: indented line continues the value of secret; do not indent keys" },
        { "[account a]\n", "t.auth:1: [account a]: secret missing (required)" },
        { "[account a]\nsecret = secret-of-a-12\nsecret = secret-of-a-13\n",
          "t.auth:3: [account a] secret: duplicate key (first set at line 2)" },
        { "[account a]\nsecret = secret-of-a-12\npassword = x\n",
          "t.auth:3: [account a] password: unknown key" },
        { "secret = secret-of-a-12\n", "t.auth:1: secret: key outside of any section" },
        { "[proxy]\n", "t.auth:1: [proxy]: unknown section (expected [account NAME])" },
        { "[accounts a]\n", "t.auth:1: [accounts a]: unknown section (expected [account NAME])" },
        { "[account]\n", "t.auth:1: [account]: account name missing ([account NAME])" },
        { "[account a]\nsecret = secret-of-a-12\n[ account  a ]\nsecret = secret-of-a-13\n",
          "t.auth:3: [account a]: duplicate account (first defined at line 1)" },
        { "[account a,b]\n", "t.auth:1: [account a,b]: bad account name: an account name is "
          "printable ASCII without spaces, ',', '[' or ']'" },
        { "[account a b]\n", "t.auth:1: [account a b]: bad account name: an account name is "
          "printable ASCII without spaces, ',', '[' or ']'" },
        { "[account a]\nsecret = secret-of-a-12\n[account b]\n",
          "t.auth:3: [account b]: secret missing (required)" },
        { "[account a]\nsecret = 0bAAEC\n", "t.auth:2: [account a] secret: 3 bytes; a CHAP secret "
          "has 12 to 255 bytes" },
    };
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
        load_fails(USES_A, bads[i].auth, bads[i].msg);
    /* A base64 secret's padding may end a continuation line. */
    struct conf *c = load_with_auth(USES_A, "[account a]\nsecret = 0baGVsbG8gd29y\n  bGQhIQ==\n");
    assert_int_equal(conf_find_account(c, "a")->secret_len, 13);
    conf_free(c);
}

static void test_access_keys(void **state)
{
    (void)state;
    struct conf *c = load_with_auth(
        PROXY "discovery_chap_accounts = a\ndiscovery_mutual_account = b\n"
        "discovery_chap_algorithms = md5\ndiscovery_allowed_addresses = ::1\n"
        TGT "chap_accounts = m,\n  a\nchap_algorithms = sha256,sha3-256\n  md5\n"
        "allowed_initiators = iqn.2026-11.org.example:h1 naa.0123456789ABCDEF\n"
        "    eui.*, IQN.2026-11.ORG.EXAMPLE:X*\n"
        "allowed_addresses = 10.0.0.0/8 192.168.1.1/32\n  fd00::/8, ::ffff:0:0/96, 0.0.0.0/0\n"
        "backend_chap_account = a\n",
        AUTH "[account m]\nsecret = secret-of-m-12\n");
    assert_string_equal(c->auth_file, "t.auth");
    assert_int_equal(c->n_accounts, 3);
    assert_string_equal(c->accounts[0]->name, "a");       /* auth_file's order */
    assert_string_equal(c->accounts[2]->name, "m");
    assert_ptr_equal(c->discovery.chap_accounts[0], conf_find_account(c, "a"));
    assert_ptr_equal(c->discovery.mutual_account, conf_find_account(c, "b"));
    assert_int_equal(c->discovery.chap_algorithms, CONF_CHAP_MD5);
    assert_int_equal(c->discovery.n_addresses, 1);
    const struct conf_target *t = &c->targets[0];
    assert_int_equal(t->access.n_chap_accounts, 2);
    assert_string_equal(t->access.chap_accounts[0]->name, "m");
    assert_string_equal(t->access.chap_accounts[1]->name, "a");
    assert_int_equal(t->access.chap_algorithms, CONF_CHAP_SHA256 | CONF_CHAP_SHA3_256 | CONF_CHAP_MD5);
    assert_int_equal(t->n_allowed_initiators, 4);
    assert_string_equal(t->allowed_initiators[3], "IQN.2026-11.ORG.EXAMPLE:X*");
    assert_int_equal(t->access.n_addresses, 5);
    assert_int_equal(t->access.addresses[0].family, AF_INET);
    assert_int_equal(t->access.addresses[0].prefix, 8);
    assert_int_equal(t->access.addresses[1].prefix, 32);
    assert_int_equal(t->access.addresses[2].family, AF_INET6);
    assert_ptr_equal(t->backend_account, conf_find_account(c, "a"));
    assert_null(conf_find_account(c, "A"));
    conf_free(c);

    static const struct { const char *keys, *msg; } bads[] = {
        { "chap_accounts = a, b, a\n", "t.conf:7: " TLAB " chap_accounts: 'a' is listed twice" },
        { "chap_accounts = a\n  a\n", "t.conf:8: " TLAB " chap_accounts: 'a' is listed twice" },
        { "chap_accounts = ,\n", "t.conf:7: " TLAB " chap_accounts: no entry given" },
        { "chap_accounts = a[1]\n", "t.conf:7: " TLAB " chap_accounts: bad account name 'a[1]': "
          "an account name is printable ASCII without spaces, ',', '[' or ']'" },
        { "mutual_account = a b\nchap_accounts = b\n", "t.conf:7: " TLAB " mutual_account: bad "
          "account name 'a b': an account name is printable ASCII without spaces, ',', '[' or ']'" },
        { "mutual_account = a\n  b\n", "t.conf:8: " TLAB " mutual_account: value continues on an "
          "indented line; only a list may do that" },
        { "chap_algorithms = sha256 SHA1\n", "t.conf:7: " TLAB " chap_algorithms: 'SHA1' is not a "
          "CHAP algorithm (sha3-256, sha256, sha1 or md5)" },
        { "chap_algorithms = md5 md5\n", "t.conf:7: " TLAB " chap_algorithms: 'md5' is listed twice" },
        { "chap_algorithms = ,\n", "t.conf:7: " TLAB " chap_algorithms: no entry given" },
        { "allowed_addresses = 10.0.0.1/8\n", "t.conf:7: " TLAB " allowed_addresses: bad address "
          "'10.0.0.1/8': address bits set past the prefix length (give the network address)" },
        { "allowed_addresses = fd00::1/8\n", "t.conf:7: " TLAB " allowed_addresses: bad address "
          "'fd00::1/8': address bits set past the prefix length (give the network address)" },
        { "allowed_addresses = 10.0.0.0/33\n", "t.conf:7: " TLAB " allowed_addresses: bad address "
          "'10.0.0.0/33': bad prefix length (expected /0../32)" },
        { "allowed_addresses = ::/129\n", "t.conf:7: " TLAB " allowed_addresses: bad address "
          "'::/129': bad prefix length (expected /0../128)" },
        { "allowed_addresses = 10.0.0.0/\n", "t.conf:7: " TLAB " allowed_addresses: bad address "
          "'10.0.0.0/': bad prefix length (expected /0../32)" },
        { "allowed_addresses = 10.0.0.0/+8\n", "t.conf:7: " TLAB " allowed_addresses: bad address "
          "'10.0.0.0/+8': bad prefix length (expected /0../32)" },
        { "allowed_addresses = 10.0.0\n", "t.conf:7: " TLAB " allowed_addresses: bad address "
          "'10.0.0': bad IPv4 address" },
        { "allowed_addresses = [::1]\n", "t.conf:7: " TLAB " allowed_addresses: bad address "
          "'[::1]': bad IPv6 address (no brackets)" },
        { "allowed_addresses = fe80::1%eth0\n", "t.conf:7: " TLAB " allowed_addresses: bad address "
          "'fe80::1%eth0': bad IPv6 address (no brackets)" },
        { "allowed_addresses = host.example.org\n", "t.conf:7: " TLAB " allowed_addresses: bad "
          "address 'host.example.org': bad IPv4 address" },
        { "allowed_addresses = /8\n", "t.conf:7: " TLAB " allowed_addresses: bad address '/8': "
          "not an IPv4 or IPv6 address" },
        { "allowed_addresses = 10.0.0.0/8, 10.0.0.0/8\n",
          "t.conf:7: " TLAB " allowed_addresses: '10.0.0.0/8' is listed twice" },
        { "allowed_initiators = *\n", "t.conf:7: " TLAB " allowed_initiators: bad entry '*': "
          "a wildcard entry starts with iqn., eui. or naa. (as in iqn.2026-01.com.example:*)" },
        { "allowed_initiators = host*\n", "t.conf:7: " TLAB " allowed_initiators: bad entry "
          "'host*': a wildcard entry starts with iqn., eui. or naa. (as in iqn.2026-01.com.example:*)" },
        { "allowed_initiators = iqn.2026*.org*\n", "t.conf:7: " TLAB " allowed_initiators: bad entry "
          "'iqn.2026*.org*': '*' may only end an entry" },
        { "allowed_initiators = iqn.2026_*\n", "t.conf:7: " TLAB " allowed_initiators: bad entry "
          "'iqn.2026_*': only letters, digits, '-', '.' and ':' before the '*'" },
        { "allowed_initiators = host1\n", "t.conf:7: " TLAB " allowed_initiators: bad entry "
          "'host1': not an iSCSI name (iqn., eui. or naa.)" },
        { "allowed_initiators = iqn.2026-11.org.example:a IQN.2026-11.org.example:A\n",
          "t.conf:7: " TLAB " allowed_initiators: 'IQN.2026-11.org.example:A' is listed twice" },
        { "allowed_initiators = ,\n", "t.conf:7: " TLAB " allowed_initiators: no entry given" },
        { "allow_anonymous = maybe\n", "t.conf:7: " TLAB " allow_anonymous: 'maybe' is neither yes nor no" },
    };
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        char text[1024];
        snprintf(text, sizeof(text), PROXY TGT "%s", bads[i].keys);
        load_fails(text, AUTH, bads[i].msg);
    }
    /* At most 256 entries in a list. */
    char text[8192];
    size_t n = (size_t)snprintf(text, sizeof(text), PROXY TGT "allowed_addresses = 10.0.0.0");
    for (int i = 1; i < 257; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, i % 8 ? ", 10.0.%d.%d" : "\n  10.0.%d.%d",
                              i / 250, i % 250);
    snprintf(text + n, sizeof(text) - n, "\n");
    load_fails(text, AUTH, "t.conf:39: " TLAB " allowed_addresses: too many entries (at most 256)");
}

static void test_checks_across_files(void **state)
{
    (void)state;
    static const struct { const char *text, *auth, *msg; } bads[] = {
        { PROXY TGT "chap_accounts = a, c\n", AUTH,
          "t.conf:7: " TLAB " chap_accounts: account 'c' is not in auth_file t.auth" },
        { PROXY "discovery_chap_accounts = c\n" TGT ACL, AUTH,
          "t.conf:4: [proxy] discovery_chap_accounts: account 'c' is not in auth_file t.auth" },
        { "[proxy]\nlisten = 127.0.0.1\n" TGT ACL "backend_chap_account = a\n", NULL,
          "t.conf:7: " TLAB " backend_chap_account: account 'a' needs an auth_file ([proxy] auth_file)" },
        { PROXY TGT ACL "mutual_account = a\n", AUTH,
          "t.conf:8: " TLAB " mutual_account: mutual CHAP needs chap_accounts (the initiator "
          "authenticates first)" },
        { PROXY TGT "chap_accounts = a, b\nmutual_account = a\n", AUTH,
          "t.conf:8: " TLAB " mutual_account: account 'a' has the same secret as account 'a' of "
          "chap_accounts in " TLAB "; one secret must not serve both directions (RFC 7143 9.2.1)" },
        { PROXY TGT "chap_accounts = a\nmutual_account = m\n" TGT2 "chap_accounts = b\n",
          AUTH "[account m]\nsecret = secret-of-b-12\n",
          "t.conf:8: " TLAB " mutual_account: account 'm' has the same secret as account 'b' of "
          "chap_accounts in [target iqn.2026-11.org.example:proxy.lun2]; one secret must not "
          "serve both directions (RFC 7143 9.2.1)" },
        { PROXY "discovery_chap_accounts = a\ndiscovery_mutual_account = m\n" TGT "chap_accounts = b\n",
          AUTH "[account m]\nsecret = secret-of-b-12\n",
          "t.conf:5: [proxy] discovery_mutual_account: account 'm' has the same secret as account "
          "'b' of chap_accounts in " TLAB "; one secret must not serve both directions (RFC 7143 9.2.1)" },
        { PROXY TGT ACL "backend_chap_account = z\n", AUTH "[account z]\nsecret = 0x00010203040506070809\n  0a0b\n",
          "t.conf:8: " TLAB " backend_chap_account: account 'z' has a 0x00 byte in its secret, which "
          "libiscsi cannot send" },
        { PROXY TGT "allowed_addresses = ::1\nallow_anonymous = yes\n", AUTH,
          "t.conf:8: " TLAB " allow_anonymous: yes, but allowed_addresses restricts who may log in; "
          "remove one of them" },
        { PROXY TGT "chap_accounts = a\nallow_anonymous = yes\n", AUTH,
          "t.conf:8: " TLAB " allow_anonymous: yes, but chap_accounts restricts who may log in; "
          "remove one of them" },
        { PROXY TGT "initiator_name = iqn.2026-11.org.example:proxy\nbackend_chap_account = a\n", AUTH,
          "t.conf:4: " TLAB ": anyone who reaches the proxy would log in to the SAN as account 'a' "
          "(backend_chap_account); set chap_accounts, allowed_initiators or allowed_addresses, "
          "or allow_anonymous = yes" },
        { PROXY TGT "allow_anonymous = no\n", AUTH,
          "t.conf:4: " TLAB ": anyone who reaches the proxy would log in to the SAN under any "
          "InitiatorName they claim; set chap_accounts, allowed_initiators or allowed_addresses, "
          "or allow_anonymous = yes" },
    };
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
        load_fails(bads[i].text, bads[i].auth, bads[i].msg);

    /* The ways out, each alone; mutual CHAP with its own secret. */
    static const char *const goods[] = {
        PROXY TGT "chap_accounts = a\nbackend_chap_account = b\n",
        PROXY TGT "allowed_initiators = iqn.2026-11.org.example:*\n",
        PROXY TGT "allowed_addresses = 0.0.0.0/0\n",
        PROXY TGT "allow_anonymous = yes\nbackend_chap_account = b\n",
        PROXY TGT "initiator_name = iqn.2026-11.org.example:proxy\n",
        PROXY "discovery_chap_accounts = a\ndiscovery_mutual_account = b\n" TGT
        "chap_accounts = a\nmutual_account = b\n",
    };
    for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++)
        conf_free(load_with_auth(goods[i], AUTH));
    /* The backend account's secret is a C string; binary is fine elsewhere. */
    struct conf *c = load_with_auth(PROXY TGT "chap_accounts = z\nbackend_chap_account = a\n",
                             AUTH "[account z]\nsecret = 0x000102030405060708090a0b\n");
    assert_string_equal((const char *)c->targets[0].backend_account->secret, "secret-of-a-12");
    assert_int_equal(c->targets[0].access.chap_accounts[0]->secret_len, 12);
    conf_free(c);
}

static void test_print(void **state)
{
    (void)state;
    struct conf *c = load_with_auth(PROXY "discovery_allowed_addresses = 10.0.0.0/8, ::1/128, fd00::/8\n"
                             TGT "chap_accounts = a\nmutual_account = b\nbackend_chap_account = a\n"
                             "chap_algorithms = md5, sha3-256\n", AUTH);
    char *p = print_to_string(c);
    assert_null(strstr(p, "secret-of"));
    assert_non_null(strstr(p, "\nauth_file = t.auth\n; [account a] (secret not shown)\n"
                              "; [account b] (secret not shown)\n"));
    assert_non_null(strstr(p, "\ndiscovery_allowed_addresses = 10.0.0.0/8, ::1, fd00::/8\n"));
    assert_non_null(strstr(p, "\nbackend_chap_account = a\n"));
    assert_non_null(strstr(p, "\nchap_accounts = a\nmutual_account = b\n"
                              "chap_algorithms = sha3-256, md5\n; allowed_addresses = (not set)\n"));
    struct conf *c2 = load_with_auth(p, AUTH);
    assert_true(conf_target_equal(&c->targets[0], &c2->targets[0]));
    char *p2 = print_to_string(c2);
    assert_string_equal(p, p2);
    free(p);
    free(p2);
    conf_free(c);
    conf_free(c2);
    char buf[64];
    struct conf_net n = { .family = AF_INET6, .prefix = 0 };
    assert_int_equal(conf_net_format(&n, buf, sizeof(buf)), 4);
    assert_string_equal(buf, "::/0");
    assert_string_equal(conf_chap_algorithm_name(CONF_CHAP_SHA3_256), "sha3-256");
    assert_null(conf_chap_algorithm_name(1u << 4));
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_conf_auth_XXXXXX", conf[128], auth[128], err[512], want[600];
    struct conf *c;
    assert_non_null(mkdtemp(dir));
    snprintf(conf, sizeof(conf), "%s/proxy.conf", dir);
    snprintf(auth, sizeof(auth), "%s/t.auth", dir);
    write_file(conf, USES_A, 0644);

    write_file(auth, AUTH, 0600);           /* relative to the configuration's directory */
    assert_int_equal(conf_load(conf, &c, err, sizeof(err)), 0);
    assert_int_equal(c->targets[0].access.chap_accounts[0]->secret_len, 14);
    conf_free(c);
    assert_int_equal(chmod(auth, 0400), 0);
    assert_int_equal(conf_load(conf, &c, err, sizeof(err)), 0);
    conf_free(c);
    static const mode_t refused[] = { 0644, 0640, 0604, 0660 };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_int_equal(chmod(auth, refused[i]), 0);
        assert_int_equal(conf_load(conf, &c, err, sizeof(err)), -1);
        assert_null(c);
        snprintf(want, sizeof(want), "%s:3: [proxy] auth_file: %s is readable by group or others "
                 "(chmod 600)", conf, auth);
        assert_string_equal(err, want);
    }
    /* A parse error in auth_file names it, not the secret. */
    write_file(auth, "[account a]\nsecret = hunter2\n", 0600);
    assert_int_equal(conf_load(conf, &c, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:2: [account a] secret: 7 bytes; a CHAP secret has 12 to 255 "
             "bytes", auth);
    assert_string_equal(err, want);
    assert_int_equal(unlink(auth), 0);
    FILE *f = fopen(auth, "w");
    assert_non_null(f);
    assert_int_equal(fwrite("[account a]\n\0", 1, 13, f), 13);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(auth, 0600), 0);
    assert_int_equal(conf_load(conf, &c, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:3: [proxy] auth_file: %s:2: NUL byte in file", conf, auth);
    assert_string_equal(err, want);
    assert_int_equal(unlink(auth), 0);
    assert_int_equal(conf_load(conf, &c, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:3: [proxy] auth_file: %s: No such file or directory", conf, auth);
    assert_string_equal(err, want);
    assert_int_equal(mkdir(auth, 0700), 0);
    assert_int_equal(conf_load(conf, &c, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s:3: [proxy] auth_file: %s is not a regular file", conf, auth);
    assert_string_equal(err, want);
    assert_int_equal(rmdir(auth), 0);
    /* An absolute path is taken as it is; conf_load_string reads it too. */
    char text[512];
    write_file(auth, AUTH, 0600);
    snprintf(text, sizeof(text), "[proxy]\nlisten = 127.0.0.1\nauth_file = %s\n" TGT
             "chap_accounts = b\n", auth);
    assert_int_equal(conf_load_string(text, "elsewhere/x.conf", &c, err, sizeof(err)), 0);
    assert_string_equal(c->targets[0].access.chap_accounts[0]->name, "b");
    conf_free(c);
    assert_int_equal(unlink(auth), 0);
    assert_int_equal(unlink(conf), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_forms),
        cmocka_unit_test(test_secret_lengths),
        cmocka_unit_test(test_auth_errors),
        cmocka_unit_test(test_access_keys),
        cmocka_unit_test(test_checks_across_files),
        cmocka_unit_test(test_print),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
