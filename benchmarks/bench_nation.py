"""One national replication (``forces=england_and_wales``: 43 forces in 10 regions) over
several horizons, split by region across local processes: its wall time, cases, cases a
second and peak memory, and the time of its tables and summary, so that linearity in the
horizon can be read off (the referrals grow 19 % a year, so cases grow faster than years).
Beside each horizon the bare SimPy tandem (``../shared/bench/bench_tandem.py``, run as
``bench_model.py`` runs it, best of three) gives the yardstick: the nation's cases a second
per worker over the tandem's on one core.

Run: ``python benchmarks/bench_nation.py [--years 1 2 5 10] [--workers 2] [--growth G] [--tandem PATH]``
(``--growth 0`` holds demand at 1,700 referrals a month, about 250,000 referrals in ten years).
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from bench_model import TANDEM_PATH, TandemRuns, load_tandem

import sim
from sim.results import build_results

TANDEM_CASES = 20_000


def peak_rss_mib() -> tuple[float, float]:
    """Peak resident memory so far of this process and of its largest finished child, MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, nargs="+", default=[1, 2, 5, 10])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--growth", type=float, default=None, help="demand.growth_per_year (default: the config's)")
    parser.add_argument("--tandem", type=Path, default=TANDEM_PATH, help="the bare SimPy tandem's script")
    args = parser.parse_args()
    tandem = load_tandem(args.tandem)
    print(f"{'years':>5} {'cases':>9} {'simulate s':>10} {'cases/s':>9} {'per worker / tandem':>19} "
          f"{'tables+summary s':>16} {'peak MiB so far (main / largest worker)':>40}")
    for years in args.years:
        overrides = ["forces=england_and_wales", "run.replications=1", f"run.horizon_days={years * 365:g}",
                     f"run.workers={args.workers}", "run.progress=false"]
        if args.growth is not None:
            overrides.append(f"demand.growth_per_year={args.growth}")
        cfg = sim.load_config(overrides)
        started = time.perf_counter()
        outputs = sim.run_replications(cfg)
        simulated = time.perf_counter() - started
        cases = len(outputs[0].cases["arrival_day"])
        started = time.perf_counter()
        build_results(cfg, outputs).summary()
        tabled = time.perf_counter() - started
        own, child = peak_rss_mib()
        ratio = "no tandem"
        if tandem is not None:
            runs = TandemRuns(tandem, TANDEM_CASES)
            tandem_per_second = TANDEM_CASES / min(runs() for _ in range(3))
            ratio = f"{cases / simulated / args.workers / tandem_per_second:.2f}x"
        print(f"{years:>5g} {cases:>9,} {simulated:>10.1f} {cases / simulated:>9,.0f} {ratio:>19} {tabled:>16.1f} "
              f"{own:>23,.0f} / {child:,.0f}")


if __name__ == "__main__":
    main()
