/*
 * Unit tests for conf/: valid configurations and defaults, every error kind
 * with its exact "FILE:LINE: [section] key: what" message, conf_print round
 * trips, file loading.  auth_file and the access keys: test_conf_auth.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "conf_test_helpers.h"

#define PROXY "[proxy]\nlisten = 127.0.0.1:3260\n"
#define TGT   "[target iqn.2026-11.org.example:proxy.lun1]\n" \
              "backend_portal = 127.0.0.1:3261\n" \
              "backend_target = iqn.2026-11.org.example:san.lun1\n"
#define TLAB  "[target iqn.2026-11.org.example:proxy.lun1]"
/* Who may log in; a target without it is refused (no borrowed credentials),
 * but errors found while reading come first, so the error cases omit it. */
#define ACL   "allowed_addresses = 127.0.0.1\n"

static void test_defaults(void **state)
{
    (void)state;
    struct conf *c = load_ok(PROXY TGT ACL);
    assert_string_equal(c->path, "t.conf");
    assert_int_equal(c->n_listen, 1);
    assert_string_equal(c->listen[0].host, "127.0.0.1");
    assert_string_equal(c->listen[0].port, "3260");
    assert_true(c->stats_enabled);
    assert_string_equal(c->stats_listen.host, "127.0.0.1");
    assert_string_equal(c->stats_listen.port, "9100");
    assert_int_equal(c->log_level, LOG_LVL_INFO);
    assert_false(c->log_syslog);
    assert_int_equal(c->session_memory_budget, 64u << 20);
    assert_int_equal(c->cache_memory_limit, 64u << 20);
    assert_int_equal(c->queue_depth, 128);
    assert_int_equal(c->max_recv_data_segment_length, 262144);
    assert_int_equal(c->max_burst_length, 1048576);
    assert_int_equal(c->first_burst_length, 262144);
    assert_int_equal(c->nop_interval, 30);
    assert_int_equal(c->nop_timeout, 30);
    assert_int_equal(c->backend_timeout, 30);
    assert_int_equal(c->health_deadline, 5);
    assert_int_equal(c->poll_us, 50);
    assert_null(c->auth_file);
    assert_int_equal(c->n_accounts, 0);
    assert_int_equal(c->discovery.n_chap_accounts, 0);
    assert_null(c->discovery.mutual_account);
    assert_int_equal(c->discovery.chap_algorithms, CONF_CHAP_ALL);
    assert_int_equal(c->discovery.n_addresses, 0);
    assert_int_equal(c->login_timeout, 15);
    assert_int_equal(c->max_connections, 256);
    assert_int_equal(c->max_connections_per_address, 64);
    assert_null(c->stats_token_file);
    assert_null(c->stats_token);
    assert_null(c->stats_tls_cert);
    assert_null(c->stats_tls_key);
    assert_int_equal(c->n_targets, 1);
    const struct conf_target *t = &c->targets[0];
    assert_string_equal(t->name, "iqn.2026-11.org.example:proxy.lun1");
    assert_int_equal(t->n_backend_portals, 1);
    assert_string_equal(t->backend_portals[0].host, "127.0.0.1");
    assert_string_equal(t->backend_portals[0].port, "3261");
    assert_string_equal(t->backend_target, "iqn.2026-11.org.example:san.lun1");
    assert_null(t->backend_account);
    assert_null(t->initiator_name);
    assert_int_equal(t->coherence, CONF_COHERENCE_VERIFY);
    assert_int_equal(t->page_size, 0);
    assert_int_equal(t->access.n_chap_accounts, 0);
    assert_null(t->access.mutual_account);
    assert_int_equal(t->access.chap_algorithms, CONF_CHAP_ALL);
    assert_int_equal(t->access.n_addresses, 1);
    assert_int_equal(t->n_allowed_initiators, 0);
    assert_false(t->allow_anonymous);
    assert_int_equal(t->line, 3);
    assert_int_equal(t->max_sessions, 0);
    conf_free(c);
}

