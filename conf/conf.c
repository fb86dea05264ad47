/*
 * Configuration loader: iscsi-sparse-proxy.conf and its auth_file parsed by
 * inih, validated into struct conf.  Every error is one message
 * "FILE:LINE: [section] key: why".
 *
 * inih's handler gets no line number (the installed ini.h has
 * INI_HANDLER_LINENO 0, whatever one distribution's binary was built with),
 * inih truncates section names to 49 bytes and says nothing about empty
 * sections.  So lines reach inih through our own reader
 * (ini_parse_stream), which counts them, refuses lines longer than inih's
 * buffer, and classifies each line the way inih does (comment, section,
 * key, continuation) to keep full section names.  The handler checks that
 * inih agrees with that classification; a disagreement is reported as an
 * internal error (the fuzzer aborts on it).  Parsing stops at the first error.
 */
#include "conf_internal.h"
#include "conf_value.h"

#include <ctype.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INIH_NAME_MAX    49          /* inih MAX_SECTION / MAX_NAME - 1 */

void conf_fail_at(struct pstate *ps, unsigned line, const char *sec, const char *key,
                  const char *fmt, ...)
{
    if (ps->failed)
        return;
    ps->failed = true;
    if (!ps->err || ps->err_len == 0)
        return;
    int k;
    if (sec && key)
        k = snprintf(ps->err, ps->err_len, "%s:%u: [%s] %s: ", ps->name, line, sec, key);
    else if (sec)
        k = snprintf(ps->err, ps->err_len, "%s:%u: [%s]: ", ps->name, line, sec);
    else if (key)
        k = snprintf(ps->err, ps->err_len, "%s:%u: %s: ", ps->name, line, key);
    else
        k = snprintf(ps->err, ps->err_len, "%s:%u: ", ps->name, line);
    if (k >= 0 && (size_t)k < ps->err_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err + k, ps->err_len - (size_t)k, fmt, ap);
        va_end(ap);
    }
    /* One printable line, whatever bytes the file held. */
    for (char *q = ps->err; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            *q = '?';
}

/* Label of the current section for messages. */
static const char *sec_label(const struct pstate *ps, char *buf, size_t len)
{
    if (ps->sec == SEC_PROXY)
        return "proxy";
    if (ps->sec == SEC_TARGET) {
        snprintf(buf, len, "target %s", ps->c->targets[ps->c->n_targets - 1].name);
        return buf;
    }
    if (ps->sec == SEC_ACCOUNT) {
        snprintf(buf, len, "account %s", ps->account->name);
        return buf;
    }
    return NULL;
}

void conf_fail_key(struct pstate *ps, const char *key, const char *fmt, ...)
{
    char lab[300], msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    conf_fail_at(ps, ps->lineno, sec_label(ps, lab, sizeof(lab)), key, "%s", msg);
}

bool conf_is_space(char c) { return isspace((unsigned char)c) != 0; }

void conf_trim(const char **s, const char **e)
{
    while (*s < *e && conf_is_space(**s))
        (*s)++;
    while (*e > *s && conf_is_space((*e)[-1]))
        (*e)--;
}

/* inih's find_chars_or_comment: first of chars, or ';' after whitespace. */
static const char *find_chars_or_comment(const char *s, const char *e, const char *chars)
{
    bool was_space = false;
    while (s < e && !strchr(chars, *s) && !(was_space && *s == ';')) {
        was_space = conf_is_space(*s);
        s++;
    }
    return s;
}

