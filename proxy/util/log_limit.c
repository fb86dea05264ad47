/* Rate limit for log lines, per key (see log_limit.h). */
#include "log_limit.h"

#include <stdio.h>
#include <string.h>

void log_limit_init(struct log_limit *ll, uint64_t interval_us, unsigned burst)
{
    memset(ll, 0, sizeof(*ll));
    ll->interval_us = interval_us;
    ll->burst = burst ? burst : 1;
}

static bool quiet(const struct log_limit *ll, const struct log_limit_entry *e, uint64_t now_us)
{
    return !e->used || now_us - e->last_us >= ll->interval_us;
}

/* key's entry: its own, a free or idle one taken over, or the shared one.
 * An idle entry's suppressed count would only have been reported with its
 * key's next line; taken over, it is dropped. */
static struct log_limit_entry *entry_for(struct log_limit *ll, const char *key, uint64_t now_us,
                                         bool *shared)
{
    char k[LOG_LIMIT_KEY_LEN];
    struct log_limit_entry *take = NULL;

    snprintf(k, sizeof(k), "%s", key);
    for (size_t i = 0; i < LOG_LIMIT_KEYS; i++) {
        struct log_limit_entry *e = &ll->e[i];
        if (e->key[0] && strcmp(e->key, k) == 0)
            return e;
        if (!take && (!e->key[0] || quiet(ll, e, now_us)))
            take = e;
    }
    if (!take) {
        *shared = true;
        return &ll->shared;
    }
    memset(take, 0, sizeof(*take));
    memcpy(take->key, k, sizeof(k));
    return take;
}

struct log_limit_verdict log_limit_check(struct log_limit *ll, const char *key, uint64_t now_us)
{
    struct log_limit_verdict v = { .log = false };
    struct log_limit_entry *e = entry_for(ll, key[0] ? key : "?", now_us, &v.shared);

    if (quiet(ll, e, now_us)) {         /* a new interval starts with this line */
        e->used = true;
        e->last_us = now_us;
        e->in_interval = 0;
    }
    if (e->in_interval >= ll->burst) {
        e->suppressed++;
        return v;
    }
    e->in_interval++;
    v.log = true;
    v.suppressed = e->suppressed;
    e->suppressed = 0;
    return v;
}