static void test_every_key(void **state)
{
    (void)state;
    struct conf *c = load_ok(
        "; comment\n"
        "# another comment\n"
        "[proxy] ; a comment after a header\n"
        "listen = 127.0.0.1:3260, [::1]:3260 *:3261,,  host-1.example.org\n"
        "    [fe80::1%eth0]:3262   ; continuation line with a comment\n"
        "stats_listen = [::1]\n"
        "log_level = debug\n"
        "log = syslog\n"
        "session_memory_budget = 4G\n"
        "cache_memory_limit = 1536K\n"
        "queue_depth = 4096\n"
        "max_recv_data_segment_length = 16777215\n"
        "max_burst_length = 8M\n"
        "first_burst_length = 512\n"
        "nop_interval = 0\n"
        "nop_timeout = 3600\n"
        "backend_timeout = 1 ; seconds\n"
        "health_deadline = 2\n"
        "poll_us = 0\n"
        "\n"
        "[target iqn.2026-11.org.example:a]\n"
        "backend_portal = [2001:db8::7]\n"
        "backend_target = iqn.1992-08.com.NetApp:sn.1\n"
        "initiator_name = iqn.2026-11.org.example:initiator\n"
        "coherence = exclusive\n"
        "page_size = 16M\n"
        "[ target   eui.02004567A425678D ]\n"
        "backend_portal = san.example.org:3260, san-b.example.org 10.0.0.7:3262\n"
        "    [2001:db8::8]\n"
        "backend_target = naa.52004567BA64678D\n"
        "coherence = off\n"
        "page_size = 4k\n"
        "allow_anonymous = yes\n"
        "[target naa.6001405abcdef0123456789abcdef012]\n"
        "backend_target: eui.0123456789abcdef\n"
        "backend_portal: 10.1.2.3:65535\n"
        "page_size = auto\n"
        "allowed_initiators: iqn.2026-11.org.example:*\n");
    assert_int_equal(c->n_listen, 5);
    const char *hosts[] = { "127.0.0.1", "::1", "*", "host-1.example.org", "fe80::1%eth0" };
    const char *ports[] = { "3260", "3260", "3261", "3260", "3262" };
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(c->listen[i].host, hosts[i]);
        assert_string_equal(c->listen[i].port, ports[i]);
    }
    assert_true(c->stats_enabled);
    assert_string_equal(c->stats_listen.host, "::1");
    assert_string_equal(c->stats_listen.port, "9100");
    assert_int_equal(c->log_level, LOG_LVL_DEBUG);
    assert_true(c->log_syslog);
    assert_int_equal(c->session_memory_budget, 4ull << 30);
    assert_int_equal(c->cache_memory_limit, 1536u << 10);
    assert_int_equal(c->queue_depth, 4096);
    assert_int_equal(c->max_recv_data_segment_length, 16777215);
    assert_int_equal(c->max_burst_length, 8u << 20);
    assert_int_equal(c->first_burst_length, 512);
    assert_int_equal(c->nop_interval, 0);
    assert_int_equal(c->nop_timeout, 3600);
    assert_int_equal(c->backend_timeout, 1);
    assert_int_equal(c->health_deadline, 2);
    assert_int_equal(c->poll_us, 0);
    assert_int_equal(c->n_targets, 3);
    const struct conf_target *t = &c->targets[0];
    assert_int_equal(t->n_backend_portals, 1);
    assert_string_equal(t->backend_portals[0].host, "2001:db8::7");
    assert_string_equal(t->backend_portals[0].port, "3260");
    assert_string_equal(t->backend_target, "iqn.1992-08.com.NetApp:sn.1");
    assert_string_equal(t->initiator_name, "iqn.2026-11.org.example:initiator");
    assert_int_equal(t->coherence, CONF_COHERENCE_EXCLUSIVE);
    assert_int_equal(t->page_size, 16u << 20);
    assert_int_equal(t->line, 21);
    assert_false(t->allow_anonymous);
    t = &c->targets[1];
    assert_string_equal(t->name, "eui.02004567A425678D");
    assert_int_equal(t->coherence, CONF_COHERENCE_OFF);
    assert_int_equal(t->page_size, 4096);
    assert_true(t->allow_anonymous);
    /* backend_portal is a list, continued on an indented line, in order */
    const char *bhosts[] = { "san.example.org", "san-b.example.org", "10.0.0.7", "2001:db8::8" };
    const char *bports[] = { "3260", "3260", "3262", "3260" };
    assert_int_equal(t->n_backend_portals, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(t->backend_portals[i].host, bhosts[i]);
        assert_string_equal(t->backend_portals[i].port, bports[i]);
    }
    t = &c->targets[2];
    assert_string_equal(t->backend_portals[0].port, "65535");
    assert_int_equal(t->page_size, 0);
    assert_int_equal(t->n_allowed_initiators, 1);
    assert_string_equal(t->allowed_initiators[0], "iqn.2026-11.org.example:*");
    assert_ptr_equal(conf_find_target(c, "EUI.02004567a425678d"), &c->targets[1]);
    assert_ptr_equal(conf_find_target(c, "iqn.2026-11.org.example:a"), &c->targets[0]);
    assert_null(conf_find_target(c, "iqn.2026-11.org.example:b"));
    conf_free(c);
}

