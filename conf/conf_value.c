/*
 * Value parsers for the configuration: decimal numbers, sizes (K/M/G),
 * addresses (host:port, [v6]:port, *:port), iSCSI names (RFC 7143 4.2.7),
 * lists, CHAP names and secrets, address/prefix entries.  Everything is
 * validated in full; nothing here resolves names or opens sockets.
 */
#include "conf_value.h"

#include "binary_value.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cv_parse_uint(const char *s, uint64_t *out)
{
    size_t n = 0;

    while (s[n] >= '0' && s[n] <= '9')
        n++;
    if (n == 0 || s[n] != '\0')
        return -1;
    if (n > 20)
        return -2;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return -2;
    *out = v;
    return 0;
}

int cv_parse_size(const char *s, uint64_t *out)
{
    char digits[24];
    size_t n = 0;
    unsigned shift = 0;

    while (s[n] >= '0' && s[n] <= '9')
        n++;
    if (n == 0)
        return -1;
    if (s[n] != '\0') {
        switch (s[n]) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        default: return -1;
        }
        if (s[n + 1] != '\0')
            return -1;
    }
    if (n >= sizeof(digits))
        return -2;
    memcpy(digits, s, n);
    digits[n] = '\0';
    uint64_t v;
    int rc = cv_parse_uint(digits, &v);
    if (rc != 0)
        return rc;
    if (v > (UINT64_MAX >> shift))
        return -2;
    *out = v << shift;
    return 0;
}

void cv_format_size(uint64_t v, char *buf, size_t len)
{
    static const char suffix[] = "KMG";
    unsigned i = 0;

    while (i < 3 && v != 0 && (v & 1023) == 0) {
        v >>= 10;
        i++;
    }
    if (i == 0)
        snprintf(buf, len, "%llu", (unsigned long long)v);
    else
        snprintf(buf, len, "%llu%c", (unsigned long long)v, suffix[i - 1]);
}

/* RFC 1123 host name: dot-separated labels of letters, digits and '-'. */
static bool valid_hostname(const char *h)
{
    size_t n = strlen(h), label = 0;

    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i <= n; i++) {
        char c = h[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || h[i - 1] == '-')
                return false;
            label = 0;
        } else if (isalnum((unsigned char)c) || c == '-') {
            if (label == 0 && c == '-')
                return false;
            label++;
        } else {
            return false;
        }
    }
    return true;
}

/* IPv6 literal, optionally with a %zone (interface name). */
static bool valid_ipv6(const char *h)
{
    char addr[64];
    struct in6_addr a6;
    const char *pct = strchr(h, '%');
    size_t alen = pct ? (size_t)(pct - h) : strlen(h);

    if (alen == 0 || alen >= sizeof(addr))
        return false;
    memcpy(addr, h, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET6, addr, &a6) != 1)
        return false;
    if (pct) {
        size_t zlen = strlen(pct + 1);
        if (zlen == 0 || zlen > 15)
            return false;
        for (const char *z = pct + 1; *z; z++)
            if (!isalnum((unsigned char)*z) && !strchr("._-", *z))
                return false;
    }
    return true;
}

static int parse_port(const char *p, size_t n, char out[8], const char **why)
{
    unsigned v = 0;

    if (n == 0) {
        *why = "port missing after ':'";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || v > 65535) {
            *why = "bad port (expected 1..65535)";
            return -1;
        }
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v == 0 || v > 65535) {
        *why = "bad port (expected 1..65535)";
        return -1;
    }
    snprintf(out, 8, "%u", v);
    return 0;
}

int cv_parse_addr(const char *s, size_t len, const char *default_port, bool wildcard_ok,
                  struct conf_addr *out, const char **why)
{
    struct conf_addr a;
    const char *host, *port = NULL;
    size_t hlen, plen = 0;
    bool bracketed = false;

    memset(&a, 0, sizeof(a));
    if (len == 0) {
        *why = "empty address";
        return -1;
    }
    if (s[0] == '[') {
        const char *rb = memchr(s, ']', len);
        if (!rb) {
            *why = "missing ']'";
            return -1;
        }
        host = s + 1;
        hlen = (size_t)(rb - host);
        size_t rest = len - (size_t)(rb + 1 - s);
        if (rest > 0) {
            if (rb[1] != ':') {
                *why = "expected ':port' after ']'";
                return -1;
            }
            port = rb + 2;
            plen = rest - 1;
        }
        bracketed = true;
    } else {
        const char *colon = memchr(s, ':', len);
        if (colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - s))) {
            *why = "an IPv6 address must be in brackets, e.g. [::1]:3260";
            return -1;
        }
        host = s;
        hlen = colon ? (size_t)(colon - s) : len;
        if (colon) {
            port = colon + 1;
            plen = len - hlen - 1;
        }
    }
    if (hlen == 0) {
        *why = "host missing (use * for any address)";
        return -1;
    }
    if (hlen >= sizeof(a.host) || memchr(host, '\0', hlen)) {
        *why = "host name too long";
        return -1;
    }
    memcpy(a.host, host, hlen);
    a.host[hlen] = '\0';

    if (bracketed) {
        if (!valid_ipv6(a.host)) {
            *why = "bad IPv6 address";
            return -1;
        }
    } else if (strcmp(a.host, "*") == 0) {
        if (!wildcard_ok) {
            *why = "the wildcard * is not allowed here";
            return -1;
        }
    } else if (strspn(a.host, "0123456789.") == hlen) {
        struct in_addr a4;
        if (inet_pton(AF_INET, a.host, &a4) != 1) {
            *why = "bad IPv4 address";
            return -1;
        }
    } else if (!valid_hostname(a.host)) {
        *why = "bad host name";
        return -1;
    }

    if (port) {
        if (parse_port(port, plen, a.port, why) != 0)
            return -1;
    } else {
        snprintf(a.port, sizeof(a.port), "%s", default_port);
    }
    *out = a;
    return 0;
}

