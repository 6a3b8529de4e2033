"""One national replication (``forces=england_and_wales``: 43 forces in 10 regions) split
by region across local processes, over several horizons and national demands, and many
national replications on a Dask cluster of 1 and of N workers.

**Horizons and demand** (``--years``, ``--demand``): for each, in a fresh process (so that
each peak of memory is its own), one replication's wall time from the call to its joined
output, its cases, cases a second, seconds per 100,000 cases (flat when the time is linear
in horizon and demand), the peak resident memory of the main process once the replication
is joined and of the largest worker, and the time of its tables and summary with the main
process's peak after them. Demand is held at today's level unless ``--growth`` is given
(referrals grow 19 % a year by default in the model, which makes ten years 590,000 cases
instead of 220,000). ``--demand 0.5 1 2`` scales the national referrals (1,700 a month) and
every force's staff with them (``sim.config.nation``). Beside each horizon the bare SimPy
tandem (``../shared/bench/bench_tandem.py``, run as ``bench_model.py`` runs it, best of
three) gives the yardstick: the nation's cases a second per worker over the tandem's.

**Scaling on Dask** (``--dask-replications R``): R national replications of ``--dask-years``
on a Dask LocalCluster of 1 worker, then of ``--dask-workers`` workers (single-threaded
worker processes, as ``run.local_cluster`` starts them); the efficiency is
T(1 worker) / (N x T(N workers)), both timed from the call to the last joined output, with
the cluster already started. On a 2-core machine the main process, which joins and keeps
the outputs, shares the cores with the workers.

Run: ``python benchmarks/bench_nation.py [--years 1 2 5 10] [--demand 1] [--workers 2]
[--growth G] [--tandem PATH] [--dask-replications 100 --dask-years 1 --dask-workers 2]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench_model import TANDEM_PATH, TandemRuns, load_tandem

TANDEM_CASES = 20_000
HERE = Path(__file__).resolve().parent


def national_config(years: float, demand: float, workers: int, growth: float | None, replications: int = 1,
                    local_cluster: int = 0):
    """The nation's configuration: ``demand`` times today's national referrals (staff scaled
    with them), ``years`` of horizon."""
    from sim.config.load import CONFIG_DIR, build_config, compose_mapping
    from sim.config.nation import NATIONAL_REFERRALS_PER_MONTH, force_entries, read_table

    overrides = ["forces=england_and_wales", f"run.replications={replications}", f"run.horizon_days={years * 365:g}",
                 f"run.workers={workers}", "run.progress=false", f"run.local_cluster={local_cluster}"]
    if growth is not None:
        overrides.append(f"demand.growth_per_year={growth}")
    data = compose_mapping(overrides)
    if demand != 1:
        rows = read_table(CONFIG_DIR / "forces" / "england_and_wales.csv")
        data["forces"] = force_entries(rows, national_referrals_per_month=NATIONAL_REFERRALS_PER_MONTH * demand)
    return build_config(data)


def peak_rss_mib() -> tuple[float, float]:
    """Peak resident memory so far of this process and of its largest finished child, MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def one_replication(years: float, demand: float, workers: int, growth: float | None) -> dict:
    """Time and memory of one national replication and of its tables, in this process."""
    import sim
    from sim.results import build_results

    cfg = national_config(years, demand, workers, growth)
    started = time.perf_counter()
    outputs = sim.run_replications(cfg)
    simulated = time.perf_counter() - started
    main_after_run, largest_worker = peak_rss_mib()
    started = time.perf_counter()
    build_results(cfg, outputs).summary()
    tabled = time.perf_counter() - started
    return {"cases": len(outputs[0].cases["arrival_day"]), "simulate_s": simulated, "tables_s": tabled,
            "main_after_run_mib": main_after_run, "largest_worker_mib": largest_worker,
            "main_after_tables_mib": peak_rss_mib()[0]}


def dask_scaling(replications: int, years: float, workers: int, growth: float | None) -> None:
    """Print the time of ``replications`` national replications on 1 and on ``workers``
    Dask workers, and the efficiency."""
    import sim
    from sim.running.executors import DaskExecutor

    times = {}
    for n in (1, workers):
        cfg = national_config(years, 1.0, 1, growth, replications=replications)
        executor = DaskExecutor(local_workers=n)
        try:
            started = time.perf_counter()
            outputs = sim.run_replications(cfg, executor=executor)
            times[n] = time.perf_counter() - started
        finally:
            executor.close()
        cases = sum(len(output.cases["arrival_day"]) for output in outputs)
        print(f"Dask, {n} worker(s): {replications} replications of {years:g} years, {cases:,} cases in "
              f"{times[n]:.1f} s ({cases / times[n]:,.0f} cases/s)", flush=True)
        del outputs
    efficiency = times[1] / (workers * times[workers])
    print(f"efficiency on {workers} workers: T(1) / ({workers} x T({workers})) = {efficiency:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, nargs="*", default=[1, 2, 5, 10],
                        help="horizons of one replication (none: skip them)")
    parser.add_argument("--demand", type=float, nargs="+", default=[1.0],
                        help="multiples of today's national referrals (staff scaled with them)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--growth", type=float, default=0.0,
                        help="demand.growth_per_year (default 0: today's demand throughout)")
    parser.add_argument("--tandem", type=Path, default=TANDEM_PATH, help="the bare SimPy tandem's script")
    parser.add_argument("--dask-replications", type=int, default=0, metavar="R",
                        help="also time R national replications on Dask, on 1 and on --dask-workers workers")
    parser.add_argument("--dask-years", type=float, default=1.0)
    parser.add_argument("--dask-workers", type=int, default=2)
    parser.add_argument("--one", nargs=2, type=float, metavar=("YEARS", "DEMAND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # a measurement in a fresh process of its own, as JSON
        print(json.dumps(one_replication(*args.one, args.workers, args.growth)))
        return
    if args.years:
        tandem = load_tandem(args.tandem)
        print(f"{'years':>5} {'demand':>6} {'cases':>9} {'simulate s':>10} {'cases/s':>8} {'s/100k cases':>12} "
              f"{'per worker/tandem':>17} {'MiB main, worker':>16} {'tables s':>8} {'MiB after':>9}", flush=True)
        for demand in args.demand:
            for years in args.years:
                done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one", str(years), str(demand),
                                       "--workers", str(args.workers), "--growth", str(args.growth)],
                                      capture_output=True, text=True, check=True, cwd=HERE)
                row = json.loads(done.stdout.splitlines()[-1])
                ratio = "no tandem"
                if tandem is not None:
                    runs = TandemRuns(tandem, TANDEM_CASES)
                    tandem_per_second = TANDEM_CASES / min(runs() for _ in range(3))
                    ratio = f"{row['cases'] / row['simulate_s'] / args.workers / tandem_per_second:.2f}x"
                print(f"{years:>5g} {demand:>6g} {row['cases']:>9,} {row['simulate_s']:>10.1f} "
                      f"{row['cases'] / row['simulate_s']:>8,.0f} {row['simulate_s'] / row['cases'] * 1e5:>12.1f} "
                      f"{ratio:>17} {row['main_after_run_mib']:>9,.0f}, {row['largest_worker_mib']:>4,.0f} "
                      f"{row['tables_s']:>8.1f} {row['main_after_tables_mib']:>9,.0f}", flush=True)
    if args.dask_replications:
        dask_scaling(args.dask_replications, args.dask_years, args.dask_workers, args.growth)


if __name__ == "__main__":
    main()