static void test_small_things(void **state)
{
    (void)state;
    /* stats off; first_burst_length follows a small max_burst_length. */
    struct conf *c = load_ok("[proxy]\nlisten = *\nstats_listen =\nmax_burst_length = 64K\n" TGT ACL);
    assert_false(c->stats_enabled);
    assert_int_equal(c->max_burst_length, 65536);
    assert_int_equal(c->first_burst_length, 65536);
    conf_free(c);
    /* CRLF line ends, a UTF-8 BOM, a last line without a newline. */
    c = load_ok("\xEF\xBB\xBF[proxy]\r\nlisten = 127.0.0.1\r\n" TGT ACL "coherence = off");
    assert_int_equal(c->targets[0].coherence, CONF_COHERENCE_OFF);
    conf_free(c);
    /* A long target name: inih itself keeps only 49 bytes of a section name. */
    const char *name = "iqn.2026-11.org.example:a.very.long.target.name.that.inih.would.cut";
    char text[1024];
    snprintf(text, sizeof(text), PROXY "[target %s]\nbackend_portal = h\n"
             "backend_target = %s\n" ACL "[target %.60s]\nbackend_portal = h\n"
             "backend_target = %s\n" ACL, name, name, name, name);
    c = load_ok(text);
    assert_string_equal(c->targets[0].name, name);
    assert_int_equal(c->n_targets, 2);
    conf_free(c);
    /* The longest line inih can take (198 characters) passes. */
    snprintf(text, sizeof(text), PROXY TGT ACL "initiator_name = iqn.2026-11.org.example:%0*d\n",
             198 - 17 - 24, 0);
    c = load_ok(text);
    assert_int_equal(strlen(c->targets[0].initiator_name), 198 - 17);
    conf_free(c);

    char buf[64];
    struct conf_addr a = { .host = "::1", .port = "3260" };
    assert_int_equal(conf_addr_format(&a, buf, sizeof(buf)), 10);
    assert_string_equal(buf, "[::1]:3260");
    struct conf_addr b = { .host = "*", .port = "1" };
    conf_addr_format(&b, buf, sizeof(buf));
    assert_string_equal(buf, "*:1");
    assert_string_equal(conf_coherence_name(CONF_COHERENCE_VERIFY), "verify");
    assert_string_equal(conf_coherence_name(CONF_COHERENCE_EXCLUSIVE), "exclusive");
    assert_string_equal(conf_coherence_name(CONF_COHERENCE_OFF), "off");
    conf_free(NULL);
}

struct bad { const char *text, *msg; };

