/* Threshold ranges as the Monitoring Plugins development guidelines define them
 * (https://www.monitoring-plugins.org/doc/guidelines.html#THRESHOLDFORMAT):
 *
 *   10      alert if x < 0 or x > 10
 *   10:     alert if x < 10
 *   ~:10    alert if x > 10
 *   10:20   alert if x < 10 or x > 20
 *   @10:20  alert if 10 <= x <= 20
 *
 * and the probe's warning and critical ranges per metric (-w/-c METRIC=RANGE). */
#ifndef RP_THRESHOLD_H
#define RP_THRESHOLD_H

#include <stdbool.h>
#include <stddef.h>

/* Longest range text kept ("@-123.5:456.25" and the like). */
#define RP_RANGE_TEXT 32

struct rp_range {
    double start, end;          /* -INFINITY for "~", INFINITY for an open end */
    bool   inside;              /* '@': alert inside [start, end]; else outside */
    char   text[RP_RANGE_TEXT]; /* the guideline's form, numbers as given: the perfdata's warn/crit field */
};

/* Parses a range. Numbers: an optional sign, digits, an optional decimal part
 * (no exponent, no inf/nan: every perfdata reader parses those). 0, or -1 with
 * a one-line reason in err. */
int  rp_range_parse(const char *s, struct rp_range *r, char *err, size_t errlen);
/* Whether v raises an alert under r. */
bool rp_range_alerts(const struct rp_range *r, double v);
/* Whether every value `narrow` alerts on, `wide` alerts on too. */
bool rp_range_alerts_within(const struct rp_range *narrow, const struct rp_range *wide);

/* The metrics -w/--warning and -c/--critical name. */
enum rp_thr_metric { RP_THR_LOSS = 0, RP_THR_JITTER, RP_THR_RTT, RP_THR_MOS, RP_THR_N };
/* "loss", "jitter", "rtt", "mos" */
const char *rp_thr_metric_name(enum rp_thr_metric m);

enum rp_thr_level { RP_THR_WARN = 0, RP_THR_CRIT };

struct rp_thresholds {
    struct rp_range warn[RP_THR_N], crit[RP_THR_N];
};
/* warn loss=1,jitter=30,rtt=300,mos=4:  crit loss=5,jitter=60,rtt=600,mos=3.6: */
void rp_thresholds_default(struct rp_thresholds *t);
/* "METRIC=RANGE[,METRIC=RANGE...]" into the warning or critical set; a metric
 * given again replaces its range. 0, or -1 with a one-line reason (nothing is
 * changed then). */
int  rp_thresholds_set(struct rp_thresholds *t, enum rp_thr_level level, const char *spec, char *err, size_t errlen);
/* Warning and critical of the same form in the right order: every value
 * critical is also a warning (normal form: the warning range inside the
 * critical one; '@' form: the critical range inside the warning one). A '@'
 * range beside a normal one is not ordered. 0, or -1 naming the first metric
 * in the wrong order. */
int  rp_thresholds_check_order(const struct rp_thresholds *t, char *err, size_t errlen);

#endif
