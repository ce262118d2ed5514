/* ITU-T G.107 E-model, reduced to the terms a receive-side probe can observe: delay
 * and packet loss. Every other impairment keeps its G.107 default, which folds into
 * Ro - Is = 93.2 (G.107 (06/2015) §7.7, default values). */
#include "emodel.h"

#define RO_MINUS_IS 93.2
/* Cole & Rosenbluth: the knee of the G.107 Id curve for echo-free connections. */
#define ID_KNEE_MS  177.3

/* Delay impairment. R. G. Cole and J. H. Rosenbluth, "Voice over IP performance
 * monitoring", ACM SIGCOMM Computer Communication Review 31(2), 2001: a
 * piecewise-linear fit of G.107's Id (= Idd with echo perfectly cancelled):
 *   Id = 0.024 Ta + 0.11 (Ta - 177.3) H(Ta - 177.3), H the Heaviside step. */
double rp_emodel_delay_impairment(double ta_ms)
{
    double id;

    if (!(ta_ms > 0.0))   /* also catches NaN */
        return 0.0;
    id = 0.024 * ta_ms;
    if (ta_ms > ID_KNEE_MS)
        id += 0.11 * (ta_ms - ID_KNEE_MS);
    return id;
}

/* G.107 (06/2015) Annex B: MOS_CQE from R.
 *   R < 0: 1;  0 <= R <= 100: 1 + 0.035 R + R (R - 60) (100 - R) 7e-6;  R > 100: 4.5.
 * The cubic dips to 0.99 for 0 < R < 6.5; we hold it at 1, the bottom of the scale. */
double rp_emodel_mos_from_r(double r)
{
    double mos;

    if (!(r > 0.0))       /* R <= 0, or NaN */
        return 1.0;
    if (r > 100.0)
        return 4.5;
    mos = 1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6;
    return mos < 1.0 ? 1.0 : mos;
}

/* Effective equipment impairment, G.107 (06/2015) eq. (7-29):
 *   Ie,eff = Ie + (95 - Ie) * Ppl / (Ppl / BurstR + Bpl)
 * Ppl in percent; BurstR = 1 for random loss (G.107 §7.5, G.113 Appendix I). */
static double effective_equipment_impairment(double ie, double bpl, double ppl_pct, double burst_r)
{
    double ppl = ppl_pct;

    if (!(ppl > 0.0))
        return ie;
    if (ppl > 100.0)
        ppl = 100.0;
    if (!(burst_r > 0.0))
        burst_r = 1.0;   /* unknown loss pattern: assume random */
    return ie + (95.0 - ie) * ppl / (ppl / burst_r + bpl);
}

/* R = (Ro - Is) - Id - Ie,eff + A (G.107 §7.1), with A = 0. R is returned as
 * computed, below 0 when the connection is that bad; the MOS mapping clamps. */
void rp_emodel_compute(const struct rp_emodel_in *in, struct rp_emodel_out *out)
{
    out->id = rp_emodel_delay_impairment(in->delay_ms);
    out->ie_eff = effective_equipment_impairment(in->ie, in->bpl, in->ppl_pct, in->burst_r);
    out->r = RO_MINUS_IS - out->id - out->ie_eff;
    out->mos = rp_emodel_mos_from_r(out->r);
}