static const struct bad bads[] = {
    /* structure */
    { "", "t.conf:1: [proxy]: section missing (required)" },
    { "; only a comment\n\n", "t.conf:2: [proxy]: section missing (required)" },
    { PROXY, "t.conf:2: no [target NAME] section (at least one is required)" },
    { "[proxy]\nqueue_depth = 1\n" TGT, "t.conf:1: [proxy] listen: missing (required)" },
    { "listen = 127.0.0.1\n" PROXY TGT, "t.conf:1: listen: key outside of any section" },
    { PROXY "[proxi]\n" TGT, "t.conf:3: [proxi]: unknown section (expected [proxy] or [target NAME])" },
    { PROXY "[targets x]\n", "t.conf:3: [targets x]: unknown section (expected [proxy] or [target NAME])" },
    { PROXY "[target]\n", "t.conf:3: [target]: target name missing ([target NAME])" },
    { PROXY TGT "[proxy]\n", "t.conf:6: [proxy]: duplicate section (first at line 1)" },
    { PROXY TGT "[target IQN.2026-11.org.example:proxy.lun1]\n",
      "t.conf:6: [target IQN.2026-11.org.example:proxy.lun1]: bad target name: "
      "not an iSCSI name (iqn., eui. or naa.)" },
    { PROXY TGT "[target iqn.2026-11.org.example:proxy.lun1]\nbackend_portal = h\n",
      "t.conf:6: " TLAB ": duplicate target (first defined at line 3)" },
    { PROXY "[target iqn.2026-11.org.example:Proxy]\n",
      "t.conf:3: [target iqn.2026-11.org.example:Proxy]: bad target name: "
      "only a-z, 0-9, '-', '.' and ':' are allowed in an iSCSI name" },
    { PROXY "[target iqn.2026-13.org.example:x]\n",
      "t.conf:3: [target iqn.2026-13.org.example:x]: bad target name: bad month in the iqn. date" },
    { PROXY "[target iqn.org.example]\n", "t.conf:3: [target iqn.org.example]: bad target name: "
      "iqn. must be followed by a date yyyy-mm, a dot and a domain" },
    { PROXY "[target eui.0123]\n",
      "t.conf:3: [target eui.0123]: bad target name: eui. must be followed by 16 hex digits" },
    { PROXY "[target naa.0123456789abcdef0]\n", "t.conf:3: [target naa.0123456789abcdef0]: "
      "bad target name: naa. must be followed by 16 or 32 hex digits" },
    { PROXY "[proxy\n", "t.conf:3: missing ']' in section header" },
    { PROXY "[proxy ; x]\n", "t.conf:3: missing ']' in section header" },
    { PROXY "[target x] y\n", "t.conf:3: unexpected text after ']'" },
    { PROXY "just words\n", "t.conf:3: expected 'key = value' or '[section]'" },
    { PROXY "= 5\n", "t.conf:3: key name missing before '='" },
    { PROXY "queue_depth 5 ; = 6\n", "t.conf:3: expected 'key = value' or '[section]'" },
    /* keys */
    { PROXY "listn = 1\n", "t.conf:3: [proxy] listn: unknown key" },
    { PROXY "a_key_name_longer_than_the_forty_nine_bytes_inih_copies = 1\n",
      "t.conf:3: [proxy] a_key_name_longer_than_the_forty_nine_bytes_inih_copies: unknown key" },
    { PROXY TGT "listen = 1.2.3.4\n", "t.conf:6: " TLAB " listen: unknown key" },
    { PROXY "listen = 127.0.0.2\n", "t.conf:3: [proxy] listen: duplicate key (first set at line 2)" },
    { PROXY "log_level =\n", "t.conf:3: [proxy] log_level: empty value" },
    { PROXY "queue_depth = 1\n  2\n", "t.conf:4: [proxy] queue_depth: value continues on an "
      "indented line; only a list may do that" },
    { PROXY TGT "initiator_name = iqn.2026-11.org.example:a\n  b\n", "t.conf:7: " TLAB
      " initiator_name: value continues on an indented line; only a list may do that" },
    { PROXY "  queue_depth = 2\n", "t.conf:3: [proxy] listen: indented line continues the value "
      "of listen; do not indent keys" },
    /* addresses */
    { "[proxy]\nlisten = 1.2.3.256\n", "t.conf:2: [proxy] listen: bad address '1.2.3.256': bad IPv4 address" },
    { "[proxy]\nlisten = ::1\n", "t.conf:2: [proxy] listen: bad address '::1': "
      "an IPv6 address must be in brackets, e.g. [::1]:3260" },
    { "[proxy]\nlisten = [::1\n", "t.conf:2: [proxy] listen: bad address '[::1': missing ']'" },
    { "[proxy]\nlisten = [::g]:1\n", "t.conf:2: [proxy] listen: bad address '[::g]:1': bad IPv6 address" },
    { "[proxy]\nlisten = [1.2.3.4]:1\n", "t.conf:2: [proxy] listen: bad address '[1.2.3.4]:1': bad IPv6 address" },
    { "[proxy]\nlisten = [::1]3260\n", "t.conf:2: [proxy] listen: bad address '[::1]3260': "
      "expected ':port' after ']'" },
    { "[proxy]\nlisten = h:0\n", "t.conf:2: [proxy] listen: bad address 'h:0': bad port (expected 1..65535)" },
    { "[proxy]\nlisten = h:65536\n", "t.conf:2: [proxy] listen: bad address 'h:65536': bad port (expected 1..65535)" },
    { "[proxy]\nlisten = h:\n", "t.conf:2: [proxy] listen: bad address 'h:': port missing after ':'" },
    { "[proxy]\nlisten = :3260\n", "t.conf:2: [proxy] listen: bad address ':3260': host missing (use * for any address)" },
    { "[proxy]\nlisten = -h.example\n", "t.conf:2: [proxy] listen: bad address '-h.example': bad host name" },
    { "[proxy]\nlisten = a..b\n", "t.conf:2: [proxy] listen: bad address 'a..b': bad host name" },
    { "[proxy]\nlisten = h_1\n", "t.conf:2: [proxy] listen: bad address 'h_1': bad host name" },
    { "[proxy]\nlisten = ,\n", "t.conf:2: [proxy] listen: no portal given" },
    { "[proxy]\nlisten =\n", "t.conf:2: [proxy] listen: no portal given" },
    { "[proxy]\nlisten = h:32x\n", "t.conf:2: [proxy] listen: bad address 'h:32x': bad port (expected 1..65535)" },
    { "[proxy]\nlisten = h:999999\n",
      "t.conf:2: [proxy] listen: bad address 'h:999999': bad port (expected 1..65535)" },
    { "[proxy]\nlisten = [fe80::1%]\n", "t.conf:2: [proxy] listen: bad address '[fe80::1%]': bad IPv6 address" },
    { "[proxy]\nlisten = [fe80::1%e/0]\n",
      "t.conf:2: [proxy] listen: bad address '[fe80::1%e/0]': bad IPv6 address" },
    { "[proxy]\nlisten = []:1\n", "t.conf:2: [proxy] listen: bad address '[]:1': host missing (use * for any address)" },
    { "[proxy]\nlisten = a-.b\n", "t.conf:2: [proxy] listen: bad address 'a-.b': bad host name" },
    { "[proxy]\nlisten = a.1234567890123456789012345678901234567890123456789012345678901234\n",
      "t.conf:2: [proxy] listen: bad address 'a.1234567890123456789012345678901234567890123456789012345678901234': "
      "bad host name" },
    { "[proxy]\nlisten = a:1 b:1 a:1\n", "t.conf:2: [proxy] listen: 'a:1' is listed twice" },
    { "[proxy]\nlisten = a, a:3260\n", "t.conf:2: [proxy] listen: 'a:3260' is listed twice" },
    { "[proxy]\nlisten = a:1 a:2 a:3 a:4 a:5 a:6 a:7 a:8\n  a:9 a:10 a:11 a:12 a:13 a:14 a:15 a:16\n a:17\n",
      "t.conf:4: [proxy] listen: too many portals (at most 16)" },
    { PROXY "stats_listen = 1.2.3\n", "t.conf:3: [proxy] stats_listen: bad address '1.2.3': bad IPv4 address" },
    { PROXY "[target iqn.2026-11.org.example:proxy.lun1]\nbackend_portal = *:3260\n",
      "t.conf:4: " TLAB " backend_portal: bad address '*:3260': the wildcard * is not allowed here" },
    { PROXY "[target iqn.2026-11.org.example:proxy.lun1]\nbackend_portal = a, b:1, a:3260\n",
      "t.conf:4: " TLAB " backend_portal: 'a:3260' is listed twice" },
    { PROXY "[target iqn.2026-11.org.example:proxy.lun1]\nbackend_portal = a:1 a:2 a:3 a:4\n"
      "  a:5 a:6 a:7 a:8 a:9\n",
      "t.conf:5: " TLAB " backend_portal: too many portals (at most 8)" },
    { PROXY "[target iqn.2026-11.org.example:proxy.lun1]\nbackend_portal = ,\n"
      "backend_target = iqn.2026-11.org.example:x\n",
      "t.conf:4: " TLAB " backend_portal: no portal given" },
    { PROXY "[target iqn.2026-11.org.example:proxy.lun1]\nbackend_portal = a, b:x\n",
      "t.conf:4: " TLAB " backend_portal: bad address 'b:x': bad port (expected 1..65535)" },
    /* enumerations */
    { PROXY "log_level = loud\n", "t.conf:3: [proxy] log_level: 'loud' is not a log level (error, warn, info or debug)" },
    { PROXY "log_level = INFO\n", "t.conf:3: [proxy] log_level: 'INFO' is not a log level (error, warn, info or debug)" },
    { PROXY "log = file\n", "t.conf:3: [proxy] log: 'file' is not a log destination (stderr or syslog)" },
    { PROXY TGT "coherence = strict\n",
      "t.conf:6: " TLAB " coherence: 'strict' is not a coherence mode (exclusive, verify or off)" },
    /* numbers */
    { PROXY "queue_depth = 12a\n", "t.conf:3: [proxy] queue_depth: '12a' is not a number" },
    { PROXY "queue_depth = -1\n", "t.conf:3: [proxy] queue_depth: '-1' is not a number" },
    { PROXY "queue_depth = +1\n", "t.conf:3: [proxy] queue_depth: '+1' is not a number" },
    { PROXY "queue_depth = 1K\n", "t.conf:3: [proxy] queue_depth: '1K' is not a number" },
    { PROXY "queue_depth = 0\n", "t.conf:3: [proxy] queue_depth: 0 is out of range (1..4096)" },
    { PROXY "queue_depth = 4097\n", "t.conf:3: [proxy] queue_depth: 4097 is out of range (1..4096)" },
    { PROXY "queue_depth = 18446744073709551616\n",
      "t.conf:3: [proxy] queue_depth: 18446744073709551616 is out of range (1..4096)" },
    { PROXY "session_memory_budget = 17179869184G\n",
      "t.conf:3: [proxy] session_memory_budget: 17179869184G is out of range (1M..4G)" },
    { PROXY "session_memory_budget = 5T\n", "t.conf:3: [proxy] session_memory_budget: '5T' is not "
      "a size (a number, optionally with K, M or G)" },
    { PROXY "queue_depth = 99999999999999999999999\n",
      "t.conf:3: [proxy] queue_depth: 99999999999999999999999 is out of range (1..4096)" },
    { PROXY "nop_interval = 3601\n", "t.conf:3: [proxy] nop_interval: 3601 is out of range (0..3600)" },
    { PROXY "nop_timeout = 0\n", "t.conf:3: [proxy] nop_timeout: 0 is out of range (1..3600)" },
    { PROXY "backend_timeout = 30s\n", "t.conf:3: [proxy] backend_timeout: '30s' is not a number" },
    { PROXY "health_deadline = 0\n", "t.conf:3: [proxy] health_deadline: 0 is out of range (1..3600)" },
    { PROXY "poll_us = 1001\n", "t.conf:3: [proxy] poll_us: 1001 is out of range (0..1000)" },
    { PROXY "session_memory_budget = 1023K\n",
      "t.conf:3: [proxy] session_memory_budget: 1023K is out of range (1M..4G)" },
    { PROXY "session_memory_budget = 4097M\n",
      "t.conf:3: [proxy] session_memory_budget: 4097M is out of range (1M..4G)" },
    { PROXY "session_memory_budget = 99999999999999G\n",
      "t.conf:3: [proxy] session_memory_budget: 99999999999999G is out of range (1M..4G)" },
    { PROXY "session_memory_budget = 64MB\n", "t.conf:3: [proxy] session_memory_budget: '64MB' is not "
      "a size (a number, optionally with K, M or G)" },
    { PROXY "cache_memory_limit = 1023K\n",
      "t.conf:3: [proxy] cache_memory_limit: 1023K is out of range (1M..64G)" },
    { PROXY "cache_memory_limit = 65537M\n",
      "t.conf:3: [proxy] cache_memory_limit: 65537M is out of range (1M..64G)" },
    { PROXY "cache_memory_limit = 0\n",
      "t.conf:3: [proxy] cache_memory_limit: 0 is out of range (1M..64G)" },
    { PROXY "cache_memory_limit = 1M2\n", "t.conf:3: [proxy] cache_memory_limit: '1M2' is not "
      "a size (a number, optionally with K, M or G)" },
    { PROXY "max_recv_data_segment_length = 16M\n",
      "t.conf:3: [proxy] max_recv_data_segment_length: 16M is out of range (512..16777215)" },
    { PROXY "max_burst_length = 511\n", "t.conf:3: [proxy] max_burst_length: 511 is out of range (512..16777215)" },
    { PROXY "first_burst_length = 0\n", "t.conf:3: [proxy] first_burst_length: 0 is out of range (512..16777215)" },
    { PROXY "first_burst_length = 2M\n" TGT,
      "t.conf:3: [proxy] first_burst_length: 2097152 is larger than max_burst_length (1048576)" },
    /* page_size */
    { PROXY TGT "page_size = 12K\n", "t.conf:6: " TLAB " page_size: 12K is not a power of two" },
    { PROXY TGT "page_size = 2K\n", "t.conf:6: " TLAB " page_size: 2K is out of range (4K..16M)" },
    { PROXY TGT "page_size = 32M\n", "t.conf:6: " TLAB " page_size: 32M is out of range (4K..16M)" },
    { PROXY TGT "page_size = 0\n", "t.conf:6: " TLAB " page_size: 0 is out of range (4K..16M)" },
    { PROXY TGT "page_size = Auto\n",
      "t.conf:6: " TLAB " page_size: 'Auto' is not a size (auto, or a number with K, M or G)" },
    /* targets */
    { PROXY "[target iqn.2026-11.org.example:proxy.lun1]\nbackend_target = iqn.2026-11.org.example:x\n",
      "t.conf:3: " TLAB " backend_portal: missing (required)" },
    { PROXY "[target iqn.2026-11.org.example:proxy.lun1]\nbackend_portal = h\n",
      "t.conf:3: " TLAB " backend_target: missing (required)" },
    { PROXY "[target iqn.2026-11.org.example:proxy.lun1]\n[target iqn.2026-11.org.example:b]\n",
      "t.conf:3: " TLAB " backend_portal: missing (required)" },
    { PROXY TGT "backend_target = iqn.2026-11.org.example:y\n",
      "t.conf:6: " TLAB " backend_target: duplicate key (first set at line 5)" },
    { PROXY TGT "initiator_name = host1\n",
      "t.conf:6: " TLAB " initiator_name: bad iSCSI name 'host1': not an iSCSI name (iqn., eui. or naa.)" },
    { PROXY TGT "\nbackend_chap_username = u\n",
      "t.conf:7: " TLAB " backend_chap_username: secrets live in auth_file; use backend_chap_account" },
    { PROXY TGT "backend_chap_password = p\n",
      "t.conf:6: " TLAB " backend_chap_password: secrets live in auth_file; use backend_chap_account" },
    { PROXY TGT "initiator_name = ; only a comment\n",
      "t.conf:6: " TLAB " initiator_name: empty value" },
    { PROXY TGT, "t.conf:3: " TLAB ": anyone who reaches the proxy would log in to the SAN under "
      "any InitiatorName they claim; set chap_accounts, allowed_initiators or allowed_addresses, "
      "or allow_anonymous = yes" },
    /* limits */
    { PROXY "login_timeout = 0\n", "t.conf:3: [proxy] login_timeout: 0 is out of range (1..3600)" },
    { PROXY "max_connections = 65537\n",
      "t.conf:3: [proxy] max_connections: 65537 is out of range (1..65536)" },
    { PROXY "max_connections_per_address = 0\n",
      "t.conf:3: [proxy] max_connections_per_address: 0 is out of range (1..65536)" },
    { PROXY TGT "max_sessions = -1\n", "t.conf:6: " TLAB " max_sessions: '-1' is not a number" },
    { PROXY TGT "max_sessions = 99999999999999999999999\n",
      "t.conf:6: " TLAB " max_sessions: 99999999999999999999999 is out of range (0..65536)" },
    /* the stats endpoint's files */
    { PROXY "stats_token_file = token\n",
      "t.conf:3: [proxy] stats_token_file: token: not an absolute path" },
    { PROXY "stats_token_file = /nonexistent/token\n",
      "t.conf:3: [proxy] stats_token_file: /nonexistent/token: No such file or directory" },
    { PROXY "stats_token_file = /\n", "t.conf:3: [proxy] stats_token_file: /: not a regular file" },
    { PROXY "stats_tls_cert = cert.pem\n", "t.conf:3: [proxy] stats_tls_cert: cert.pem: not an absolute path" },
    { PROXY "stats_tls_key = /nonexistent/key.pem\n",
      "t.conf:3: [proxy] stats_tls_key: /nonexistent/key.pem: No such file or directory" },
    { PROXY "stats_tls_cert = /c.pem\n" TGT,
      "t.conf:3: [proxy] stats_tls_cert: set without stats_tls_key (both or neither)" },
    /* bytes */
    { PROXY "log = \x1b[31m\n", "t.conf:3: [proxy] log: '?[31m' is not a log destination (stderr or syslog)" },
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        struct conf *c = (struct conf *)&c;
        char err[512] = "unchanged";
        int rc = conf_load_string(bads[i].text, "t.conf", &c, err, sizeof(err));
        if (rc != -1 || c != NULL || strcmp(err, bads[i].msg) != 0)
            fail_msg("case %zu: rc %d\n--- input:\n%s--- expected:\n%s\n--- got:\n%s", i, rc,
                     bads[i].text, bads[i].msg, err);
    }
}

