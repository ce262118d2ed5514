/* ITU-T G.107 E-model, simplified for transmission planning:
 * R = (Ro - Is) - Id - Ie,eff + A with Ro - Is = 93.2, A = 0. */
#ifndef RP_EMODEL_H
#define RP_EMODEL_H

struct rp_emodel_in {
    double ie;        /* equipment impairment of the codec */
    double bpl;       /* packet-loss robustness of the codec */
    double ppl_pct;   /* packet loss probability in percent (jitter-buffer discards included) */
    double burst_r;   /* BurstR, 1 = random loss */
    double delay_ms;  /* one-way mouth-to-ear delay Ta */
};

struct rp_emodel_out {
    double r;
    double mos;
    double id;
    double ie_eff;
};

void   rp_emodel_compute(const struct rp_emodel_in *in, struct rp_emodel_out *out);
double rp_emodel_delay_impairment(double ta_ms);
double rp_emodel_mos_from_r(double r);   /* G.107 Annex B */

#endif
