/* Unit tests for src/errbuf.c: the text fits the caller's buffer, a caller
 * that wants no text may pass none, and the answer is always -1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "errbuf.h"

static void test_formats_into_the_buffer(void **state)
{
    (void)state;
    char err[64];
    assert_int_equal(rp_errf(err, sizeof err, "%s: %d bytes", "secret", 12), -1);
    assert_string_equal(err, "secret: 12 bytes");
}

static void test_truncates_to_fit_and_terminates(void **state)
{
    (void)state;
    char err[8];
    memset(err, 'x', sizeof err);
    assert_int_equal(rp_errf(err, sizeof err, "%s", "a longer reason"), -1);
    assert_string_equal(err, "a longe");
}

static void test_no_buffer_writes_nothing(void **state)
{
    (void)state;
    char err[4] = "abc";
    assert_int_equal(rp_errf(NULL, 16, "%s", "ignored"), -1);
    assert_int_equal(rp_errf(err, 0, "%s", "ignored"), -1);
    assert_string_equal(err, "abc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats_into_the_buffer),
        cmocka_unit_test(test_truncates_to_fit_and_terminates),
        cmocka_unit_test(test_no_buffer_writes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
