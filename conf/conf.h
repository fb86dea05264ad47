/*
 * Configuration: iscsi-sparse-proxy.conf (INI, parsed by inih) into a plain
 * struct, validated.  Pure: reads the file and nothing else.
 */
#ifndef ISP_CONF_H
#define ISP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

/* host:port, "[v6]:port" or "*:port"; host may be a name.  host is stored
 * without brackets ("::1", "fe80::1%eth0"); "*" means any address; port is
 * always set (decimal, defaults filled in). */
struct conf_addr {
    char host[256];
    char port[8];
};

enum conf_coherence { CONF_COHERENCE_VERIFY = 0, CONF_COHERENCE_EXCLUSIVE, CONF_COHERENCE_OFF };

struct conf_target {
    char *name;                     /* [target NAME]: what initiators log in to */
    struct conf_addr backend_portal;
    char *backend_target;
    char *backend_chap_username;    /* optional; NULL when not set */
    char *backend_chap_password;    /* optional; never printed */
    char *initiator_name;           /* optional; NULL = use the initiator's own */
    enum conf_coherence coherence;  /* default verify */
    uint32_t page_size;             /* bytes; 0 = auto */
    unsigned line;                  /* line of the section header, for messages */
    uint32_t max_sessions;          /* sessions at once (logging in or logged in), 0 = no limit */
};

struct conf {
    char *path;
    struct conf_addr *listen;       /* one or more portals */
    size_t n_listen;
    bool stats_enabled;             /* stats_listen non-empty */
    struct conf_addr stats_listen;
    enum log_level log_level;       /* default info */
    bool log_syslog;                /* log = syslog | stderr (default) */
    uint64_t session_memory_budget; /* bytes of data buffers per session, default 64 MiB */
    uint64_t cache_memory_limit;    /* bytes of all allocation cache objects, default 64 MiB */
    uint32_t queue_depth;           /* CmdSN window per session, default 128 */
    uint32_t max_recv_data_segment_length; /* declared to initiators, default 262144 */
    uint32_t max_burst_length;      /* default 1 MiB */
    uint32_t first_burst_length;    /* default 256 KiB */
    uint32_t nop_interval;          /* seconds between NOP-In pings, 0 = off; default 30 */
    uint32_t nop_timeout;           /* seconds to wait for the NOP-Out answer, default 30 */
    uint32_t backend_timeout;       /* seconds for backend login/commands, default 30 */
    bool immediate_data;            /* our ImmediateData (AND); default yes */
    bool initial_r2t;               /* our InitialR2T (OR); default no */
    uint32_t shutdown_timeout;      /* seconds initiators get to log out at SIGTERM, default 10 */
    struct conf_target *targets;
    size_t n_targets;
    /* Limits on frontend connections (docs/ARCHITECTURE.md, "Limits") */
    uint32_t login_timeout;         /* seconds from accept to Full Feature Phase, default 15 */
    uint32_t max_connections;       /* frontend connections open at once, default 256 */
    uint32_t max_connections_per_address; /* ... from one source address, default 64 */
    /* The stats endpoint's protection; absolute paths, NULL when not set */
    char *stats_token_file;
    char *stats_token;              /* its content without surrounding white space; never printed */
    char *stats_tls_cert;           /* PEM certificate (chain): HTTPS; set with stats_tls_key */
    char *stats_tls_key;            /* PEM private key, readable by its owner only */
};

/*
 * Load and validate.  On error returns -1 and writes one message of the form
 * "FILE:LINE: [section] key: what is wrong" into err.  Unknown sections and
 * keys are errors; so are missing required keys and duplicate targets.
 */
int conf_load(const char *path, struct conf **out, char *err, size_t err_len);
/* Same, from a string (tests and fuzzing); name is used in messages. */
int conf_load_string(const char *text, const char *name, struct conf **out, char *err,
                     size_t err_len);
/* Print the resolved configuration (every key, defaults filled in, secrets masked)
 * in the same INI format, so the output is itself a valid configuration. */
void conf_print(const struct conf *c, FILE *f);
void conf_free(struct conf *c);

/* Target names compare case-insensitively (RFC 3722 folds them to lower case). */
const struct conf_target *conf_find_target(const struct conf *c, const char *name);
const char *conf_coherence_name(enum conf_coherence m);
/* "host:port", "[v6]:port" or "*:port" into buf (for logs); returns snprintf's value. */
int conf_addr_format(const struct conf_addr *a, char *buf, size_t len);

/* ---- comparing two configurations (conf_diff.c), for a reload ---------- */

bool conf_addr_equal(const struct conf_addr *a, const struct conf_addr *b);
/* Same backend portal and backend target: the same backend LUNs. */
bool conf_same_backend(const struct conf_target *a, const struct conf_target *b);
/* Same name (case-insensitively) and every setting a session depends on
 * equal (all but max_sessions). */
bool conf_target_equal(const struct conf_target *a, const struct conf_target *b);
/* The target of c with t's name and all of t's settings, or NULL. */
const struct conf_target *conf_target_unchanged(const struct conf *c, const struct conf_target *t);
/* t is one of c's targets. */
bool conf_owns_target(const struct conf *c, const struct conf_target *t);

struct conf_diff {
    size_t unchanged, changed, added, removed;     /* targets, by name */
    bool listen_changed;
    bool stats_listen_changed;
};
void conf_diff(const struct conf *old, const struct conf *next, struct conf_diff *d);
/* The running listeners stay: next takes old's listen and stats_listen (the
 * two swap listen arrays, so each can still be freed). */
void conf_keep_listeners(struct conf *next, struct conf *old);

#endif
