#!/usr/bin/env python3
"""Ground truth from RTP captures for tests/net/run.sh (standard library only).

Input files are tshark field dumps of ONE RTP stream, one packet a line:
    frame.time_epoch <TAB> rtp.seq <TAB> rtp.timestamp
(tshark -T fields -e frame.time_epoch -e rtp.seq -e rtp.timestamp), in
capture order. Every subcommand prints one JSON object.

  transit SENT RECEIVED
      The stream captured where it was sent and where it was received (all
      namespaces share one kernel clock, so the two captures' times compare
      directly): per-packet one-way transit, matched by sequence number.
      Prints sent, received, lost, reordered (arrivals before a lower seq),
      mean_ms (true mean one-way delay), and the delay rise: p50/p95/max of
      transit above the run's minimum (nearest rank, as the probe's delay_ms).

  jbuf RECEIVED CLOCK_RATE FIXED_MS
      Replays the adaptive jitter buffer of issue 11 (ISSUE11.md, src/jbuf.c:
      WebRTC NetEq's DelayManager) and the fixed buffer on the arrival times
      and RTP timestamps: late_adaptive, late_fixed, jb_mean_ms, jb_max_ms.
      RTPCAP_TRACE=1 lists the packets the adaptive buffer finds late on stderr.

  mos DELAY_MS LOSS_PCT IE BPL [BURST_R]
      ITU-T G.107 simplified, with the delay impairment src/emodel.c uses.
"""
import json
import math
import os
import sys
from collections import deque


def load(path):
    """[(arrival_s, seq, ts)] of the non-empty lines."""
    pkts = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3:
                continue
            pkts.append((float(parts[0]), int(parts[1]), int(parts[2])))
    return pkts


def extend(values, bits):
    """Unwraps a wrapping counter in capture order (signed distance to the previous)."""
    out, prev, mod = [], None, 1 << bits
    for v in values:
        if prev is None:
            ext = v
        else:
            d = (v - (prev % mod)) % mod
            if d >= mod // 2:
                d -= mod
            ext = prev + d
        out.append(ext)
        prev = ext
    return out


def nearest_rank(sorted_vals, pct):
    if not sorted_vals:
        return None
    k = max(0, math.ceil(pct / 100.0 * len(sorted_vals)) - 1)
    return sorted_vals[k]


def cmd_transit(sent_path, recv_path):
    sent, recv = load(sent_path), load(recv_path)
    sent_t = dict(zip(extend([p[1] for p in sent], 16), (p[0] for p in sent)))
    # Receiver's seq extended from the sender's first: same numbering.
    rseq = extend([sent[0][1]] + [p[1] for p in recv], 16)[1:] if sent else []
    transit, seen, reordered, highest = [], set(), 0, None
    for (t, _, _), s in zip(recv, rseq):
        if s in seen or s not in sent_t:
            continue
        seen.add(s)
        if highest is not None and s < highest:
            reordered += 1
        highest = s if highest is None else max(highest, s)
        transit.append((t - sent_t[s]) * 1000.0)
    rise = sorted(x - min(transit) for x in transit) if transit else []
    print(json.dumps({
        "sent": len(sent_t), "received": len(seen), "lost": len(sent_t) - len(seen),
        "reordered": reordered,
        "mean_ms": round(sum(transit) / len(transit), 3) if transit else None,
        "min_ms": round(min(transit), 3) if transit else None,
        "rise_p50_ms": round(nearest_rank(rise, 50), 3) if rise else None,
        "rise_p95_ms": round(nearest_rank(rise, 95), 3) if rise else None,
        "rise_max_ms": round(rise[-1], 3) if rise else None,
    }))


# The adaptive buffer, exactly as ISSUE11.md specifies it (times in ns).
WINDOW_NS = 2000e6          # minimum transit over the last 2 s
BUCKET_NS = 20e6            # histogram of relative delay, 20 ms buckets
BUCKETS = 50
FORGET = 0.983              # NetEq's forget factor
QUANTILE = 0.95
START_NS, MIN_NS, MAX_NS = 80e6, 20e6, 1000e6
DECAY_NS_PER_S = 10e6       # slow decrease: 10 ms per second of arrivals
TRACE = bool(os.environ.get("RTPCAP_TRACE"))   # the late packets on stderr, for a post-mortem


