/* The node_exporter textfile: values and their units, label escaping,
 * unmeasured values left out, and the atomic replace (the rename happens, a
 * failure leaves the old file and no temporary file behind). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "report.h"
#include "filereplace.h"
#include "textfile.h"

static void clean_dir(struct rp_dir_report *d, uint64_t sent)
{
    memset(d, 0, sizeof *d);
    d->measured = true;
    d->sent = sent;
    d->rx.received = sent;
    d->rx.expected = sent;
    d->rx.jitter_mean_ms = 1.2;
    d->rx.delay_rise_ms = 0.5;
    d->mos = 4.409;
}

static void clean_report(struct rp_report *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->codec, sizeof r->codec, "pcmu");
    snprintf(r->transport, sizeof r->transport, "rtp");
    snprintf(r->server, sizeof r->server, "https://media.example.net:8743");
    clean_dir(&r->up, 500);
    clean_dir(&r->down, 512);
    r->has_rtt = true;
    r->rtt_avg_ms = 42.5;
    r->verdict = RP_VERDICT_PASS;
}

static const struct rp_textfile_run RUN = { .agent = "agent-1", .timestamp_s = 1765000000.5, .duration_s = 11.25 };

/* The file's text; the caller frees it. */
static char *format(const struct rp_report *r, const struct rp_textfile_run *run)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    assert_non_null(mem);
    assert_int_equal(rp_textfile_format(r, run, mem), 0);
    assert_int_equal(fclose(mem), 0);
    return buf;
}

#define LABELS "agent=\"agent-1\",server=\"https://media.example.net:8743\",codec=\"pcmu\",transport=\"rtp\""

static void assert_line(const char *text, const char *line)
{
    char want[1024];
    snprintf(want, sizeof want, "\n%s\n", line);
    /* A leading "\n" finds the first line too when text is read from its "# HELP". */
    char *all = malloc(strlen(text) + 2);
    assert_non_null(all);
    all[0] = '\n';
    strcpy(all + 1, text);
    if (!strstr(all, want))
        fail_msg("no line \"%s\" in:\n%s", line, text);
    free(all);
}

static size_t count(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_values_in_base_units_with_all_labels(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.up.rx.received = 490;
    r.up.rx.lost = 10;
    r.up.rx.loss_pct = 2.0;
    char *t = format(&r, &RUN);
    assert_line(t, "rtpprobe_mos{" LABELS ",direction=\"upstream\"} 4.41");
    assert_line(t, "rtpprobe_loss_ratio{" LABELS ",direction=\"upstream\"} 0.02");
    assert_line(t, "rtpprobe_loss_ratio{" LABELS ",direction=\"downstream\"} 0");
    assert_line(t, "rtpprobe_jitter_seconds{" LABELS ",direction=\"downstream\"} 0.0012");
    assert_line(t, "rtpprobe_delay_rise_seconds{" LABELS ",direction=\"upstream\"} 0.0005");
    assert_line(t, "rtpprobe_packets_sent{" LABELS ",direction=\"upstream\"} 500");
    assert_line(t, "rtpprobe_packets_sent{" LABELS ",direction=\"downstream\"} 512");
    assert_line(t, "rtpprobe_packets_lost{" LABELS ",direction=\"upstream\"} 10");
    assert_line(t, "rtpprobe_rtt_seconds{" LABELS "} 0.0425");
    assert_line(t, "rtpprobe_verdict{" LABELS "} 0");
    assert_line(t, "rtpprobe_last_run_timestamp_seconds{" LABELS "} 1765000000.5");
    assert_line(t, "rtpprobe_run_duration_seconds{" LABELS "} 11.25");
    free(t);
}

static void test_each_family_has_help_and_type_once_before_its_samples(void **state)
{
    (void)state;
    static const char *const names[] = {
        "rtpprobe_mos", "rtpprobe_loss_ratio", "rtpprobe_jitter_seconds", "rtpprobe_delay_rise_seconds",
        "rtpprobe_packets_sent", "rtpprobe_packets_lost", "rtpprobe_rtt_seconds", "rtpprobe_verdict",
        "rtpprobe_last_run_timestamp_seconds", "rtpprobe_run_duration_seconds",
    };
    struct rp_report r;
    clean_report(&r);
    char *t = format(&r, &RUN);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char help[128], type[128], sample[128];
        snprintf(help, sizeof help, "# HELP %s ", names[i]);
        snprintf(type, sizeof type, "# TYPE %s gauge\n", names[i]);
        snprintf(sample, sizeof sample, "\n%s{", names[i]);
        assert_int_equal(count(t, help), 1);
        assert_int_equal(count(t, type), 1);
        assert_true(strstr(t, help) < strstr(t, type));
        assert_true(strstr(t, type) < strstr(t, sample));
    }
    /* Ten families, and every line is a comment or a sample with all four labels. */
    assert_int_equal(count(t, "# TYPE "), 10);
    assert_int_equal(count(t, "\nrtpprobe_"), count(t, LABELS));
    free(t);
}

