"""Time to calibrate a force on its case log, against the 10-minute target on 2 cores.

Calibrates the shipped example log (three years, 2,504 referrals) as ``casesim-calibrate``
does, with the default fit on ``--workers`` local processes, and reports the wall time of the
whole calibration and of its parts:

- the direct estimates, backlog and projection alone (``fit=[]``);
- the simulation fit: its replications, the seconds they took and the share of the time spent
  outside them (emulators and sampling).

It also runs the bare SimPy tandem yardstick (``../shared/bench/bench_tandem.py``) just
before and just after, and gives the fit's simulated cases a second as a ratio to the
tandem's. Ratios measured side by side hold from machine to machine; absolute times do not.

Run: ``python benchmarks/bench_calibrate.py [--workers 2] [--quick]``
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import sim
from sim.domain import DAYS_PER_MONTH
from sim.calibration.fit import QUICK_SETTINGS, FitSettings

TARGET_SECONDS = 600
TANDEM = Path(__file__).resolve().parents[2] / "shared" / "bench" / "bench_tandem.py"


def tandem_cases_per_second() -> float | None:
    """The yardstick's best cases a second (None if it is not beside the repository)."""
    if not TANDEM.is_file():
        return None
    out = subprocess.run([sys.executable, str(TANDEM), "--n", "60000", "--reps", "3"], capture_output=True, text=True,
                         cwd=TANDEM.parent, check=True).stdout
    rates = [float(v.replace(",", "")) for v in re.findall(r"([\d,]+(?:\.\d+)?)\s*cases/s", out)]
    return max(rates) if rates else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="the --quick fit")
    args = parser.parse_args()
    settings = QUICK_SETTINGS if args.quick else FitSettings()

    before = tandem_cases_per_second()
    log = sim.read_case_log(sim.EXAMPLE_CASE_LOG)
    started = time.perf_counter()
    sim.calibrate(log, fit=[])
    direct_seconds = time.perf_counter() - started

    started = time.perf_counter()
    calibration = sim.calibrate(log, settings=settings, workers=args.workers)
    total_seconds = time.perf_counter() - started
    after = tandem_cases_per_second()

    fit = calibration.fit
    log_months = calibration.period_days / DAYS_PER_MONTH
    cases_per_run = calibration.n_cases * (1 + settings.warm_up_months / log_months)  # the log's period and the warm-up
    print(f"example log: {calibration.n_cases:,} referrals over {calibration.period_days:.0f} days; "
          f"{args.workers} workers; {'quick' if args.quick else 'default'} fit")
    print(f"estimates, backlog and projection alone: {direct_seconds:.1f} s")
    print(f"whole calibration: {total_seconds:.1f} s ({total_seconds / TARGET_SECONDS:.0%} of the "
          f"{TARGET_SECONDS // 60}-minute target: {'PASS' if total_seconds <= TARGET_SECONDS else 'FAIL'})")
    print(f"fit: {fit.runs} replications in {fit.seconds:.1f} s; values not ruled out {fit.plausible_share:.2%}")
    rate = fit.runs * cases_per_run / fit.seconds
    print(f"fit throughput: about {rate:,.0f} simulated cases/s (every core together)")
    if before and after:
        tandem = (before + after) / 2
        print(f"bare SimPy tandem: {before:,.0f} cases/s before, {after:,.0f} after; "
              f"fit throughput / tandem: {rate / tandem:.2f}x")
    else:
        print("bare SimPy tandem: not found beside the repository (../shared/bench/bench_tandem.py)")


if __name__ == "__main__":
    main()