/* Classify the line [line, line+len) exactly as inih will. */
static void classify(struct pstate *ps, const char *line, size_t len)
{
    const char *s = line, *e = line + len;

    if (ps->lineno == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3;
    conf_trim(&s, &e);
    if (s == e || *s == ';' || *s == '#') {
        ps->kind = LK_COMMENT;
    } else if (ps->have_prev_key && s > line) {
        ps->kind = LK_CONT;
    } else if (*s == '[') {
        const char *rb = find_chars_or_comment(s + 1, e, "]");
        if (rb == e || *rb != ']') {
            conf_fail_at(ps, ps->lineno, NULL, NULL, "missing ']' in section header");
            return;
        }
        const char *rest = rb + 1;
        while (rest < e && conf_is_space(*rest))
            rest++;
        if (rest < e && *rest != ';') {
            conf_fail_at(ps, ps->lineno, NULL, NULL, "unexpected text after ']'");
            return;
        }
        ps->kind = LK_SECTION;
        ps->have_prev_key = false;
        conf_section_start(ps, s + 1, rb);
    } else {
        const char *q = find_chars_or_comment(s, e, "=:");
        if (q == e || (*q != '=' && *q != ':')) {
            conf_fail_at(ps, ps->lineno, NULL, NULL, "expected 'key = value' or '[section]'");
            return;
        }
        const char *ne = q;
        conf_trim(&s, &ne);
        if (ne == s) {
            conf_fail_at(ps, ps->lineno, NULL, NULL, "key name missing before '%c'", *q);
            return;
        }
        snprintf(ps->key, sizeof(ps->key), "%.*s", (int)(ne - s), s);
        ps->have_prev_key = true;
        ps->kind = LK_KEY;
    }
}

/* inih reader: hands over one physical line per call. */
static char *reader(char *buf, int num, void *stream)
{
    struct pstate *ps = stream;

    if (ps->kind == LK_KEY || ps->kind == LK_CONT)
        conf_fail_at(ps, ps->lineno, NULL, NULL, "internal error: inih skipped this line");
    ps->kind = LK_NONE;
    if (ps->failed || *ps->p == '\0') {
        /* inih's line buffer (its stack) held the last lines, maybe secrets. */
        explicit_bzero(buf, (size_t)num);
        return NULL;
    }
    const char *nl = strchr(ps->p, '\n');
    size_t len = nl ? (size_t)(nl - ps->p) : strlen(ps->p);
    ps->lineno++;
    if (num < 3 || len > (size_t)num - 2) {
        conf_fail_at(ps, ps->lineno, NULL, NULL, "line too long (more than %d characters)",
                     num < 3 ? 0 : num - 2);
        return NULL;
    }
    memcpy(buf, ps->p, len);
    buf[len] = '\n';
    buf[len + 1] = '\0';
    classify(ps, ps->p, len);
    ps->p += len + (nl ? 1 : 0);
    return ps->failed ? NULL : buf;
}

static int lookup(const char *const *names, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], key) == 0)
            return i;
    return -1;
}

static bool inih_name_matches(const char *inih, const char *full, size_t full_len)
{
    size_t n = full_len < INIH_NAME_MAX ? full_len : INIH_NAME_MAX;
    return strlen(inih) == n && memcmp(inih, full, n) == 0;
}

