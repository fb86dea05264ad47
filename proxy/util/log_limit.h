/*
 * Rate limit for log lines an outsider can trigger at will (connections
 * refused at accept, stats requests without the token, anything an
 * initiator's PDUs or logins cause): per key (an address), the first
 * `burst` lines of an interval are logged, the rest counted, and the next
 * line logged says how many were suppressed since the previous one.  Pure: the caller
 * passes the time.
 *
 * The table is fixed: LOG_LIMIT_KEYS keys at once.  A new key takes a free
 * entry or one idle for a whole interval; when none is left, all further
 * keys share one entry, so whatever the number of addresses the whole
 * limiter logs at most (LOG_LIMIT_KEYS + 1) * burst lines per interval.
 */
#ifndef ISP_LOG_LIMIT_H
#define ISP_LOG_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define LOG_LIMIT_KEYS 32
#define LOG_LIMIT_KEY_LEN 64            /* an IPv6 address with a scope fits */

struct log_limit_entry {
    char key[LOG_LIMIT_KEY_LEN];        /* "" = free */
    bool used;                          /* an interval started at last_us */
    uint64_t last_us;                   /* when the current interval started */
    unsigned in_interval;               /* lines logged in it */
    uint64_t suppressed;                /* lines not logged since then */
};

struct log_limit {
    uint64_t interval_us;
    unsigned burst;                     /* lines per key and interval */
    struct log_limit_entry e[LOG_LIMIT_KEYS];
    struct log_limit_entry shared;      /* keys that found no entry of their own */
};

/* burst: lines logged per key and interval (at least 1). */
void log_limit_init(struct log_limit *ll, uint64_t interval_us, unsigned burst);

/* What the caller should do with one line about key at now_us. */
struct log_limit_verdict {
    bool log;               /* log the line now; else it was counted */
    bool shared;            /* the count below is of keys without an entry */
    uint64_t suppressed;    /* lines not logged before this one (log only) */
};
struct log_limit_verdict log_limit_check(struct log_limit *ll, const char *key, uint64_t now_us);

#endif