bool cv_addr_is_v6(const struct conf_addr *a)
{
    return strchr(a->host, ':') != NULL;
}

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return s[n] == '\0';
}

int cv_check_iscsi_name(const char *s, bool strict, const char **why)
{
    size_t n = strlen(s);

    if (n > CV_ISCSI_NAME_MAX) {
        *why = "longer than 223 bytes";
        return -1;
    }
    if (strncmp(s, "eui.", 4) == 0 || strncmp(s, "naa.", 4) == 0) {
        bool eui = s[0] == 'e';
        if ((n == 20 || (!eui && n == 36)) && all_hex(s + 4, n - 4))
            return 0;
        *why = eui ? "eui. must be followed by 16 hex digits"
                   : "naa. must be followed by 16 or 32 hex digits";
        return -1;
    }
    if (strncmp(s, "iqn.", 4) != 0) {
        *why = "not an iSCSI name (iqn., eui. or naa.)";
        return -1;
    }
    /* iqn.yyyy-mm.reversed.domain[:anything] */
    const char *d = s + 4;
    bool date_ok = n >= 12;
    for (int i = 0; date_ok && i < 7; i++)
        date_ok = i == 4 ? d[i] == '-' : (d[i] >= '0' && d[i] <= '9');
    if (!date_ok || d[7] != '.' || d[8] == '\0' || d[8] == ':' || d[8] == '.') {
        *why = "iqn. must be followed by a date yyyy-mm, a dot and a domain";
        return -1;
    }
    int month = (d[5] - '0') * 10 + (d[6] - '0');
    if (month < 1 || month > 12) {
        *why = "bad month in the iqn. date";
        return -1;
    }
    for (const char *p = d + 8; *p; p++) {
        unsigned char c = (unsigned char)*p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                  c == ':' || (!strict && c >= 'A' && c <= 'Z');
        if (!ok) {
            *why = strict ? "only a-z, 0-9, '-', '.' and ':' are allowed in an iSCSI name"
                          : "only letters, digits, '-', '.' and ':' are allowed in an iSCSI name";
            return -1;
        }
    }
    return 0;
}

bool cv_next_item(const char **p, const char *e, const char **s, size_t *n)
{
    const char *q = *p;

    while (q < e && (*q == ',' || isspace((unsigned char)*q)))
        q++;
    *s = q;
    while (q < e && *q != ',' && !isspace((unsigned char)*q))
        q++;
    *n = (size_t)(q - *s);
    *p = q;
    return *n > 0;
}

int cv_check_account_name(const char *s, size_t n, const char **why)
{
    if (n == 0 || n > CONF_ACCOUNT_NAME_MAX) {
        *why = "an account name has 1 to 255 bytes";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f || c == ',' || c == '[' || c == ']') {
            *why = "an account name is printable ASCII without spaces, ',', '[' or ']'";
            return -1;
        }
    }
    return 0;
}

int cv_decode_secret(const char *s, size_t n, unsigned char *out, size_t *out_len,
                     const char **why)
{
    enum iscsi_binary_encoding enc;

    if (binary_value_prefixed(s, n))
        return binary_value_decode(s, n, BINARY_VALUE_PAD_REQUIRED, out, n, out_len, &enc, why);
    memcpy(out, s, n);
    *out_len = n;
    return 0;
}

int cv_parse_net(const char *s, size_t n, struct conf_net *out, const char **why)
{
    char addr[INET6_ADDRSTRLEN];
    struct conf_net net;
    const char *slash = memchr(s, '/', n);
    size_t alen = slash ? (size_t)(slash - s) : n;

    memset(&net, 0, sizeof(net));
    net.family = memchr(s, ':', alen) ? AF_INET6 : AF_INET;
    if (alen == 0 || alen >= sizeof(addr)) {
        *why = "not an IPv4 or IPv6 address";
        return -1;
    }
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    if (inet_pton(net.family, addr, net.addr) != 1) {
        *why = net.family == AF_INET ? "bad IPv4 address" : "bad IPv6 address (no brackets)";
        return -1;
    }
    unsigned max = net.family == AF_INET ? 32 : 128;
    net.prefix = max;
    if (slash) {
        const char *d = slash + 1;
        size_t plen = n - alen - 1;
        bool ok = plen >= 1 && plen <= 3;
        unsigned v = 0;
        for (size_t i = 0; ok && i < plen; i++) {
            ok = d[i] >= '0' && d[i] <= '9';
            v = v * 10 + (unsigned)(d[i] - '0');
        }
        if (!ok || v > max) {
            *why = max == 32 ? "bad prefix length (expected /0../32)"
                             : "bad prefix length (expected /0../128)";
            return -1;
        }
        net.prefix = v;
    }
    for (unsigned bit = net.prefix; bit < max; bit++) {
        if (net.addr[bit / 8] & (0x80u >> (bit % 8))) {
            *why = "address bits set past the prefix length (give the network address)";
            return -1;
        }
    }
    *out = net;
    return 0;
}

uint32_t cv_chap_algorithm(const char *s, size_t n)
{
    for (uint32_t bit = CONF_CHAP_MD5; bit <= CONF_CHAP_SHA3_256; bit <<= 1) {
        const char *name = conf_chap_algorithm_name(bit);
        if (strlen(name) == n && memcmp(name, s, n) == 0)
            return bit;
    }
    return 0;
}
