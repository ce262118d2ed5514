/* The HTML report: report strings stay text (no string can end the JSON's script
 * element or start markup), the page fetches nothing, the CSP hashes are those of
 * the inline style and script, the verdict is in the static HTML, and the file is
 * written whole or not at all. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "htmlreport.h"
#include "report.h"
#include "report_fixture.h"

/* Closes the script element, opens another, and carries U+2028 and an HTML comment opener. */
#define EVIL "</script><script>alert(1)</script> \xe2\x80\xa8 <!-- & \"q\" 'a'"
#define SERVER "https://media.example.net:8443"

/* The shared clean run with 10 % upstream loss, evaluated: the verdict is fail.
 * The server is a URL, so the page holds one, as text. */
static void lossy_report(struct rp_report *r)
{
    clean_report(r);
    snprintf(r->server, sizeof r->server, SERVER);
    set_loss(&r->up, 50);
    evaluate_default(r);
}

static char *page_of(const struct rp_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(rp_report_html(r, f), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static size_t count_ci(const char *hay, const char *needle)
{
    size_t n = 0, l = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, l) == 0)
            n++;
    return n;
}

/* The text of the element that starts with open (up to the next "</script"), malloc'd. */
static char *element_text(const char *page, const char *open)
{
    const char *s = strstr(page, open);
    assert_non_null(s);
    s += strlen(open);
    const char *e = strstr(s, "</script");
    assert_non_null(e);
    return strndup(s, (size_t)(e - s));
}

static void test_a_cause_that_closes_the_script_stays_text(void **state)
{
    (void)state;
    struct rp_report r;
    lossy_report(&r);
    snprintf(r.cause, sizeof r.cause, "%s", EVIL);
    snprintf(r.remediation, sizeof r.remediation, "%s", EVIL);
    char *page = page_of(&r);
    /* The JSON's element and the page's script: no third, and each closes once. */
    assert_int_equal(count_ci(page, "<script"), 2);
    assert_int_equal(count_ci(page, "</script"), 2);
    assert_int_equal(count_ci(page, "<!--"), 0);
    assert_null(strstr(page, "<script>alert"));
    /* The static HTML shows it as text. */
    assert_non_null(strstr(page, "<span id=\"cause\">&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    /* The embedded JSON: no '<' or raw U+2028, and it parses back to the same string. */
    char *json = element_text(page, "<script type=\"application/json\" id=\"report\">");
    assert_null(strchr(json, '<'));
    assert_null(strstr(json, "\xe2\x80\xa8"));
    assert_non_null(strstr(json, "\\u2028"));
    json_error_t jerr;
    json_t *o = json_loads(json, 0, &jerr);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "cause")), EVIL);
    assert_string_equal(json_string_value(json_object_get(o, "remediation")), EVIL);
    json_decref(o);
    free(json);
    free(page);
}

static void test_the_page_names_no_external_asset(void **state)
{
    (void)state;
    struct rp_report r;
    lossy_report(&r);
    char *page = page_of(&r);
    const char *refs[] = { "src=", "href=", "url(", "@import", "<link", "<img", "<iframe", "<object", "<embed",
                           "fetch(", "XMLHttpRequest", "innerHTML", "<base" };
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
        if (count_ci(page, refs[i]) != 0)
            fail_msg("the page holds \"%s\"", refs[i]);
    /* The only URL is the report's own server, as text. */
    for (char *p = strstr(page, SERVER); p; p = strstr(p, SERVER))
        memset(p, 'x', strlen(SERVER));
    assert_int_equal(count_ci(page, "http://"), 0);
    assert_int_equal(count_ci(page, "https://"), 0);
    assert_int_equal(count_ci(page, "//"), 0);
    free(page);
}

/* "'sha256-...'" of text, as the page's CSP must name it. */
static void csp_source(const char *text, char *out, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE], b64[128];
    unsigned int mdlen;
    assert_int_equal(EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL), 1);
    EVP_EncodeBlock(b64, md, (int)mdlen);
    snprintf(out, len, "'sha256-%s'", (const char *)b64);
}

static void test_the_csp_allows_exactly_the_inline_style_and_script(void **state)
{
    (void)state;
    struct rp_report r;
    lossy_report(&r);
    char *page = page_of(&r);
    char want[160], csp[400];
    const char *m = strstr(page, "<meta http-equiv=\"Content-Security-Policy\" content=\"");
    assert_non_null(m);
    m = strchr(m, '"') + 1;
    m = strstr(m, "content=\"") + 9;
    snprintf(csp, sizeof csp, "%.*s", (int)strcspn(m, "\""), m);
    assert_non_null(strstr(csp, "default-src 'none'"));
    assert_null(strstr(csp, "unsafe"));
    char *script = element_text(page, "</script>\n<script>");
    csp_source(script, want, sizeof want);
    char expect[200];
    snprintf(expect, sizeof expect, "script-src %s;", want);
    assert_non_null(strstr(csp, expect));
    const char *s = strstr(page, "<style>") + 7;
    char *style = strndup(s, (size_t)(strstr(s, "</style>") - s));
    csp_source(style, want, sizeof want);
    snprintf(expect, sizeof expect, "style-src %s;", want);
    assert_non_null(strstr(csp, expect));
    free(style);
    free(script);
    free(page);
}

static void test_the_verdict_is_in_the_static_html(void **state)
{
    (void)state;
    struct rp_report r;
    lossy_report(&r);
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
    char *page = page_of(&r);
    const char *v = strstr(page, "<strong id=\"verdict\">fail</strong>");
    const char *first_script = strstr(page, "<script");
    assert_non_null(v);
    assert_true(v < first_script);
    assert_non_null(strstr(page, "<span id=\"diagnosis\">degraded</span>"));
    assert_non_null(strstr(page, "class=\"box v-fail\""));
    assert_non_null(strstr(page, "<title>rtpprobe: fail, " SERVER "</title>"));
    free(page);
}

static int entries_in(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void test_the_file_is_written_whole_and_readable(void **state)
{
    (void)state;
    struct rp_report r;
    lossy_report(&r);
    char dir[] = "/tmp/rp-html-XXXXXX", path[256], err[256] = "";
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/report.html", dir);
    assert_int_equal(rp_report_write_html(&r, path, err, sizeof err), 0);
    assert_int_equal(rp_report_write_html(&r, path, err, sizeof err), 0); /* replaces */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_true(st.st_size > 1000);
    assert_int_equal(entries_in(dir), 1); /* no temporary file left */
    unlink(path);
    /* The page is complete but cannot take the name (a directory holds it): an
     * error, and the temporary file is gone. */
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(rp_report_write_html(&r, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "report.html"));
    assert_int_equal(entries_in(dir), 1);
    rmdir(path);
    rmdir(dir);
    /* A directory that does not exist: an error that names the file, nothing written. */
    assert_int_equal(rp_report_write_html(&r, "/nonexistent-dir/report.html", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent-dir/report.html"));
    assert_int_equal(rp_report_write_html(&r, "", err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_cause_that_closes_the_script_stays_text),
        cmocka_unit_test(test_the_page_names_no_external_asset),
        cmocka_unit_test(test_the_csp_allows_exactly_the_inline_style_and_script),
        cmocka_unit_test(test_the_verdict_is_in_the_static_html),
        cmocka_unit_test(test_the_file_is_written_whole_and_readable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
