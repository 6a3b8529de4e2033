"""The memory a run will need, estimated before it starts, and the check that it fits.

A run holds, until its tables are built and summarised:

- every replication's output in the main process (per-case numpy columns and the time
  series' samples), and the pandas tables built from them;
- the replications running at once (one in each worker process, or one in the main process
  when serial), each with its model: per-case records, draws and SimPy processes, each case's
  draws for every warrant application it may make, the monitor's rows, and a request held
  for every post or caseload slot still vacant until recruits arrive;
- an interpreter with the model's libraries loaded in every process.

The bytes per unit below were measured with ``tracemalloc`` on seeded runs of the baseline
(a stressed force, so many cases are still open at the horizon) and about doubled, so the
estimate errs high; ``tests/test_bounds.py`` checks that it stays above the measured use
and within a few times of it.

>>> import sim
>>> cfg = sim.load_config(["run.replications=1000", "run.progress=false"])
>>> estimate = memory_estimate(cfg)
>>> estimate.total_bytes() > 1000 * estimate.held_bytes_per_replication()
True
>>> check_memory(cfg, machine_bytes=4 * 2**30)
Traceback (most recent call last):
...
sim.errors.ConfigError: run.replications=1000: 1,000 replications need about 11 GiB of memory \
(about 11 MiB each, held until the tables are built); this machine allows 3.2 GiB (80% of its 4 GiB): \
at most 276 fit
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..domain import DAYS_PER_MONTH, GRADES, STAGES, WIP_GRADES
from ..errors import ConfigError

if TYPE_CHECKING:
    from .schema import SimConfig

# Bytes per unit: measured (in brackets) and about doubled; a running case's bytes grow with
# congestion (queued cases hold processes and requests): its most congested measure, raised by
# a fifth. Measured with tracemalloc on one replication of 730 days (baseline; demand tripled;
# sampling every 6 hours; 40 applications).
HELD_BYTES_PER_CASE = 1_000  # a case's columns and table rows, kept for the whole run [530]
HELD_BYTES_PER_SAMPLE = 100  # one time-series value (a series on a sampled day) [47]
RUNNING_BYTES_PER_CASE = 3_200  # a case in the running model: records, draws, its process [1,600-2,600]
RUNNING_BYTES_PER_SAMPLE = 40  # the monitor's row cell, and the array built from it [17]
RUNNING_BYTES_PER_APPLICATION = 100  # a case's draws for one warrant application it may make [47]
RUNNING_BYTES_PER_VACANCY = 1_200  # a request holding a vacant post or caseload slot [600]
PROCESS_BYTES = 256 * 2**20  # an interpreter with numpy, scipy, SimPy (and pandas) loaded [100-180 MiB]

USABLE_SHARE = 0.8
"""The share of the machine's memory a run may plan to use; the rest is left to the system
and other programs (and covers what the estimate leaves out, such as writing the tables)."""

# Time-series columns a force adds besides its work in progress: its staff pools, its
# investigators' caseload, its court and search teams; and the regional units (hub, surge).
_UNIT_SERIES_PER_FORCE = 6
_REGIONAL_UNIT_SERIES = 6


@dataclass(frozen=True)
class Term:
    """One part of a replication's memory: ``size_bytes``, the config ``key`` (and its
    ``value``) that drives it most, and ``what`` it holds, in words."""

    key: str
    value: object
    size_bytes: float
    what: str


@dataclass(frozen=True)
class MemoryEstimate:
    """The memory of a run: each replication's parts, held for the whole run (``held``) or
    only while it runs (``running``), ``replications`` in all, ``processes`` running at once
    (workers; 1: serial, in the main process)."""

    replications: int
    processes: int
    held: tuple[Term, ...]
    running: tuple[Term, ...]

    def held_bytes_per_replication(self) -> float:
        """Bytes one replication's outputs and tables keep until the run ends."""
        return sum(term.size_bytes for term in self.held)

    def running_bytes_per_replication(self) -> float:
        """Bytes one replication's model needs while it runs."""
        return sum(term.size_bytes for term in self.running)

    def data_bytes(self, replications: int | None = None, processes: int | None = None) -> float:
        """The run's data (interpreters left out), at its peak: every replication's outputs
        held while ``processes`` replications run."""
        replications = self.replications if replications is None else replications
        processes = min(self.processes if processes is None else processes, replications)
        return replications * self.held_bytes_per_replication() + processes * self.running_bytes_per_replication()

    def total_bytes(self, replications: int | None = None, processes: int | None = None) -> float:
        """The run's memory at its peak: its data and an interpreter per process (the main
        one, and each worker)."""
        replications = self.replications if replications is None else replications
        processes = min(self.processes if processes is None else processes, replications)
        interpreters = 1 + (processes if processes > 1 else 0)
        return self.data_bytes(replications, processes) + interpreters * PROCESS_BYTES

    def largest_term(self) -> Term:
        """The part of a replication that needs the most memory."""
        merged: dict[str, Term] = {}
        for term in (*self.held, *self.running):
            seen = merged.get(term.key)
            size = term.size_bytes + (seen.size_bytes if seen else 0.0)
            merged[term.key] = Term(term.key, term.value, size, term.what)
        return max(merged.values(), key=lambda term: term.size_bytes)


