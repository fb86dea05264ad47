/*
 * Value parsers for the configuration (internal to conf/): numbers, sizes with
 * K/M/G suffixes, host:port addresses and iSCSI names.  Pure functions; on
 * error they return -1 and point *why at a static explanation.
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

#endif
