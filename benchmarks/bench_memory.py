"""Peak memory per 100k simulated cases, for one ``sim.simulate`` call (pandas tables included).

The workload runs in a fresh subprocess (this script re-invoked with ``--child``), so the
interpreter's peak RSS before the run is only imports and the config, not whatever the
parent did. Two children run side by side: one measures peak RSS growth
(``ru_maxrss``), the other the tracemalloc peak (Python allocations only, without
tracemalloc's own bookkeeping, which would inflate the RSS child's numbers if both ran
in one process).

Run: ``python benchmarks/bench_memory.py [--target-cases N] [--override KEY=VALUE ...]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc

DEFAULT_OVERRIDES = ["demand.referrals_per_month=400", "run.horizon_days=1095"]
FIXED_OVERRIDES = ["run.progress=false", "run.workers=1"]  # serial, in-process, silent
MIB = 1024 * 1024


def maxrss_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss_bytes() -> int:
    """Resident set size now, from /proc (Linux only); 0 if unavailable."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except OSError:
        return 0
    return pages * resource.getpagesize()


# --------------------------------------------------------------------------- child


def run_child(overrides: list[str], mode: str) -> dict:
    """Simulate once under ``overrides`` and return the measurements of ``mode`` (rss or
    tracemalloc). Imports happen here so they count in the baseline, not the growth."""
    import sim

    cfg = sim.load_config(overrides)
    base_peak, base_now = maxrss_bytes(), current_rss_bytes()
    if mode == "tracemalloc":
        tracemalloc.start()
    t0 = time.perf_counter()
    res = sim.simulate(cfg, workers=1, progress=False)
    seconds = time.perf_counter() - t0
    out = {"mode": mode, "cases": len(res.cases), "replications": cfg.run.replications, "seconds": seconds}
    if mode == "tracemalloc":
        out["traced_now"], out["traced_peak"] = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    else:
        out.update(base_peak=base_peak, base_now=base_now, peak=maxrss_bytes(), now=current_rss_bytes())
        out["tables"] = int(sum(df.memory_usage(deep=True).sum() for df in (res.cases, res.timeseries, res.pools)))
    return out


# --------------------------------------------------------------------------- parent


def replications_for(overrides: list[str], target_cases: int, max_replications: int = 1000) -> tuple[int, int]:
    """The fewest replications whose cases reach ``target_cases``, found by drawing the
    cases alone (cheap next to simulating them). Returns (replications, cases)."""
    import sim
    from sim.model.demand import draw_cases
    from sim.core.rng import Streams

    cfg = sim.load_config(overrides)
    total = 0
    for r in range(max_replications):
        total += draw_cases(cfg, Streams(cfg.run.seed, r)).n
        if total >= target_cases:
            return r + 1, total
    raise SystemExit(f"{max_replications} replications give only {total} cases; raise demand or horizon")


def spawn(overrides: list[str], mode: str) -> subprocess.Popen:
    cmd = [sys.executable, __file__, "--child", mode, *(f"--override={o}" for o in overrides)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def collect(proc: subprocess.Popen) -> dict:
    stdout, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"child {proc.args} failed with exit code {proc.returncode}")
    return json.loads(stdout.strip().splitlines()[-1])


def per_100k(nbytes: float, cases: int) -> float:
    return nbytes / MIB * 100_000 / cases


def report(overrides: list[str], rss: dict, traced: dict | None, wall: float) -> None:
    cases = rss["cases"]
    growth = rss["peak"] - rss["base_peak"]
    print("overrides: " + " ".join(overrides))
    rows = [
        ("replications / cases", f"{rss['replications']} / {cases:,}", ""),
        ("simulate seconds (RSS child)", f"{rss['seconds']:.1f}", f"wall {wall:.1f} s for both children"),
        ("baseline peak RSS (MiB)", f"{rss['base_peak'] / MIB:.1f}", "after imports + config"),
        ("peak RSS after (MiB)", f"{rss['peak'] / MIB:.1f}", ""),
        ("peak RSS growth (MiB)", f"{growth / MIB:.1f}", ""),
        ("  per 100k cases (MiB)", f"{per_100k(growth, cases):.1f}", ""),
        ("RSS still held after (MiB)", f"{(rss['now'] - rss['base_now']) / MIB:.1f}",
         "tables + freed-but-kept pages"),
        ("result tables, deep (MiB)", f"{rss['tables'] / MIB:.1f}",
         f"{per_100k(rss['tables'], cases):.1f} per 100k cases"),
    ]
    if traced is not None:
        rows += [
            ("tracemalloc peak (MiB)", f"{traced['traced_peak'] / MIB:.1f}", f"simulate {traced['seconds']:.1f} s"),
            ("  per 100k cases (MiB)", f"{per_100k(traced['traced_peak'], traced['cases']):.1f}", ""),
        ]
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{w0}}  {value:>{w1}}  {note}".rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-cases", type=int, default=100_000, help="cases to simulate at least (default 100k)")
    parser.add_argument("--override", action="append", metavar="KEY=VALUE",
                        help=f"config override, repeatable (default: {' '.join(DEFAULT_OVERRIDES)})")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the tracemalloc child")
    parser.add_argument("--child", choices=("rss", "tracemalloc"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        # The parent passes the full override list, replications included.
        print(json.dumps(run_child(args.override or [], args.child)))
        return

    base = (args.override or DEFAULT_OVERRIDES) + FIXED_OVERRIDES
    reps, _ = replications_for(base, args.target_cases)
    overrides = base + [f"run.replications={reps}"]
    t0 = time.perf_counter()
    # Side by side: memory does not depend on timing, and it halves the wall time on 2 cores.
    procs = [spawn(overrides, "rss")] + ([] if args.no_tracemalloc else [spawn(overrides, "tracemalloc")])
    results = [collect(p) for p in procs]
    wall = time.perf_counter() - t0
    report(base, results[0], results[1] if len(results) > 1 else None, wall)


if __name__ == "__main__":
    main()
