/*
 * Configuration: iscsi-sparse-proxy.conf (INI, parsed by inih) into a plain
 * struct, validated, with the CHAP secrets of its auth_file.  Pure: reads the
 * two files and nothing else.
 */
#ifndef ISP_CONF_H
#define ISP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

struct sockaddr;

/* host:port, "[v6]:port" or "*:port"; host may be a name.  host is stored
 * without brackets ("::1", "fe80::1%eth0"); "*" means any address; port is
 * always set (decimal, defaults filled in). */
struct conf_addr {
    char host[256];
    char port[8];
};

enum conf_coherence { CONF_COHERENCE_VERIFY = 0, CONF_COHERENCE_EXCLUSIVE, CONF_COHERENCE_OFF };

#define CONF_ACCOUNT_NAME_MAX 255   /* CHAP_N */
#define CONF_SECRET_MIN 12          /* bytes (RFC 7143 9.2.1: 96 bits at least) */
#define CONF_SECRET_MAX 255

/* A CHAP account of auth_file: [account NAME] and its secret. */
struct conf_account {
    char *name;                     /* CHAP_N, 1..255 bytes, compared exactly */
    unsigned char *secret;          /* secret_len bytes then a NUL (libiscsi takes a C
                                       string); wiped by conf_free; never printed */
    size_t secret_len;              /* CONF_SECRET_MIN..CONF_SECRET_MAX */
    unsigned line;                  /* of [account NAME] in auth_file */
};

/* CHAP_A algorithms (the numbers of RFC 7143 12.1.3) as bits of a mask. */
#define CONF_CHAP_MD5       (1u << 5)
#define CONF_CHAP_SHA1      (1u << 6)
#define CONF_CHAP_SHA256    (1u << 7)
#define CONF_CHAP_SHA3_256  (1u << 8)
#define CONF_CHAP_ALL (CONF_CHAP_MD5 | CONF_CHAP_SHA1 | CONF_CHAP_SHA256 | CONF_CHAP_SHA3_256)

/* An allowed_addresses entry: address/prefix, host bits zero. */
struct conf_net {
    int family;                     /* AF_INET or AF_INET6 */
    unsigned char addr[16];         /* network order; the first 4 bytes for AF_INET */
    unsigned prefix;                /* 0..32 or 0..128 */
};

/* Who may log in: a target's, or (in [proxy], discovery_*) discovery sessions'. */
struct conf_access {
    const struct conf_account **chap_accounts;  /* CHAP_N an initiator may use; */
    size_t n_chap_accounts;                     /* none: no CHAP, else CHAP required */
    const struct conf_account *mutual_account;  /* the target's side of mutual CHAP, or NULL */
    uint32_t chap_algorithms;                   /* CONF_CHAP_* bits, default CONF_CHAP_ALL */
    struct conf_net *addresses;                 /* allowed peers; none: any */
    size_t n_addresses;
};

/* backend_portal: the SAN's portals of one target, tried in this order. */
#define CONF_MAX_BACKEND_PORTALS 8

