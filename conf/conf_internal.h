/*
 * Shared between conf.c (reading lines through inih, errors, checks across
 * keys) and conf_keys.c (sections and the meaning of each key).  Internal to conf/.
 */
#ifndef ISP_CONF_INTERNAL_H
#define ISP_CONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

#define CONF_MAX_LISTEN 16
#define CONF_MAX_CONNECTIONS 65536     /* max_connections*, max_sessions */

enum pkey { PK_LISTEN, PK_STATS_LISTEN, PK_LOG_LEVEL, PK_LOG, PK_MEMORY, PK_CACHE_MEMORY,
            PK_QUEUE_DEPTH, PK_MRDSL, PK_MAX_BURST, PK_FIRST_BURST, PK_NOP_INTERVAL, PK_NOP_TIMEOUT,
            PK_BACKEND_TIMEOUT, PK_IMMEDIATE_DATA, PK_INITIAL_R2T,
            PK_SHUTDOWN_TIMEOUT,
            PK_LOGIN_TIMEOUT, PK_MAX_CONNECTIONS, PK_MAX_CONNECTIONS_PER_ADDRESS,
            PK_STATS_TOKEN_FILE, PK_STATS_TLS_CERT, PK_STATS_TLS_KEY,
            PK_COUNT };
enum tkey { TK_PORTAL, TK_TARGET, TK_CHAP_USER, TK_CHAP_PASS, TK_INITIATOR, TK_COHERENCE,
            TK_PAGE_SIZE,
            TK_MAX_SESSIONS,
            TK_COUNT };

extern const char *const conf_pkey_names[PK_COUNT];
extern const char *const conf_tkey_names[TK_COUNT];

enum lkind { LK_NONE, LK_COMMENT, LK_SECTION, LK_KEY, LK_CONT };
enum sec { SEC_NONE, SEC_PROXY, SEC_TARGET };

struct pstate {
    const char *name;               /* file name for messages */
    const char *p;                  /* next unread byte of the text */
    unsigned lineno;                /* lines handed to inih so far */
    enum lkind kind;                /* current line; LK_NONE once the handler took it */
    bool have_prev_key;             /* mirrors inih's prev_name != "" */
    char key[256];                  /* last key name (full length) */
    enum sec sec;
    const char *sec_raw;            /* text between '[' and ']', as inih keeps it */
    size_t sec_raw_len;
    unsigned proxy_line;
    unsigned pkey_line[PK_COUNT];   /* line where each key was set, 0 = not set */
    unsigned (*tkey_line)[TK_COUNT]; /* the same per target, parallel to c->targets */
    size_t targets_cap;
    struct conf *c;
    char *err;
    size_t err_len;
    bool failed;
};

/* Record the first error: "NAME:LINE: [sec] key: ..." (sec, key may be NULL). */
void conf_fail_at(struct pstate *ps, unsigned line, const char *sec, const char *key,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Same, at the current line and section. */
void conf_fail_key(struct pstate *ps, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

bool conf_is_space(char c);
void conf_trim(const char **s, const char **e);

/* Section header with [s, e) the text between the brackets. */
void conf_section_start(struct pstate *ps, const char *s, const char *e);
/* listen: appends the portals in v[0..len) */
void conf_set_listen(struct pstate *ps, const char *v, size_t len);
void conf_set_proxy_key(struct pstate *ps, enum pkey k, const char *v);
void conf_set_target_key(struct pstate *ps, enum tkey k, const char *v);
void conf_set_defaults(struct conf *c);

#endif
