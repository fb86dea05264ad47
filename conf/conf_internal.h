/*
 * Shared inside conf/: conf.c reads lines through inih (errors, checks across
 * keys), conf_keys.c gives [proxy] and [target NAME] keys their meaning,
 * conf_keys_access.c the access rules, conf_auth.c reads auth_file and checks
 * the accounts against the rules, conf_file.c reads files.
 */
#ifndef ISP_CONF_INTERNAL_H
#define ISP_CONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

#define CONF_MAX_LISTEN   16
#define CONF_MAX_CONNECTIONS 65536     /* max_connections*, max_sessions */
#define CONF_MAX_BYTES    (1u << 20)   /* of a configuration or auth file */
#define CONF_MAX_LIST     256          /* entries of one access list */
#define CONF_MAX_ACCOUNTS 4096
/* A secret as written, continuation lines appended: 0x and 510 hex digits
 * for 255 bytes, with room to say "too long" rather than "bad encoding". */
#define CONF_SECRET_TEXT_MAX 600

/* The keys of an access rule, in this order after TK_ACCESS (chap_accounts...)
 * and after PK_DISCOVERY (discovery_chap_accounts...). */
enum xkey { XK_CHAP_ACCOUNTS, XK_MUTUAL_ACCOUNT, XK_CHAP_ALGORITHMS, XK_ALLOWED_ADDRESSES,
            XK_COUNT };

enum pkey { PK_LISTEN, PK_STATS_LISTEN, PK_LOG_LEVEL, PK_LOG, PK_MEMORY, PK_CACHE_MEMORY,
            PK_QUEUE_DEPTH, PK_MRDSL, PK_MAX_BURST, PK_FIRST_BURST, PK_NOP_INTERVAL, PK_NOP_TIMEOUT,
            PK_BACKEND_TIMEOUT, PK_IMMEDIATE_DATA, PK_INITIAL_R2T,
            PK_SHUTDOWN_TIMEOUT, PK_AUTH_FILE,
            PK_LOGIN_TIMEOUT, PK_MAX_CONNECTIONS, PK_MAX_CONNECTIONS_PER_ADDRESS,
            PK_STATS_TOKEN_FILE, PK_STATS_TLS_CERT, PK_STATS_TLS_KEY, PK_HEALTH_DEADLINE,
            PK_POLL_US,
            PK_DISCOVERY, PK_COUNT = PK_DISCOVERY + XK_COUNT };
enum tkey { TK_PORTAL, TK_TARGET, TK_BACKEND_ACCOUNT, TK_INITIATOR, TK_COHERENCE,
            TK_PAGE_SIZE, TK_ALLOWED_INITIATORS, TK_ALLOW_ANONYMOUS, TK_MAX_SESSIONS,
            TK_ACCESS, TK_COUNT = TK_ACCESS + XK_COUNT };
/* Keys of an [account NAME] section of auth_file. */
enum akey { AK_SECRET, AK_COUNT };

extern const char *const conf_pkey_names[PK_COUNT];
extern const char *const conf_tkey_names[TK_COUNT];
extern const char *const conf_akey_names[AK_COUNT];

enum lkind { LK_NONE, LK_COMMENT, LK_SECTION, LK_KEY, LK_CONT };
enum sec { SEC_NONE, SEC_PROXY, SEC_TARGET, SEC_ACCOUNT };

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
    char *auth_path;                /* auth_file as opened (conf_auth_load) */
    /* auth_file only */
    bool auth;                      /* this is auth_file: [account NAME] sections */
    struct conf_account *account;   /* the current [account NAME] */
    unsigned akey_line[AK_COUNT];   /* its keys */
    char secret_text[CONF_SECRET_TEXT_MAX + 1]; /* its secret as written (wiped) */
    size_t secret_text_len;
    bool secret_too_long;
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
/* Parse text (one file) into ps->c through inih; false once ps->failed. */
bool conf_parse(struct pstate *ps, const char *text);

/* Section header with [s, e) the text between the brackets. */
void conf_section_start(struct pstate *ps, const char *s, const char *e);
/* A key line of the current section (the value not empty, except listen
 * and stats_listen), and an indented line continuing its value. */
void conf_set_key(struct pstate *ps, int k, const char *v);
void conf_continue_key(struct pstate *ps, int k, const char *v, size_t len);
void conf_set_defaults(struct conf *c);

/* conf_keys_access.c: an access-rule value (first line: reset to this
 * value; else appended, for lists continued on an indented line). */
void conf_set_access(struct pstate *ps, struct conf_access *a, enum xkey x, const char *key,
                     const char *v, size_t len, bool first_line);
void conf_set_allowed_initiators(struct pstate *ps, struct conf_target *t, const char *v,
                                 size_t len);
/* The account named s[0..len): found, or added with no secret yet (NULL:
 * failed, reported for key).  conf_auth.c fills in secrets. */
struct conf_account *conf_account_ref(struct pstate *ps, const char *key, const char *s,
                                      size_t len);
void conf_access_free(struct conf_access *a);

/* conf_auth.c: [account NAME], secret lines, and after both files are read
 * the checks across them (ps is the main file's state). */
void conf_account_start(struct pstate *ps, const char *s, const char *e);
void conf_set_secret(struct pstate *ps, const char *v, size_t len, bool first_line);
void conf_auth_load(struct pstate *ps, const char *auth_text);
void conf_auth_check(struct pstate *ps);
void conf_account_free(struct conf_account *a);

/* conf_file.c: a whole file, NUL-terminated, at most CONF_MAX_BYTES.
 * secret: refused unless a regular file that only its owner may read.  On
 * error returns -1 and writes "PATH: why" (or "PATH:LINE: ...") into err.
 * Free *text with conf_free_text. */
int conf_read_file(const char *path, bool secret, char **text, char *err, size_t err_len);
void conf_free_text(char *text);

#endif