/* The index of key in the current section's table, or -1. */
static int section_key(struct pstate *ps, const char *key, unsigned **line)
{
    int k;
    switch (ps->sec) {
    case SEC_PROXY:
        k = lookup(conf_pkey_names, PK_COUNT, key);
        *line = k < 0 ? NULL : &ps->pkey_line[k];
        return k;
    case SEC_TARGET:
        k = lookup(conf_tkey_names, TK_COUNT, key);
        *line = k < 0 ? NULL : &ps->tkey_line[ps->c->n_targets - 1][k];
        return k;
    case SEC_ACCOUNT:
        k = lookup(conf_akey_names, AK_COUNT, key);
        *line = k < 0 ? NULL : &ps->akey_line[k];
        return k;
    case SEC_NONE:
        break;
    }
    return -1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct pstate *ps = user;
    const char *key = ps->key;
    enum lkind kind = ps->kind;

    if (ps->failed)
        return 0;
    ps->kind = LK_NONE;
    /* A key line passes its name in full; a continuation passes inih's copy. */
    if ((kind != LK_KEY && kind != LK_CONT) ||
        (kind == LK_KEY && strcmp(name, key) != 0) ||
        (kind == LK_CONT && !inih_name_matches(name, key, strlen(key))) ||
        !inih_name_matches(section, ps->sec ? ps->sec_raw : "", ps->sec ? ps->sec_raw_len : 0)) {
        conf_fail_at(ps, ps->lineno, NULL, NULL,
                     "internal error: inih read this line differently");
        return 0;
    }
    if (ps->sec == SEC_NONE) {
        conf_fail_at(ps, ps->lineno, NULL, key, "key outside of any section");
        return 0;
    }
    unsigned *line;
    int k = section_key(ps, key, &line);
    if (k < 0) {
        /* The backend CHAP password moved out of this file (issue 10). */
        if (ps->sec == SEC_TARGET && (strcmp(key, "backend_chap_username") == 0 ||
                                      strcmp(key, "backend_chap_password") == 0))
            conf_fail_key(ps, key, "secrets live in auth_file; use backend_chap_account");
        else
            conf_fail_key(ps, key, "unknown key");
        return 0;
    }
    if (kind == LK_CONT) {
        /* Continuation line; strip an inline comment like inih does for keys. */
        const char *e = find_chars_or_comment(value, value + strlen(value), "");
        const char *s = value;
        conf_trim(&s, &e);
        /* '=' says a key was indented; except base64 padding ending a secret. */
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (eq && (ps->sec != SEC_ACCOUNT || strspn(eq, "=") != (size_t)(e - eq)))
            conf_fail_key(ps, key,
                          "indented line continues the value of %s; do not indent keys", key);
        else
            conf_continue_key(ps, k, s, (size_t)(e - s));
        return !ps->failed;
    }
    if (*line) {
        conf_fail_key(ps, key, "duplicate key (first set at line %u)", *line);
        return 0;
    }
    *line = ps->lineno;
    /* Empty stats_listen turns stats off; listen may go on on the next lines. */
    if (*value == '\0' && !(ps->sec == SEC_PROXY && (k == PK_STATS_LISTEN || k == PK_LISTEN))) {
        conf_fail_key(ps, key, "empty value");
        return 0;
    }
    /* "key =; x" holds "; x", but written back as "key = ; x" it reads as
     * an empty value and a comment: refused, so every file prints back to
     * one that loads the same (fuzz_conf checks that). */
    if (*value == ';') {
        conf_fail_key(ps, key, "a value may not start with ';' (it reads as a comment)");
        return 0;
    }
    conf_set_key(ps, k, value);
    return !ps->failed;
}

bool conf_parse(struct pstate *ps, const char *text)
{
    ps->p = text;
    int rc = ini_parse_stream(reader, ps, handler, ps);
    if (rc > 0)
        conf_fail_at(ps, (unsigned)rc, NULL, NULL, "internal error: inih rejected this line");
    else if (rc < 0)
        conf_fail_at(ps, ps->lineno, NULL, NULL, "out of memory");
    return !ps->failed;
}

/* Cross-key checks once the whole file is read. */
static void finish(struct pstate *ps)
{
    struct conf *c = ps->c;
    unsigned last = ps->lineno ? ps->lineno : 1;
    char lab[300];

    if (!ps->proxy_line) {
        conf_fail_at(ps, last, "proxy", NULL, "section missing (required)");
        return;
    }
    if (!ps->pkey_line[PK_LISTEN]) {
        conf_fail_at(ps, ps->proxy_line, "proxy", "listen", "missing (required)");
        return;
    }
    if (c->n_listen == 0) {
        conf_fail_at(ps, ps->pkey_line[PK_LISTEN], "proxy", "listen", "no portal given");
        return;
    }
    if (!ps->pkey_line[PK_FIRST_BURST]) {
        if (c->first_burst_length > c->max_burst_length)
            c->first_burst_length = c->max_burst_length;
    } else if (c->first_burst_length > c->max_burst_length) {
        conf_fail_at(ps, ps->pkey_line[PK_FIRST_BURST], "proxy", "first_burst_length",
                     "%u is larger than max_burst_length (%u)", c->first_burst_length,
                     c->max_burst_length);
        return;
    }
    if (!ps->pkey_line[PK_STATS_TLS_CERT] != !ps->pkey_line[PK_STATS_TLS_KEY]) {
        bool cert = ps->pkey_line[PK_STATS_TLS_CERT] != 0;
        conf_fail_at(ps, ps->pkey_line[cert ? PK_STATS_TLS_CERT : PK_STATS_TLS_KEY], "proxy",
                     cert ? "stats_tls_cert" : "stats_tls_key", "set without %s (both or neither)",
                     cert ? "stats_tls_key" : "stats_tls_cert");
        return;
    }
    for (size_t i = 0; i < c->n_targets; i++) {
        const struct conf_target *t = &c->targets[i];
        const unsigned *kl = ps->tkey_line[i];
        snprintf(lab, sizeof(lab), "target %s", t->name);
        if (!kl[TK_PORTAL] || !kl[TK_TARGET]) {
            conf_fail_at(ps, t->line, lab, kl[TK_PORTAL] ? "backend_target" : "backend_portal",
                         "missing (required)");
            return;
        }
        if (t->n_backend_portals == 0) {
            conf_fail_at(ps, kl[TK_PORTAL], lab, "backend_portal", "no portal given");
            return;
        }
    }
    if (c->n_targets == 0)
        conf_fail_at(ps, last, NULL, NULL,
                     "no [target NAME] section (at least one is required)");
}