def cases_driver(cfg: SimConfig, prefix: str) -> tuple[str, object]:
    """Of the keys that set a force's number of cases, the one furthest above its default:
    the horizon, the referral rate (or the busiest month of the schedule within the horizon),
    its growth, or the initial backlog."""
    from .schema import DemandConfig, RunConfig

    d, default_demand, default_run = cfg.demand, DemandConfig(), RunConfig()
    horizon_days = cfg.run.horizon_days
    without_growth = dataclasses.replace(d, growth_per_year=0.0).expected_referrals_until(horizon_days)
    factors = [
        (horizon_days / default_run.horizon_days, "run.horizon_days", horizon_days),
        (d.referrals_per_month / default_demand.referrals_per_month, f"{prefix}demand.referrals_per_month",
         d.referrals_per_month),
        (cfg.expected_referrals() / without_growth if without_growth > 0 else 0.0, f"{prefix}demand.growth_per_year",
         d.growth_per_year),
        (d.initial_backlog.size / max(default_demand.initial_backlog.size, 1), *_backlog_key(cfg, prefix)),
    ]
    if d.referrals_by_month:  # referrals_per_month is not used
        months_run = d.referrals_by_month[:math.ceil(horizon_days / DAYS_PER_MONTH)]
        busiest = max(range(len(months_run)), key=months_run.__getitem__)
        factors[1] = (months_run[busiest] / default_demand.referrals_per_month,
                      f"{prefix}demand.referrals_by_month[{busiest}]", months_run[busiest])
    _, key, value = max(factors, key=lambda factor: factor[0])
    return key, value


def _backlog_key(cfg: SimConfig, prefix: str) -> tuple[str, object]:
    backlog = cfg.demand.initial_backlog
    if backlog.csv:
        return f"{prefix}demand.initial_backlog.csv", backlog.csv
    return f"{prefix}demand.initial_backlog.counts", dict(zip(GRADES, backlog.counts.as_tuple()))


def memory_estimate(cfg: SimConfig) -> MemoryEstimate:
    """Estimate the memory a run of ``cfg`` needs (see the module's description)."""
    run = cfg.run
    force_configs = cfg.force_configs()
    prefixes = [f"forces[{k}]." for k in range(len(cfg.forces))] if cfg.forces else [""]
    samples_per_series = math.floor(run.horizon_days / run.monitor_interval_days) + 1
    series = len(force_configs) * (len(STAGES) * len(WIP_GRADES) + _UNIT_SERIES_PER_FORCE) + _REGIONAL_UNIT_SERIES
    samples = samples_per_series * series
    if run.monitor_interval_days < 1:
        sample_key, sample_value = "run.monitor_interval_days", run.monitor_interval_days
    else:
        sample_key, sample_value = "run.horizon_days", run.horizon_days
    sample_words = (f"{samples:,} time-series values: {series} series sampled every {run.monitor_interval_days:g} "
                    f"days over {run.horizon_days:g} days")
    held = [Term(sample_key, sample_value, samples * HELD_BYTES_PER_SAMPLE, sample_words)]
    running = [Term(sample_key, sample_value, samples * RUNNING_BYTES_PER_SAMPLE, sample_words)]
    for prefix, force in zip(prefixes, force_configs):
        cases = force.expected_cases()
        key, value = cases_driver(force, prefix)
        words = f"about {cases:,.0f} cases{' of ' + force.force if cfg.forces else ''} over {run.horizon_days:g} days"
        held.append(Term(key, value, cases * HELD_BYTES_PER_CASE, words))
        running.append(Term(key, value, cases * RUNNING_BYTES_PER_CASE, words))
        applications = force.stages.warrant.max_applications
        running.append(Term(f"{prefix}stages.warrant.max_applications", applications,
                            cases * applications * RUNNING_BYTES_PER_APPLICATION,
                            f"draws for {applications} warrant applications of each of about {cases:,.0f} cases"))
        recruitment, staffing = force.staffing.recruitment, force.staffing
        vacancies = recruitment.investigators * (1 + staffing.caseload_limit) + recruitment.researchers
        running.append(Term(f"{prefix}staffing.recruitment.investigators", recruitment.investigators,
                            vacancies * RUNNING_BYTES_PER_VACANCY,
                            f"{vacancies:,} posts and caseload slots held vacant until recruits arrive"))
    return MemoryEstimate(run.replications, _workers_here(run)[1], tuple(held), tuple(running))