static void test_long_lines(void **state)
{
    (void)state;
    char text[1024], err[512];
    struct conf *c;
    snprintf(text, sizeof(text), PROXY TGT "initiator_name = iqn.2026-11.org.example:%0*d\n",
             199 - 17 - 24, 0);
    assert_int_equal(conf_load_string(text, "t.conf", &c, err, sizeof(err)), -1);
    assert_string_equal(err, "t.conf:6: line too long (more than 198 characters)");
    /* 223 bytes is the iSCSI limit, but a header that long does not fit inih's line. */
    snprintf(text, sizeof(text), PROXY "[target iqn.2026-11.org.example:%0*d]\n", 223 - 24, 0);
    assert_int_equal(conf_load_string(text, "t.conf", &c, err, sizeof(err)), -1);
    assert_string_equal(err, "t.conf:3: line too long (more than 198 characters)");
    /* A tiny or absent error buffer is fine. */
    assert_int_equal(conf_load_string("[proxy]\nx=1\n", "t.conf", &c, err, 8), -1);
    assert_string_equal(err, "t.conf:");
    assert_int_equal(conf_load_string("[proxy]\nx=1\n", NULL, &c, NULL, 0), -1);
    assert_int_equal(conf_load_string(NULL, NULL, &c, err, sizeof(err)), -1);
    assert_string_equal(err, "<string>:1: [proxy]: section missing (required)");
}

