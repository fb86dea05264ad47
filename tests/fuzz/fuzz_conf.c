/*
 * libFuzzer target for the configuration loader (conf/).  The input is the
 * file text, then optionally a NUL byte and the text of its auth_file
 * (conf_load_strings: no file is read).  Checks: an error is one printable
 * line, "fuzz ;.conf:LINE: ..." when it is about the main file, and never an
 * internal error (our line classifier and inih disagreeing); a loaded
 * configuration keeps the load-time rules (accounts exist and hold secrets
 * of 12..255 bytes, no secret serves both CHAP directions, no target lends
 * the SAN's trust to anyone unless allow_anonymous), every access entry
 * admits what it names, and the printed text loads back and prints the same.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conf.h"

#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *print_to_string(const struct conf *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(f != NULL);
    conf_print(c, f);
    CHECK(fclose(f) == 0);
    return buf;
}

/* The main file's name: no auth_file value can be it, as inih cuts a value
 * at " ;" (with no '/' in it, auth_file's path is the value as written). */
#define NAME "fuzz ;.conf"

/* "FILE:LINE: what", FILE being NAME or the auth_file path the input gave
 * (which may hold anything, ':' too: then only the bytes are checked). */
static void check_error(const char *err)
{
    static const char prefix[] = NAME ":";
    bool main_file = strncmp(err, prefix, sizeof(prefix) - 1) == 0;
    const char *p;

    for (p = err; *p; p++)
        CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
    p = strchr(err, ':');
    CHECK(p != NULL);
    p++;
    if (!main_file && !(*p >= '1' && *p <= '9'))
        return;
    CHECK(*p >= '1' && *p <= '9');
    while (*p >= '0' && *p <= '9')
        p++;
    if (!main_file && !(p[0] == ':' && p[1] == ' '))
        return;
    CHECK(p[0] == ':' && p[1] == ' ' && p[2] != '\0');
    /* A key name cannot hold ':', so only conf.c itself writes this here. */
    CHECK(strncmp(p + 2, "internal error: inih", 20) != 0);
}

static bool owned_account(const struct conf *c, const struct conf_account *a)
{
    return a->secret && a->secret_len >= CONF_SECRET_MIN && a->secret_len <= CONF_SECRET_MAX &&
           a->secret[a->secret_len] == '\0' && conf_find_account(c, a->name) == a;
}

/* Each entry of the rule admits its own address; the rule's accounts are c's. */
static void check_access(const struct conf *c, const struct conf_access *a)
{
    CHECK(a->chap_algorithms != 0 && (a->chap_algorithms & ~CONF_CHAP_ALL) == 0);
    for (size_t i = 0; i < a->n_chap_accounts; i++) {
        CHECK(owned_account(c, a->chap_accounts[i]));
        CHECK(conf_access_account(a, a->chap_accounts[i]->name) == a->chap_accounts[i]);
    }
    CHECK(conf_access_requires_chap(a) == (a->n_chap_accounts > 0));
    CHECK(!a->mutual_account || (a->n_chap_accounts && owned_account(c, a->mutual_account)));
    for (size_t i = 0; i < a->n_addresses; i++) {
        const struct conf_net *n = &a->addresses[i];
        struct sockaddr_storage ss;
        memset(&ss, 0, sizeof(ss));
        if (n->family == AF_INET) {
            struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
            sin->sin_family = AF_INET;
            memcpy(&sin->sin_addr, n->addr, 4);
        } else {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
            sin6->sin6_family = AF_INET6;
            memcpy(&sin6->sin6_addr, n->addr, 16);
        }
        CHECK(conf_access_admits_address(a, (struct sockaddr *)&ss));
    }
}

/* RFC 7143 9.2.1: no mutual secret equals any initiator-side secret. */
static void check_mutual(const struct conf_access *m, const struct conf_access *a)
{
    for (size_t i = 0; m->mutual_account && i < a->n_chap_accounts; i++) {
        const struct conf_account *x = m->mutual_account, *y = a->chap_accounts[i];
        CHECK(x->secret_len != y->secret_len || memcmp(x->secret, y->secret, x->secret_len) != 0);
    }
}

static void check_target(const struct conf *c, const struct conf_target *t)
{
    bool restricted = t->access.n_chap_accounts || t->access.n_addresses ||
                      t->n_allowed_initiators;

    CHECK(t->backend_target != NULL);
    CHECK(t->page_size == 0 || (t->page_size & (t->page_size - 1)) == 0);
    CHECK(conf_find_target(c, t->name) == t);
    check_access(c, &t->access);
    CHECK(!t->backend_account || (owned_account(c, t->backend_account) &&
                                  !memchr(t->backend_account->secret, 0,
                                          t->backend_account->secret_len)));
    CHECK(!(t->allow_anonymous && restricted));
    CHECK(restricted || t->allow_anonymous || (t->initiator_name && !t->backend_account));
    for (size_t i = 0; i < t->n_allowed_initiators; i++) {
        char name[256];
        snprintf(name, sizeof(name), "%s", t->allowed_initiators[i]);
        size_t n = strlen(name);
        if (name[n - 1] == '*')
            name[n - 1] = '\0';     /* the prefix itself matches */
        CHECK(conf_target_admits_initiator(t, name));
    }
    CHECK(conf_target_admits_initiator(t, NULL) == (t->n_allowed_initiators == 0));
    CHECK(conf_target_admits_address(t, NULL) == (t->access.n_addresses == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 2);
    CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = text[size + 1] = '\0';
    /* After the first NUL: auth_file (empty when there is none). */
    const char *auth = text + strlen(text) + 1;

    struct conf *c = NULL;
    char err[512];
    if (conf_load_strings(text, NAME, auth, &c, err, sizeof(err)) != 0) {
        CHECK(c == NULL);
        check_error(err);
        free(text);
        return 0;
    }
    CHECK(c != NULL && c->n_listen >= 1 && c->n_listen <= 16 && c->n_targets >= 1);
    CHECK(c->first_burst_length <= c->max_burst_length);
    CHECK(c->auth_file || c->n_accounts == 0);
    for (size_t i = 0; i < c->n_accounts; i++)
        CHECK(owned_account(c, c->accounts[i]));
    check_access(c, &c->discovery);
    for (size_t i = 0; i < c->n_targets; i++)
        check_target(c, &c->targets[i]);
    for (size_t i = 0; i <= c->n_targets; i++) {
        const struct conf_access *m = i ? &c->targets[i - 1].access : &c->discovery;
        check_mutual(m, &c->discovery);
        for (size_t j = 0; j < c->n_targets; j++)
            check_mutual(m, &c->targets[j].access);
    }

    char *p1 = print_to_string(c);
    struct conf *c2 = NULL;
    CHECK(conf_load_strings(p1, NAME, auth, &c2, err, sizeof(err)) == 0);
    char *p2 = print_to_string(c2);
    CHECK(strcmp(p1, p2) == 0);
    CHECK(c2->n_targets == c->n_targets);
    for (size_t i = 0; i < c->n_targets; i++)
        CHECK(conf_target_equal(&c->targets[i], &c2->targets[i]));
    free(p2);
    conf_free(c2);
    free(p1);
    conf_free(c);
    free(text);
    return 0;
}
