/*
 * Object keys and the rules between cache objects (lu_key.h), written as
 * the interleavings of issue 9's case 1 (per-host LUN numbers, a template
 * SAN repeating designators) and case 2 (writes through another path).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lu_key.h"

static struct scsi_devid naa(uint8_t last)
{
    struct scsi_devid d = { .code_set = 1, .type = 3, .len = 8,
                            .id = { 0x60, 0, 0x0e, 0x42, 0, 0, 0, last } };
    return d;
}

static struct lu_key key(const char *addr, const char *target, uint8_t id)
{
    struct lu_key k;
    struct scsi_devid d = naa(id);
    assert_int_equal(lu_key_set(&k, addr, target, &d), 0);
    return k;
}

/* Two tgtd hosts built from one template report the same designator for
 * different LUs: different keys, so never one object; a write through one
 * still makes the other forget its negatives (they may be one LU). */
static void test_template_hosts(void **state)
{
    (void)state;
    struct lu_key a = key("10.0.0.1:3260", "iqn.2026-01.com.example:san", 1);
    struct lu_key b = key("10.0.0.2:3260", "iqn.2026-01.com.example:san", 1);
    struct lu_key c = key("10.0.0.1:3260", "iqn.2026-01.com.example:san", 2);

    assert_false(lu_key_equal(&a, &b));
    assert_true(lu_key_equal(&a, &a));
    assert_true(lu_key_mutation_reaches(&a, &b, false));
    assert_false(lu_key_mutation_reaches(&a, &c, false));     /* another designator */
    assert_false(lu_key_mutation_reaches(&a, &a, false));     /* logged by itself */
}

/* A write to a LUN number the session has not verified may be any LU;
 * a copy offload may write any LU of the SAN. */
static void test_unverified_and_everyone(void **state)
{
    (void)state;
    struct lu_key a = key("10.0.0.1:3260", "iqn.2026-01.com.example:san", 1);
    struct lu_key c = key("10.0.0.1:3260", "iqn.2026-01.com.example:san", 2);

    assert_true(lu_key_mutation_reaches(NULL, &a, false));
    assert_true(lu_key_mutation_reaches(&a, &c, true));
}

/* Same designator under another target name on the same portal: a second
 * [target] section reaching the LU through another name. */
static void test_target_name_in_key(void **state)
{
    (void)state;
    struct lu_key a = key("10.0.0.1:3260", "iqn.2026-01.com.example:a", 7);
    struct lu_key b = key("10.0.0.1:3260", "iqn.2026-01.com.example:b", 7);

    assert_false(lu_key_equal(&a, &b));
    assert_true(lu_key_mutation_reaches(&b, &a, false));
}

static void test_key_bounds(void **state)
{
    (void)state;
    struct lu_key k;
    struct scsi_devid d = naa(1);
    char longname[300];

    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(lu_key_set(&k, longname, "t", &d), -1);
    assert_int_equal(lu_key_set(&k, "a", longname, &d), -1);
    longname[LU_KEY_TARGET_MAX - 1] = '\0';
    assert_int_equal(lu_key_set(&k, "a", longname, &d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_hosts),
        cmocka_unit_test(test_unverified_and_everyone),
        cmocka_unit_test(test_target_name_in_key),
        cmocka_unit_test(test_key_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