static void check_round_trip(const char *text)
{
    struct conf *c = load_ok(text);
    char *p1 = print_to_string(c);
    struct conf *c2 = load_ok(p1);
    char *p2 = print_to_string(c2);
    assert_string_equal(p1, p2);
    free(p1);
    free(p2);
    conf_free(c);
    conf_free(c2);
}

static void test_print(void **state)
{
    (void)state;
    check_round_trip(PROXY TGT ACL);
    check_round_trip("[proxy]\nlisten = [::1]:1 a:2 b\n  *:3\nstats_listen =\nlog = syslog\n"
                     "log_level = warn\nsession_memory_budget = 1536K\ncache_memory_limit = 64G\n"
                     "nop_interval = 0\ndiscovery_allowed_addresses = 10.0.0.0/8\n"
                     "discovery_chap_algorithms = md5\n" TGT
                     "initiator_name = iqn.2026-11.org.example:i\ncoherence = exclusive\n"
                     "page_size = 1M\nchap_algorithms = sha1, sha256\n"
                     "allowed_initiators = iqn.2026-11.org.example:a*, EUI.0123456789ABCDEF\n"
                     "[target eui.0123456789ABCDEF]\nbackend_portal = [fe80::1%lo]\n"
                     "backend_target = iqn.2026-11.org.example:e\nallow_anonymous = yes\n");
    /* 16 long portals wrap onto continuation lines that parse back. */
    char text[2048];
    size_t n = (size_t)snprintf(text, sizeof(text), "[proxy]\nlisten =");
    for (int i = 0; i < 16; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "\n  [2001:db8:1234:5678:9abc:def0:1234:%x]:%d",
                              i, 3260 + i);
    snprintf(text + n, sizeof(text) - n, "\n" TGT ACL);
    struct conf *c = load_ok(text);
    assert_int_equal(c->n_listen, 16);
    char *p = print_to_string(c);
    assert_non_null(strstr(p, ",\n    [2001:db8:1234:5678:9abc:def0:1234:f]:3275\n"));
    free(p);
    conf_free(c);
    check_round_trip(text);

    /* Defaults and unset keys. */
    c = load_ok(PROXY TGT ACL);
    p = print_to_string(c);
    assert_non_null(strstr(p, "\n; auth_file = (not set)\n"));
    assert_non_null(strstr(p, "\n; discovery_chap_accounts = (not set)\n"));
    assert_non_null(strstr(p, "\ndiscovery_chap_algorithms = sha3-256, sha256, sha1, md5\n"));
    assert_non_null(strstr(p, "\n; backend_chap_account = (not set)\n"));
    assert_non_null(strstr(p, "\n; initiator_name = (not set)\n"));
    assert_non_null(strstr(p, "\nallowed_addresses = 127.0.0.1\n"));
    assert_non_null(strstr(p, "\n; allowed_initiators = (not set)\n"));
    assert_non_null(strstr(p, "\nallow_anonymous = no\n"));
    assert_non_null(strstr(p, "\npage_size = auto\n"));
    assert_non_null(strstr(p, "\nsession_memory_budget = 64M\ncache_memory_limit = 64M\n"));
    free(p);
    conf_free(c);
}