struct conf_target {
    char *name;                     /* [target NAME]: what initiators log in to */
    struct conf_addr backend_portals[CONF_MAX_BACKEND_PORTALS];
    size_t n_backend_portals;       /* 1..CONF_MAX_BACKEND_PORTALS */
    char *backend_target;
    const struct conf_account *backend_account; /* CHAP toward the SAN, or NULL */
    char *initiator_name;           /* optional; NULL = use the initiator's own */
    struct conf_access access;
    char **allowed_initiators;      /* exact names, or a prefix ending in '*'; none: any */
    size_t n_allowed_initiators;
    bool allow_anonymous;           /* open on purpose: the daemon warns at every start */
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
    uint32_t health_deadline;       /* seconds without an answer from the SAN before its
                                       portal counts as down (/healthz), default 5 */
    uint32_t poll_us;               /* microseconds the event loop polls after work before
                                       it sleeps, 0 = never; default 50 (event_poll.c) */
    bool immediate_data;            /* our ImmediateData (AND); default yes */
    bool initial_r2t;               /* our InitialR2T (OR); default no */
    uint32_t shutdown_timeout;      /* seconds initiators get to log out at SIGTERM, default 10 */
    char *auth_file;                /* as written (relative to path's directory); NULL = none */
    struct conf_account **accounts; /* every account of auth_file */
    size_t n_accounts;
    struct conf_access discovery;   /* discovery sessions (SendTargets) */
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
 * Load and validate, with the auth_file the configuration names (refused if
 * group or others may read it, or if it is not a regular file).  On error
 * returns -1 and writes one message of the form "FILE:LINE: [section] key:
 * what is wrong" into err, never a secret.  Unknown sections and keys are
 * errors; so are missing required keys and duplicate targets or accounts.
 */
int conf_load(const char *path, struct conf **out, char *err, size_t err_len);
/* Same, from a string (tests and fuzzing); name is used in messages, and a
 * relative auth_file is read relative to name's directory. */
int conf_load_string(const char *text, const char *name, struct conf **out, char *err,
                     size_t err_len);
/* Same, with auth_text standing for the contents of auth_file (no file is
 * read, so no permission check); NULL reads auth_file as conf_load_string. */
int conf_load_strings(const char *text, const char *name, const char *auth_text,
                      struct conf **out, char *err, size_t err_len);
/* Print the resolved configuration (every key, defaults filled in) in the same
 * INI format, so the output is itself a valid configuration.  Secrets are not
 * in it: auth_file is printed as a path, accounts by name. */
void conf_print(const struct conf *c, FILE *f);
void conf_free(struct conf *c);

/* Target names compare case-insensitively (RFC 3722 folds them to lower case). */
const struct conf_target *conf_find_target(const struct conf *c, const char *name);
/* The auth_file account with this CHAP name (compared exactly), or NULL. */
const struct conf_account *conf_find_account(const struct conf *c, const char *name);
const char *conf_coherence_name(enum conf_coherence m);
/* "host:port", "[v6]:port" or "*:port" into buf (for logs); returns snprintf's value. */
int conf_addr_format(const struct conf_addr *a, char *buf, size_t len);
/* "10.0.0.0/8", "fd00::/8"; a full-length prefix is left out ("::1"). */
int conf_net_format(const struct conf_net *n, char *buf, size_t len);
/* "md5", "sha1", "sha256", "sha3-256" for one CONF_CHAP_* bit; NULL for others. */
const char *conf_chap_algorithm_name(uint32_t bit);

/* ---- access rules (conf_access.c), pure ---------------------------------- */

/* CHAP is required: chap_accounts is not empty. */
bool conf_access_requires_chap(const struct conf_access *a);
/* The account of chap_accounts with this CHAP_N (compared exactly), or NULL. */
const struct conf_account *conf_access_account(const struct conf_access *a, const char *name);
/* The peer's address is in allowed_addresses, or the list is empty.  An
 * IPv4-mapped IPv6 peer (::ffff:a.b.c.d) is matched as IPv4. */
bool conf_access_admits_address(const struct conf_access *a, const struct sockaddr *peer);
/* The same for a target's rules and for discovery sessions. */
bool conf_target_admits_address(const struct conf_target *t, const struct sockaddr *peer);
bool conf_discovery_admits_address(const struct conf *c, const struct sockaddr *peer);
/* t's chap_accounts account with this CHAP_N, or NULL (not allowed). */
const struct conf_account *conf_target_allows_account(const struct conf_target *t,
                                                      const char *name);
/* initiator_name is in allowed_initiators (or the list is empty): exact
 * names, or a prefix for an entry ending in '*'; case-insensitive, as iSCSI
 * names are folded to lower case (RFC 3722). */
bool conf_target_admits_initiator(const struct conf_target *t, const char *initiator_name);

/* ---- comparing two configurations (conf_diff.c), for a reload ---------- */

bool conf_addr_equal(const struct conf_addr *a, const struct conf_addr *b);
bool conf_net_equal(const struct conf_net *a, const struct conf_net *b);
/* The index of addr in t's backend_portal list, or -1. */
int conf_backend_portal_index(const struct conf_target *t, const struct conf_addr *addr);
/* The same backend target through at least one common portal: the same
 * backend LUNs (a portal list is several paths to one SAN). */
bool conf_same_backend(const struct conf_target *a, const struct conf_target *b);
/* Equal but for who may log in (CHAP accounts, ACLs, allow_anonymous) and
 * for the portal list beyond one common portal: a reload that changes only
 * those keeps the sessions already logged in (the list applies to the next
 * backend login). */
bool conf_target_same_service(const struct conf_target *a, const struct conf_target *b);
/* Same name (case-insensitively) and every setting a session depends on
 * equal, access rules and the portal list in its order included (the
 * accounts they name must have the same secrets too); all but max_sessions. */
bool conf_target_equal(const struct conf_target *a, const struct conf_target *b);
/* The target of c with t's name and all of t's settings, or NULL. */
const struct conf_target *conf_target_unchanged(const struct conf *c, const struct conf_target *t);
/* t is one of c's targets. */
bool conf_owns_target(const struct conf *c, const struct conf_target *t);

struct conf_diff {
    size_t unchanged, changed, added, removed;     /* targets, by name */
    bool listen_changed;
    bool stats_listen_changed;
    bool discovery_changed;         /* discovery_* rules or their accounts' secrets */
};
void conf_diff(const struct conf *old, const struct conf *next, struct conf_diff *d);
/* The running listeners stay: next takes old's listen and stats_listen (the
 * two swap listen arrays, so each can still be freed). */
void conf_keep_listeners(struct conf *next, struct conf *old);

#endif