static void test_label_values_are_escaped(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(rp_textfile_escape("a\"b\\c\nd", out, sizeof out), 10);
    assert_string_equal(out, "a\\\"b\\\\c\\nd");
    /* A value that does not fit is cut before an escape, never inside one. */
    assert_int_equal(rp_textfile_escape("ab\"", out, 4), 2);
    assert_string_equal(out, "ab");

    struct rp_report r;
    clean_report(&r);
    snprintf(r.server, sizeof r.server, "https://h/\"x\\y\nz");
    char *t = format(&r, &RUN);
    assert_non_null(strstr(t, "server=\"https://h/\\\"x\\\\y\\nz\""));
    assert_null(strstr(t, "y\nz")); /* no raw newline inside a sample */
    free(t);
}

static void test_no_credentials_of_the_server_url(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    snprintf(r.server, sizeof r.server, "https://user:s3cret@media.example.net:8743");
    char *t = format(&r, &RUN);
    assert_null(strstr(t, "s3cret"));
    assert_line(t, "rtpprobe_verdict{" LABELS "} 0");
    free(t);
}

static void test_unmeasured_values_are_left_out_not_zero(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    /* Upstream unknown (the daemon's figures rejected), nothing sent either. */
    memset(&r.up, 0, sizeof r.up);
    /* Downstream measured, but not one packet arrived: loss yes, MOS/jitter no. */
    r.down.rx.received = 0;
    r.down.rx.lost = 512;
    r.down.rx.loss_pct = 100;
    r.has_rtt = false;
    r.verdict = RP_VERDICT_FAIL;
    struct rp_textfile_run run = RUN;
    run.duration_s = -1;
    char *t = format(&r, &run);
    assert_null(strstr(t, "direction=\"upstream\""));
    assert_null(strstr(t, "rtpprobe_mos"));
    assert_null(strstr(t, "rtpprobe_jitter_seconds"));
    assert_null(strstr(t, "rtpprobe_delay_rise_seconds"));
    assert_null(strstr(t, "rtpprobe_rtt_seconds"));
    assert_null(strstr(t, "rtpprobe_run_duration_seconds"));
    assert_line(t, "rtpprobe_loss_ratio{" LABELS ",direction=\"downstream\"} 1");
    assert_line(t, "rtpprobe_packets_lost{" LABELS ",direction=\"downstream\"} 512");
    assert_line(t, "rtpprobe_verdict{" LABELS "} 2");
    free(t);

    /* The sender's own count survives an unmeasured receiver (as in the JSON). */
    r.up.sent = 500;
    /* A figure that is no number is not measured either ("NaN" is valid in
     * the format, but it is no MOS). */
    r.down.rx.received = 500;
    r.down.mos = NAN;
    r.down.rx.jitter_mean_ms = INFINITY;
    t = format(&r, &RUN);
    assert_line(t, "rtpprobe_packets_sent{" LABELS ",direction=\"upstream\"} 500");
    assert_null(strstr(t, "rtpprobe_packets_lost{" LABELS ",direction=\"upstream\""));
    assert_null(strstr(t, "rtpprobe_mos"));
    assert_null(strstr(t, "rtpprobe_jitter_seconds"));
    assert_line(t, "rtpprobe_delay_rise_seconds{" LABELS ",direction=\"downstream\"} 0.0005");
    assert_null(strcasestr(t, "nan"));
    assert_null(strcasestr(t, "inf"));
    free(t);
}

static void test_verdict_is_the_nagios_number(void **state)
{
    (void)state;
    static const char *const want[] = { "0", "1", "2", "3" };
    enum rp_verdict v[] = { RP_VERDICT_PASS, RP_VERDICT_WARN, RP_VERDICT_FAIL, RP_VERDICT_UNKNOWN };
    for (size_t i = 0; i < 4; i++) {
        struct rp_report r;
        clean_report(&r);
        r.verdict = v[i];
        char *t = format(&r, &RUN), line[256];
        snprintf(line, sizeof line, "rtpprobe_verdict{" LABELS "} %s", want[i]);
        assert_line(t, line);
        free(t);
    }
}

/* ---- the atomic replace ---- */

struct dir {
    char path[64];
    char file[128];
};

static void dir_make(struct dir *d)
{
    snprintf(d->path, sizeof d->path, "/tmp/rp-textfile-XXXXXX");
    assert_non_null(mkdtemp(d->path));
    snprintf(d->file, sizeof d->file, "%s/rtpprobe.prom", d->path);
}

/* Names in the directory other than . and .., and the first of them. */
static size_t dir_entries(const char *path, char *first, size_t len)
{
    DIR *dp = opendir(path);
    assert_non_null(dp);
    size_t n = 0;
    first[0] = '\0';
    for (struct dirent *e; (e = readdir(dp));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n++ == 0)
            snprintf(first, len, "%s", e->d_name);
    }
    closedir(dp);
    return n;
}

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void assert_file(const char *path, const char *text)
{
    char buf[4096] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_string_equal(buf, text);
}

static void dir_remove(struct dir *d)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->path);
    assert_int_equal(system(cmd), 0);
}