int conf_load_strings(const char *text, const char *name, const char *auth_text,
                      struct conf **out, char *err, size_t err_len)
{
    struct pstate ps;

    memset(&ps, 0, sizeof(ps));
    ps.name = name ? name : "<string>";
    ps.err = err;
    ps.err_len = err_len;
    if (err && err_len)
        err[0] = '\0';
    *out = NULL;
    text = text ? text : "";
    if (strnlen(text, CONF_MAX_BYTES + 1) > CONF_MAX_BYTES) {
        conf_fail_at(&ps, 1, NULL, NULL, "file too large (more than %u bytes)", CONF_MAX_BYTES);
        return -1;
    }
    ps.c = calloc(1, sizeof(*ps.c));
    if (!ps.c || !(ps.c->path = strdup(ps.name))) {
        conf_fail_at(&ps, 1, NULL, NULL, "out of memory");
        free(ps.c);
        return -1;
    }
    conf_set_defaults(ps.c);
    if (conf_parse(&ps, text))
        finish(&ps);
    if (!ps.failed)
        conf_auth_load(&ps, auth_text);
    if (!ps.failed)
        conf_auth_check(&ps);
    free(ps.tkey_line);
    free(ps.auth_path);
    if (ps.failed) {
        conf_free(ps.c);
        return -1;
    }
    *out = ps.c;
    return 0;
}

int conf_load_string(const char *text, const char *name, struct conf **out, char *err,
                     size_t err_len)
{
    return conf_load_strings(text, name, NULL, out, err, err_len);
}

int conf_load(const char *path, struct conf **out, char *err, size_t err_len)
{
    char *text;

    *out = NULL;
    if (conf_read_file(path, false, &text, err, err_len) != 0)
        return -1;
    int rc = conf_load_string(text, path, out, err, err_len);
    conf_free_text(text);
    return rc;
}

void conf_free(struct conf *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_targets; i++) {
        struct conf_target *t = &c->targets[i];
        free(t->name);
        free(t->backend_target);
        free(t->initiator_name);
        conf_access_free(&t->access);
        for (size_t k = 0; k < t->n_allowed_initiators; k++)
            free(t->allowed_initiators[k]);
        free(t->allowed_initiators);
    }
    free(c->targets);
    conf_access_free(&c->discovery);
    for (size_t i = 0; i < c->n_accounts; i++)
        conf_account_free(c->accounts[i]);
    free(c->accounts);
    free(c->auth_file);
    free(c->listen);
    free(c->path);
    free(c->stats_token_file);
    if (c->stats_token) {
        explicit_bzero(c->stats_token, strlen(c->stats_token));
        free(c->stats_token);
    }
    free(c->stats_tls_cert);
    free(c->stats_tls_key);
    free(c);
}

const struct conf_target *conf_find_target(const struct conf *c, const char *name)
{
    for (size_t i = 0; i < c->n_targets; i++)
        if (strcasecmp(c->targets[i].name, name) == 0)
            return &c->targets[i];
    return NULL;
}

const struct conf_account *conf_find_account(const struct conf *c, const char *name)
{
    for (size_t i = 0; i < c->n_accounts; i++)
        if (strcmp(c->accounts[i]->name, name) == 0)
            return c->accounts[i];
    return NULL;
}

const char *conf_coherence_name(enum conf_coherence m)
{
    switch (m) {
    case CONF_COHERENCE_VERIFY: return "verify";
    case CONF_COHERENCE_EXCLUSIVE: return "exclusive";
    case CONF_COHERENCE_OFF: return "off";
    }
    return "?";
}