static void test_files(void **state)
{
    (void)state;
    char path[] = "/tmp/test_conf_XXXXXX", err[512];
    struct conf *c;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char good[] = PROXY TGT ACL;
    assert_int_equal(write(fd, good, sizeof(good) - 1), (ssize_t)sizeof(good) - 1);
    assert_int_equal(conf_load(path, &c, err, sizeof(err)), 0);
    assert_string_equal(c->path, path);
    conf_free(c);
    static const char nul[] = "[proxy]\nlisten = a\0b\n";
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, nul, sizeof(nul) - 1, 0), (ssize_t)sizeof(nul) - 1);
    assert_int_equal(conf_load(path, &c, err, sizeof(err)), -1);
    assert_null(c);
    char want[600];
    snprintf(want, sizeof(want), "%s:2: NUL byte in file", path);
    assert_string_equal(err, want);
    close(fd);
    unlink(path);
    assert_int_equal(conf_load(path, &c, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s: No such file or directory", path);
    assert_string_equal(err, want);
    assert_int_equal(conf_load("/", &c, err, sizeof(err)), -1);
    assert_string_equal(err, "/: Is a directory");
    /* Larger than 1 MiB. */
    char big[] = "/tmp/test_conf_XXXXXX";
    fd = mkstemp(big);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (1 << 20) + 1), 0);
    assert_int_equal(conf_load(big, &c, err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "%s: file too large (more than 1048576 bytes)", big);
    assert_string_equal(err, want);
    close(fd);
    unlink(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_small_things),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_print),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