static void test_replace_renames_a_new_file_over_the_old(void **state)
{
    (void)state;
    struct dir d;
    dir_make(&d);
    put_file(d.file, "old\n");
    /* A reader holding the old file keeps reading it whole: not rewritten in place. */
    int old = open(d.file, O_RDONLY);
    assert_true(old >= 0);
    struct stat before, after;
    assert_int_equal(fstat(old, &before), 0);
    char err[256] = "";
    assert_int_equal(rp_file_replace(d.file, "new\n", 4, err, sizeof err), 0);
    assert_file(d.file, "new\n");
    assert_int_equal(stat(d.file, &after), 0);
    assert_true(after.st_ino != before.st_ino);
    assert_int_equal(after.st_mode & 07777, 0644);
    char buf[8] = "";
    assert_int_equal(pread(old, buf, sizeof buf - 1, 0), 4);
    assert_string_equal(buf, "old\n");
    close(old);
    char first[256];
    assert_int_equal(dir_entries(d.path, first, sizeof first), 1); /* no temporary file left */
    assert_string_equal(first, "rtpprobe.prom");
    dir_remove(&d);
}

static void test_write_formats_and_replaces(void **state)
{
    (void)state;
    struct dir d;
    dir_make(&d);
    struct rp_report r;
    clean_report(&r);
    char err[256] = "";
    assert_int_equal(rp_textfile_write(&r, &RUN, d.file, err, sizeof err), 0);
    char *t = format(&r, &RUN);
    assert_file(d.file, t);
    free(t);
    dir_remove(&d);
}

/* The rename fails (the target is a directory) after the temporary file is written. */
static void test_failed_rename_leaves_the_target_and_no_temporary_file(void **state)
{
    (void)state;
    struct dir d;
    dir_make(&d);
    assert_int_equal(mkdir(d.file, 0755), 0);
    char inside[256], err[512] = "", first[256];
    snprintf(inside, sizeof inside, "%s/keep", d.file);
    put_file(inside, "kept\n");
    assert_int_equal(rp_file_replace(d.file, "new\n", 4, err, sizeof err), -1);
    assert_non_null(strstr(err, d.file));
    assert_non_null(strstr(err, "rename"));
    assert_file(inside, "kept\n");
    assert_int_equal(dir_entries(d.path, first, sizeof first), 1);
    assert_string_equal(first, "rtpprobe.prom");
    dir_remove(&d);
}

/* A write that fails half-way (the file size limit: EFBIG, as a full disk
 * would fail it) keeps the old file as it was. */
static void test_failed_write_keeps_the_old_file(void **state)
{
    (void)state;
    struct dir d;
    dir_make(&d);
    put_file(d.file, "old\n");
    struct rlimit saved, small = { .rlim_cur = 8 };
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    small.rlim_max = saved.rlim_max;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    char err[512] = "", first[256];
    int rc = rp_file_replace(d.file, "a longer new text\n", 18, err, sizeof err);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "write"));
    assert_file(d.file, "old\n");
    assert_int_equal(dir_entries(d.path, first, sizeof first), 1);
    dir_remove(&d);
}

static void test_missing_directory_is_an_error(void **state)
{
    (void)state;
    char err[512] = "";
    assert_int_equal(rp_file_replace("/nonexistent-rp/x.prom", "x\n", 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent-rp/x.prom"));
    assert_non_null(strstr(err, strerror(ENOENT)));
    assert_int_equal(rp_file_replace("/tmp/", "x\n", 2, err, sizeof err), -1);
}

/* A directory the writer may not write to (read-only for it). Root writes
 * anyway, so as root the replace runs in a child that became nobody. */
static void test_unwritable_directory_keeps_the_old_file(void **state)
{
    (void)state;
    struct dir d;
    dir_make(&d);
    put_file(d.file, "old\n");
    assert_int_equal(chmod(d.path, 0555), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[512] = "";
        if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
            _exit(2);
        int rc = rp_file_replace(d.file, "new\n", 4, err, sizeof err);
        _exit(rc == -1 && strstr(err, strerror(EACCES)) ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_file(d.file, "old\n");
    char first[256];
    assert_int_equal(dir_entries(d.path, first, sizeof first), 1);
    assert_int_equal(chmod(d.path, 0755), 0);
    dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_in_base_units_with_all_labels),
        cmocka_unit_test(test_each_family_has_help_and_type_once_before_its_samples),
        cmocka_unit_test(test_label_values_are_escaped),
        cmocka_unit_test(test_no_credentials_of_the_server_url),
        cmocka_unit_test(test_unmeasured_values_are_left_out_not_zero),
        cmocka_unit_test(test_verdict_is_the_nagios_number),
        cmocka_unit_test(test_replace_renames_a_new_file_over_the_old),
        cmocka_unit_test(test_write_formats_and_replaces),
        cmocka_unit_test(test_failed_rename_leaves_the_target_and_no_temporary_file),
        cmocka_unit_test(test_failed_write_keeps_the_old_file),
        cmocka_unit_test(test_missing_directory_is_an_error),
        cmocka_unit_test(test_unwritable_directory_keeps_the_old_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