def _workers_here(run) -> tuple[str, int]:
    """The key setting how many replications run at once on this machine, and that number:
    a local Dask cluster's workers, none beside the main process for a scheduler elsewhere,
    else the local workers."""
    if run.local_cluster:
        return "run.local_cluster", run.local_cluster
    if run.scheduler:
        return "run.scheduler", 1
    return "run.workers", run.workers


def _cgroup_limit_bytes() -> int | None:
    """The memory limit of this process's control group (a container's), if one is set."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            return int(text)
    return None


@functools.cache
def machine_memory_bytes() -> int | None:
    """This machine's memory (physical pages times page size), or its container's limit if
    lower; None where the system does not say (the check is then skipped)."""
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    if physical <= 0:
        return None
    limit = _cgroup_limit_bytes()
    return min(physical, limit) if limit else physical


def format_bytes(size: float) -> str:
    """``size`` in the largest binary unit that keeps it at least 1 (``"3.2 GiB"``)."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            value = size / scale
            return f"{value:.2g} {unit}" if value < 10 else f"{value:,.0f} {unit}"
    return f"{size:.0f} B"


def check_memory(cfg: SimConfig, replications: int | None = None, machine_bytes: int | None = None) -> None:
    """Raise ConfigError unless a run of ``cfg`` (of ``replications``, default
    ``cfg.run.replications``) fits in ``USABLE_SHARE`` of this machine's memory (or of
    ``machine_bytes``), naming the key that drives the size most: the replications, the
    workers, or what makes one replication large (its horizon, demand, sampling...)."""
    machine = machine_memory_bytes() if machine_bytes is None else machine_bytes
    if not machine:
        return
    estimate = memory_estimate(cfg)
    replications = estimate.replications if replications is None else replications
    usable = USABLE_SHARE * machine
    if estimate.total_bytes(replications) <= usable:
        return
    allows = f"this machine allows {format_bytes(usable)} ({USABLE_SHARE:.0%} of its {format_bytes(machine)})"
    per_replication = estimate.held_bytes_per_replication()
    if estimate.total_bytes(1, 1) <= usable and estimate.total_bytes(replications, 1) > usable:
        fit = int((usable - estimate.running_bytes_per_replication() - PROCESS_BYTES) // per_replication)
        raise ConfigError("run.replications", replications,
                          f"{replications:,} replications need about {format_bytes(estimate.total_bytes(replications))} "
                          f"of memory (about {format_bytes(per_replication)} each, held until the tables are built); "
                          f"{allows}: at most {fit:,} fit")
    if estimate.total_bytes(replications, 1) <= usable:
        fit = max(w for w in range(1, estimate.processes + 1) if estimate.total_bytes(replications, w) <= usable)
        key, _ = _workers_here(cfg.run)
        raise ConfigError(key, getattr(cfg.run, key.split(".")[1]),
                          f"{estimate.processes} replications at once need about "
                          f"{format_bytes(estimate.total_bytes(replications))} of memory (about "
                          f"{format_bytes(estimate.running_bytes_per_replication() + PROCESS_BYTES)} for each worker); "
                          f"{allows}: at most {fit} workers fit")
    term = estimate.largest_term()
    raise ConfigError(term.key, term.value,
                      f"one replication needs about {format_bytes(estimate.total_bytes(1, 1))} of memory, most of it "
                      f"for {term.what}; {allows}")