def cmd_jbuf(recv_path, clock_rate, fixed_ms):
    recv = load(recv_path)
    ext_seq = extend([p[1] for p in recv], 16)
    ext_ts = extend([p[2] for p in recv], 32)
    ns_per_tick = 1e9 / clock_rate
    masses = [0.0] * BUCKETS
    target = START_NS
    win = deque()               # (arrival, transit), transit increasing: a sliding minimum
    seen = set()
    late_a = late_f = n = 0
    t_sum, t_max, a_prev, low = 0.0, 0.0, None, None
    t0 = recv[0][0] if recv else 0.0
    for (t, _, _), s, ts in zip(recv, ext_seq, ext_ts):
        if s in seen:
            continue            # duplicates do not count
        seen.add(s)
        a = (t - t0) * 1e9
        transit = a - ts * ns_per_tick
        while win and win[-1][1] >= transit:
            win.pop()
        win.append((a, transit))
        while win[0][0] <= a - WINDOW_NS:
            win.popleft()
        rel = transit - win[0][1]
        if n > 0 and rel > target:
            late_a += 1
            if TRACE:
                sys.stderr.write("late: packet %d at %.3f s, seq %d, relative delay %.1f ms > target %.1f ms\n"
                                 % (n, a / 1e9, s, rel / 1e6, target / 1e6))
        # Fixed buffer: transit above the lowest so far (this packet included).
        low = transit if low is None else min(low, transit)
        if transit - low > fixed_ms * 1e6:
            late_f += 1
        for k in range(BUCKETS):
            masses[k] *= FORGET
        masses[min(int(rel // BUCKET_NS), BUCKETS - 1)] += 1.0 - FORGET
        total, cum, k_star = sum(masses), 0.0, BUCKETS - 1
        for k in range(BUCKETS):
            cum += masses[k]
            if cum >= QUANTILE * total:
                k_star = k
                break
        c = (k_star + 1) * BUCKET_NS
        if c > target:
            target = c
        else:
            elapsed = (a - a_prev) if a_prev is not None else 0.0
            target = max(c, target - DECAY_NS_PER_S * elapsed / 1e9)
        target = min(max(target, MIN_NS), MAX_NS)
        a_prev = a
        n += 1
        t_sum += target
        t_max = max(t_max, target)
    print(json.dumps({
        "packets": n, "late_adaptive": late_a, "late_fixed": late_f,
        "jb_mean_ms": round(t_sum / n / 1e6, 3) if n else None,
        "jb_max_ms": round(t_max / 1e6, 3) if n else None,
    }))


def delay_impairment(d):
    """src/emodel.c: Cole & Rosenbluth's fit of G.107's Id (echo cancelled)."""
    if d <= 0:
        return 0.0
    return 0.024 * d + (0.11 * (d - 177.3) if d > 177.3 else 0.0)


def mos_from_r(r):
    """G.107 Annex B."""
    if r <= 0:
        return 1.0
    if r > 100:
        return 4.5
    return max(1.0, 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6)


def cmd_mos(delay_ms, loss_pct, ie, bpl, burst_r=1.0):
    ie_eff = ie if loss_pct <= 0 else ie + (95 - ie) * loss_pct / (loss_pct / burst_r + bpl)
    idd = delay_impairment(delay_ms)
    r = 93.2 - idd - ie_eff
    print(json.dumps({"delay_ms": round(delay_ms, 3), "id": round(idd, 3), "ie_eff": round(ie_eff, 3),
                      "r": round(r, 3), "mos": round(mos_from_r(r), 3)}))


def main(argv):
    if len(argv) == 4 and argv[1] == "transit":
        cmd_transit(argv[2], argv[3])
    elif len(argv) == 5 and argv[1] == "jbuf":
        cmd_jbuf(argv[2], float(argv[3]), float(argv[4]))
    elif len(argv) in (6, 7) and argv[1] == "mos":
        cmd_mos(*(float(x) for x in argv[2:]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
