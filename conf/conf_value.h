/*
 * Value parsers for the configuration (internal to conf/): numbers, sizes with
 * K/M/G suffixes, host:port addresses, iSCSI names, lists, CHAP account names
 * and secrets, address/prefix entries.  Pure functions; on error they return
 * -1 and point *why at a static explanation.
 */
#ifndef ISP_CONF_VALUE_H
#define ISP_CONF_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define CV_ISCSI_NAME_MAX 223   /* RFC 7143 4.2.7.1 */

/* Plain decimal: digits only.  Returns 0, -1 if not a number, -2 if too big. */
int cv_parse_uint(const char *s, uint64_t *out);
/* Decimal with an optional K, M or G suffix (powers of 1024, either case).
 * Returns 0, -1 if not a size, -2 if too big. */
int cv_parse_size(const char *s, uint64_t *out);
/* Shortest exact form: "64M", "4K", "512". */
void cv_format_size(uint64_t v, char *buf, size_t len);

/* "host", "host:port", "[v6]", "[v6]:port", "*", "*:port" (len bytes of s).
 * The host is stored without brackets; "*" stays "*". */
int cv_parse_addr(const char *s, size_t len, const char *default_port, bool wildcard_ok,
                  struct conf_addr *out, const char **why);
/* True when the stored host is an IPv6 literal (needs brackets when printed). */
bool cv_addr_is_v6(const struct conf_addr *a);

/* iqn./eui./naa. name; strict = lower case only (names this proxy serves). */
int cv_check_iscsi_name(const char *s, bool strict, const char **why);

/* Lists: items separated by commas and/or white space.  Sets [*s, *s + *n)
 * to the next item of [*p, e) and moves *p past it; false when none is left. */
bool cv_next_item(const char **p, const char *e, const char **s, size_t *n);

/* A CHAP name (CHAP_N) as this configuration allows it: 1..255 bytes of
 * printable ASCII other than ',' '[' ']' (which would end a list item or a
 * section name). */
int cv_check_account_name(const char *s, size_t n, const char **why);

/* A secret as written: 0x/0X and hex digits, 0b/0B and base64 (RFC 7143 6.1
 * binary values, decoded by binary_value_decode), else the text itself.
 * Strict: an even number of hex digits; base64 in groups of 4 with '=' only
 * as padding and unused bits 0.  out holds at least n bytes; *out_len is the
 * decoded length. */
int cv_decode_secret(const char *s, size_t n, unsigned char *out, size_t *out_len,
                     const char **why);

/* "a.b.c.d", "a.b.c.d/len", an IPv6 address, "v6/len" (no brackets, no
 * zone); host bits past the prefix must be 0. */
int cv_parse_net(const char *s, size_t n, struct conf_net *out, const char **why);

/* "md5", "sha1", "sha256", "sha3-256" (n bytes of s) to its CONF_CHAP_* bit; 0 if none. */
uint32_t cv_chap_algorithm(const char *s, size_t n);

#endif
