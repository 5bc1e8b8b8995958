#!/usr/bin/python3
# scipy_flagship.py - the flagship scenario (scenarios/ai_public_first.lua)
# written the way an analyst would in Python: NumPy arrays for the numbers, a
# vectorised right-hand side, scipy.integrate.solve_ivp with DOP853 (the
# 8th-order Dormand-Prince method, the counterpart of GSL's rk8pd) at rtol
# 1e-8 and atol 1e-10. As a SciPy user writes it: one solve_ivp call per
# stretch between discontinuities (event times, schedule knots), the events
# applied between calls, and the output times of each stretch asked for with
# t_eval (SciPy evaluates DOP853's dense output there; the integration does
# not stop at them). The structure is written for this scenario (as the C
# floor in floor.c); the numbers come from the JSON file that `make bench`
# writes from the resolved model (--params), the same numbers the C floor uses.
#
# Run by `make bench` with Debian's /usr/bin/python3 (python3-scipy):
#   /usr/bin/python3 tests/bench/scipy_flagship.py --params P.json [--reps 7] [--runs N]
# Times are CPU time (time.process_time), as the C side's. Prints
# "scipy_us_per_run <median>", the per-repetition figures, the SciPy version,
# the state at the end ("state v1 v2 ...", stratsim's state layout) and at
# every output time ("output I v1 v2 ...") so the benchmark can check that
# this is the same model.
import argparse
import json
import sys
import time

import numpy as np
import scipy
from scipy.integrate import solve_ivp

N, K = 4, 3
NK = N * K
DIM = 3 * NK + 2 * N + K


def lin(t, kt, kv):
    if t < kt[0]:
        return kv[0]
    if t >= kt[1]:
        return kv[1]
    return kv[0] + (t - kt[0]) / (kt[1] - kt[0]) * (kv[1] - kv[0])


def steps_at(s, t):
    v = s["v"][0]
    for tk, vk in zip(s["t"][1:], s["v"][1:]):
        if tk <= t:
            v = vk
    return v


