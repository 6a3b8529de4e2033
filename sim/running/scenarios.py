"""Running the baseline and scenarios on common random numbers, paired replication by replication."""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import pandas as pd

from ..config.load import load_config
from ..config.memory import check_memory
from ..config.schema import SimConfig
from ..errors import ConfigError
from ..model import ReplicationOutput
from ..results import replication_metrics
from ..results.comparison import Comparison, paired_differences
from .runner import cluster_for, simulate


def load_scenarios(names: Sequence[str], overrides: Sequence[str] = ()) -> tuple[SimConfig, list[SimConfig]]:
    """The baseline and the named scenarios (``configs/scenario/NAME.yaml``), each with the
    same ``overrides`` on top. Raises ConfigError if a name is unknown or a scenario changes
    the run itself (seed, replications, horizon), which would break the pairing."""
    for override in overrides:
        if override.split("=", 1)[0].lstrip("+~") == "scenario":
            raise ConfigError("overrides", override, "name scenarios as arguments, not as an override")
    duplicated = sorted({name for name in names if list(names).count(name) > 1})
    if duplicated:
        raise ConfigError("scenarios", ", ".join(duplicated), "each scenario once")
    base = load_config(["scenario=baseline", *overrides])
    others = []
    for name in names:
        if name == "baseline":
            raise ConfigError("scenarios", name, "the baseline is always run; name the scenarios to compare with it")
        others.append(load_config([f"scenario={name}", *overrides]))
    check_pairable(base, others)
    return base, others


def check_pairable(baseline: SimConfig, scenarios: Sequence[SimConfig]) -> None:
    """Raise ConfigError unless every scenario runs as the baseline (seed, replications,
    horizon) on the same forces, paired replications seeing the same cases, and the
    comparison fits in memory: it holds every run's replications until the end."""
    for cfg in scenarios:
        if cfg.run != baseline.run:
            changed = [field.name for field in dataclasses.fields(cfg.run)
                       if getattr(cfg.run, field.name) != getattr(baseline.run, field.name)]
            raise ConfigError(f"scenario {cfg.scenario}", ", ".join(f"run.{name}" for name in changed),
                              "a scenario must not change the run (seed, replications, horizon): pairs need the "
                              "same runs")
        if cfg.force_names != baseline.force_names:
            raise ConfigError(f"scenario {cfg.scenario}", "forces: " + ", ".join(cfg.force_names),
                              f"must model the baseline's forces ({', '.join(baseline.force_names)}) for pairs of "
                              "the same cases: run both on that region (e.g. add forces=three_forces)")
    runs, replications = 1 + len(scenarios), baseline.run.replications
    for cfg in (baseline, *scenarios):  # each as if every run were as large as it
        try:
            check_memory(cfg, replications=runs * replications)
        except ConfigError as exc:
            value = replications if exc.key == "run.replications" else exc.value  # as the user gave it
            raise ConfigError(exc.key, value, f"{exc.allowed} (the comparison holds its {runs} runs of "
                                              f"{replications} replications each until the end)") from None


def compare(baseline: SimConfig, scenarios: Sequence[SimConfig], workers: int | None = None,
            progress: bool | None = None,
            on_finished: Callable[[Comparison, str, pd.DataFrame], None] | None = None,
            on_replication: Callable[[ReplicationOutput], None] | None = None) -> Comparison:
    """Run the baseline and every scenario (same seed and replications) and pair them.

    ``on_finished``, if given, is called after the baseline and after each scenario with
    the comparison so far (the baseline and the scenarios finished, paired), the name of the
    run just finished and its per-replication metrics (``replication_metrics``), so that a
    caller can keep finished runs should the comparison be stopped part way.
    ``on_replication(output)``, if given, is called as each replication of every run
    finishes (a progress display counts them)."""
    check_pairable(baseline, scenarios)
    cluster = cluster_for(baseline)  # one Dask cluster for every run, when one is asked for
    try:
        base = simulate(baseline, workers=workers, progress=progress, on_finished=on_replication, executor=cluster)
        base_metrics = replication_metrics(base)
        results, tables = {}, []

        def so_far() -> Comparison:
            return Comparison(base, dict(results), pd.concat(tables, ignore_index=True) if tables else pd.DataFrame())

        if on_finished is not None:
            on_finished(so_far(), baseline.scenario, base_metrics)
        for cfg in scenarios:
            scenario = simulate(cfg, workers=workers, progress=progress, on_finished=on_replication, executor=cluster)
            metrics = replication_metrics(scenario)
            results[cfg.scenario] = scenario
            tables.append(paired_differences(base_metrics, metrics))
            if on_finished is not None:
                on_finished(so_far(), cfg.scenario, metrics)
        return so_far()
    finally:
        if cluster is not None:
            cluster.close()
