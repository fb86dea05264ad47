/* scsi_lun_decode: SAM-5 4.7 single-level LUN forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scsi_lun.h"

static void peripheral_lun(void **state)
{
    uint32_t lun = 99;
    (void)state;
    assert_int_equal(scsi_lun_decode(0, &lun), 0);
    assert_int_equal(lun, 0);
    assert_int_equal(scsi_lun_decode(0x0005000000000000ull, &lun), 0);
    assert_int_equal(lun, 5);
}

static void flat_lun(void **state)
{
    uint32_t lun = 0;
    (void)state;
    assert_int_equal(scsi_lun_decode(0x4123000000000000ull, &lun), 0);
    assert_int_equal(lun, 0x0123);
}

static void refused_forms(void **state)
{
    uint32_t lun = 7;
    (void)state;
    assert_int_equal(scsi_lun_decode(0x0105000000000000ull, &lun), -1); /* bus 1 */
    assert_int_equal(scsi_lun_decode(0x0000000100000000ull, &lun), -1); /* second level */
    assert_int_equal(scsi_lun_decode(0x8000000000000000ull, &lun), -1); /* logical unit */
    assert_int_equal(scsi_lun_decode(0xc000000000000000ull, &lun), -1); /* extended */
    assert_int_equal(lun, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(peripheral_lun),
        cmocka_unit_test(flat_lun),
        cmocka_unit_test(refused_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
