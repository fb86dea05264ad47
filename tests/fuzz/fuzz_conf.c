/*
 * libFuzzer target for the configuration loader (conf/).  The input is the
 * file text.  Checks: an error is one printable line "fuzz.conf:LINE: ..."
 * and never an internal error (our line classifier and inih disagreeing);
 * a loaded configuration prints, and the printed text loads back and prints
 * the same (unless it masks a CHAP password, which cannot read back).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void check_error(const char *err)
{
    static const char prefix[] = "fuzz.conf:";
    CHECK(strncmp(err, prefix, sizeof(prefix) - 1) == 0);
    const char *p = err + sizeof(prefix) - 1;
    CHECK(*p >= '1' && *p <= '9');
    while (*p >= '0' && *p <= '9')
        p++;
    CHECK(p[0] == ':' && p[1] == ' ' && p[2] != '\0');
    /* A key name cannot hold ':', so only conf.c itself writes this here. */
    CHECK(strncmp(p + 2, "internal error: inih", 20) != 0);
    for (p = err; *p; p++)
        CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';

    struct conf *c = NULL;
    char err[512];
    if (conf_load_string(text, "fuzz.conf", &c, err, sizeof(err)) != 0) {
        CHECK(c == NULL);
        check_error(err);
        free(text);
        return 0;
    }
    CHECK(c != NULL && c->n_listen >= 1 && c->n_listen <= 16 && c->n_targets >= 1);
    CHECK(c->first_burst_length <= c->max_burst_length);
    bool chap = false;
    for (size_t i = 0; i < c->n_targets; i++) {
        const struct conf_target *t = &c->targets[i];
        CHECK(t->backend_target != NULL);
        CHECK(!t->backend_chap_username == !t->backend_chap_password);
        CHECK(t->page_size == 0 || (t->page_size & (t->page_size - 1)) == 0);
        CHECK(conf_find_target(c, t->name) == t);
        chap |= t->backend_chap_password != NULL;
    }

    char *p1 = print_to_string(c);
    if (!chap) {
        struct conf *c2 = NULL;
        CHECK(conf_load_string(p1, "fuzz.conf", &c2, err, sizeof(err)) == 0);
        char *p2 = print_to_string(c2);
        CHECK(strcmp(p1, p2) == 0);
        free(p2);
        conf_free(c2);
    }
    free(p1);
    conf_free(c);
    free(text);
    return 0;
}