class Flagship:
    def __init__(self, p):
        self.p = p
        self.size0 = np.array(p["size0"])
        self.growth = np.array(p["growth"] + [0.0])
        self.tau = np.array(p["tau"])
        self.beta_price = np.array(p["beta_price"])
        self.learning = np.array(p["learning"])
        self.depreciation = np.array(p["depreciation"])
        self.share0 = np.array(p["share0"])
        self.margin0 = np.array(p["margin0"])
        self.opex = np.array(p["opex"])
        self.capability0 = np.array(p["capability0"])
        self.brand = np.array(p["brand"])
        self.fixed_cost = np.array(p["fixed_cost"])
        self.recovery = np.array(p["recovery"])
        self.V0 = np.array(p["experience"])[:, None] * self.size0[None, :] * self.share0
        self.bp = self.breakpoints()
        self.outs = self.output_times()

    def output_times(self):
        p = self.p
        ts, n = [], 0
        while True:
            t = p["t0"] + n * p["step"]
            if t >= p["t1"] - 1e-9:
                break
            ts.append(t)
            n += 1
        ts.append(p["t1"])
        return np.array(ts)

    def breakpoints(self):
        """The discontinuities: start, stop, event times and schedule knots."""
        p = self.p
        knots = [p["outage_t"], p["set_t"]] + p["price_t"] + p["part_t"] + p["lever_t"]
        for s in p["reinvest"]:
            knots += s["t"]
        for row in p["alloc"]:
            for s in row:
                knots += s["t"]
        ts = [p["t0"], p["t1"]] + [t for t in knots if p["t0"] < t < p["t1"]]
        bp = []
        for t in sorted(ts):
            if not bp or t > bp[-1] + 1e-9:
                bp.append(t)
        return bp

    def interval(self, ta, set_done):
        """Step schedules and `set` events in force on the interval starting at ta."""
        p = self.p
        rho = np.array([steps_at(s, ta) for s in p["reinvest"]])
        alloc = np.array([[steps_at(s, ta) for s in row] for row in p["alloc"]])
        if set_done:
            rho[0] = p["set_reinvest"]
            alloc[0] = p["set_alloc"]
        return rho, alloc / alloc.sum(axis=1, keepdims=True)

    def rhs(self, t, y, rho, alloc):
        p = self.p
        s = y[0:NK].reshape(N, K)
        C = y[NK:2 * NK].reshape(N, K)
        V = y[2 * NK:3 * NK].reshape(N, K)
        R = y[3 * NK:3 * NK + N]
        X = y[3 * NK + 2 * N:]
        M = np.array([X[0], X[1], p["potential"] * X[2]])
        price = np.ones((N, K))
        price[1:, 0] = lin(t, p["price_t"], p["price_v"])
        w = np.ones((N, K))
        w[0, 1] = lin(t, p["part_t"], p["part_v"])
        x = np.ones((N, K))
        x[0, 2] = lin(t, p["lever_t"], p["lever_v"])
        a = self.brand * w * np.sqrt(np.maximum(C, 0.0)) * price ** (-self.beta_price) * R[:, None] * x
        target = a / a.sum(axis=0)
        rev = M * s
        inv = rho * rev.sum(axis=1)
        ratio = (V / self.V0) ** (-self.learning)
        margin = 1.0 - (1.0 - self.margin0) * ratio / price
        op = (rev * margin).sum(axis=1) - (self.opex * rev).sum(axis=1) - self.fixed_cost - inv
        dX = self.growth * M
        dX[2] = (p["bass_p"] + p["bass_q"] * X[2]) * (1.0 - X[2])
        return np.concatenate([((target - s) / self.tau).ravel(),
                               (alloc * inv[:, None] - self.depreciation * C).ravel(),
                               (rev / price).ravel(),
                               (1.0 - R) / self.recovery,
                               op * np.exp(-p["discount"] * (t - p["t0"])),
                               dX])

    def run(self):
        """The state at every output time (rows); an output at an event time
        shows the state after the event, as stratsim's does."""
        p = self.p
        y = np.concatenate([self.share0.ravel(), self.capability0.ravel(), self.V0.ravel(),
                            np.array(p["reliability0"]), np.zeros(N),
                            [self.size0[0], self.size0[1], self.size0[2] / p["potential"]]])
        outs = self.outs
        res = np.empty((len(outs), DIM))
        outage_done = set_done = False
        for ta, tb in zip(self.bp[:-1], self.bp[1:]):
            if not outage_done and p["outage_t"] <= ta + 1e-9:
                y[3 * NK] *= 1.0 - p["outage_severity"]
                outage_done = True
            if not set_done and p["set_t"] <= ta + 1e-9:
                set_done = True
            rho, alloc = self.interval(ta, set_done)
            # the outputs in [ta, tb), then tb itself (the start of the next stretch)
            sel = (outs >= ta - 1e-9) & (outs < tb - 1e-9)
            t_eval = np.append(np.clip(outs[sel], ta, tb), tb)
            sol = solve_ivp(self.rhs, (ta, tb), y, method="DOP853", rtol=1e-8, atol=1e-10,
                            t_eval=t_eval, args=(rho, alloc))
            if not sol.success:
                raise RuntimeError(sol.message)
            res[sel] = sol.y[:, :-1].T
            y = sol.y[:, -1].copy()
        res[-1] = y  # stop
        return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--params", required=True, help="JSON written by stratsim-bench")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--runs", type=int, default=3, help="runs per repetition")
    a = ap.parse_args()
    with open(a.params) as f:
        model = Flagship(json.load(f))
    res = model.run()  # warm-up
    per = []
    for _ in range(a.reps):
        t = time.process_time()
        for _ in range(a.runs):
            res = model.run()
        per.append((time.process_time() - t) / a.runs * 1e6)
    print("scipy_version", scipy.__version__)
    print("python", sys.version.split()[0], sys.executable)
    print("reps", " ".join("%.1f" % v for v in per))
    print("scipy_us_per_run", "%.3f" % float(np.median(per)))
    print("state", " ".join(repr(float(v)) for v in res[-1]))
    for i, row in enumerate(res):
        print("output", i, " ".join(repr(float(v)) for v in row))


if __name__ == "__main__":
    main()
