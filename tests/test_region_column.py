"""Every table where forces appear has a ``region`` column beside ``force``: a force's region
(``cfg.region_of``), the region a shared unit serves, and empty where forces have none."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import sim
from sim.domain import REGION, SURGE
from sim.results.replication_count import recommend_replications, replication_trajectory
from sim.results.summary import summarise_metrics

SHORT = ["run.replications=1", "run.horizon_days=90", "run.progress=false"]
SHARED = ["scenario=rocu_surge", "collaboration.surge.queue_threshold=0"]


def _owners(results: sim.Results) -> dict[str, pd.DataFrame]:
    """The pools and time series rows, owners and regions as text."""
    return {name: frame.assign(force=frame["force"].astype(str), region=frame["region"].astype(str))
            for name, frame in (("pools", results.pools), ("timeseries", results.timeseries))}


def _check_beside_force(results: sim.Results) -> None:
    for frame in (results.cases, results.pools, results.timeseries):
        columns = list(frame.columns)
        assert columns.index("region") == columns.index("force") + 1


def _three_forces(region: str) -> sim.SimConfig:
    cfg = sim.load_config(["forces=three_forces", *SHORT, *SHARED])
    return dataclasses.replace(cfg, forces=tuple(dataclasses.replace(f, region=region) for f in cfg.forces))


@pytest.mark.parametrize("region", ["", "thames"])
def test_a_three_force_regions_tables_name_each_forces_region_and_its_shared_units(region):
    cfg = _three_forces(region)
    results = sim.simulate(cfg)
    _check_beside_force(results)
    for name, frame in _owners(results).items():
        own = frame[frame["force"].isin(cfg.force_names)]
        assert len(own) and (own["region"] == own["force"].map(cfg.region_of)).all(), name
        shared = frame[~frame["force"].isin(cfg.force_names)]
        assert set(shared["force"]) <= {REGION, SURGE}
        assert (shared["region"] == region).all(), name
    assert (results.pools["force"].astype(str) == SURGE).any(), "no shared unit: the check above would be empty"


def test_the_nations_tables_name_each_forces_region_and_each_regions_shared_units():
    cfg = sim.load_config(["forces=england_and_wales", *SHORT, *SHARED])
    results = sim.simulate(cfg)
    _check_beside_force(results)
    regions = set(cfg.regions())
    assert len(regions) == 10 and "" not in regions
    for name, frame in _owners(results).items():
        own = frame[frame["force"].isin(cfg.force_names)]
        assert set(own["force"]) == set(cfg.force_names), name
        assert (own["region"] == own["force"].map(cfg.region_of)).all(), name
        shared = frame[~frame["force"].isin(cfg.force_names)]
        kind_and_region = shared["force"].str.split(" ", n=1, expand=True)
        assert set(kind_and_region[0]) <= {REGION, SURGE}, name
        assert (kind_and_region[1] == shared["region"]).all(), name
    surge = results.pools[results.pools["force"].astype(str).str.startswith(f"{SURGE} ")]
    assert set(surge["region"]) == regions


def test_a_single_forces_tables_have_an_empty_region():
    results = sim.simulate(sim.load_config(SHORT))
    _check_beside_force(results)
    for name, frame in _owners(results).items():
        assert (frame["region"] == "").all(), name


# --------------------------------------------------------------------------- tables of metrics
# The per-replication metrics, the summary, the comparison, a sweep's tables, the replication
# study's tables, the sensitivity indices and the headline name each row's region beside its
# force label: a force's own, NAME on a `region NAME` row, none on the whole run's totals.

RUNS = {
    "single": ["run.horizon_days=120"],
    "three_forces": ["forces=three_forces", "run.horizon_days=120"],
    "nation": ["forces=england_and_wales", "run.horizon_days=60"],
}
QUIET = ["run.progress=false", "run.workers=1"]
POINT = {"staffing.investigators": 20, "training.assessors_trained_share": 0.5}
"""The smoke sweep's first point."""


def _expected_region(cfg: sim.SimConfig, force: str) -> str:
    """The region of a row of ``force``, read off the configuration's list of forces: a
    force's own, NAME for a region's totals or its shared unit (``region NAME``,
    ``surge NAME``), none for the whole run's totals or where forces have no region."""
    if force in cfg.force_names:
        return {f.name: f.region for f in cfg.forces}.get(force, "")
    kind, _, name = force.partition(" ")
    return name if kind in (REGION, SURGE) else ""


def _check_regions(frame: pd.DataFrame, cfg: sim.SimConfig, what: str) -> None:
    """``region`` right after ``force``, each row's the region of its force label."""
    columns = list(frame.columns)
    assert columns.index("region") == columns.index("force") + 1, what
    assert len(frame), what
    assert frame["region"].tolist() == [_expected_region(cfg, force) for force in frame["force"]], what


def _read_csv(path) -> pd.DataFrame:
    """A CSV table with an empty region kept as text (pandas' defaults read it as missing)."""
    return pd.read_csv(path, keep_default_na=False, na_values={"estimate": [""]})


@pytest.fixture(scope="module", params=list(RUNS))
def run(request, tmp_path_factory):
    """One configuration's comparison with a scenario, its folder written (but the nation's:
    a workbook of 44 sheets a run is slow to write, and the same code writes it), and a
    one-point smoke sweep of it."""
    from sim.io.analysis_folders import write_comparison_folder
    from sim.running.sweep import run_sweep

    overrides = [*RUNS[request.param], *QUIET]
    base, others = sim.load_scenarios(["fast_warrants"], ["run.replications=2", *overrides])
    comparison = sim.compare(base, others)
    folder = tmp_path_factory.mktemp(request.param)
    if request.param != "nation":
        write_comparison_folder(comparison, folder / "compare")
    one_point = [f"{key}={value}" for key, value in POINT.items()]
    run_sweep("smoke", ["run.replications=1", *overrides, *one_point], out=folder / "sweep", progress=False)
    return request.param, base, comparison, sim.replication_metrics(comparison.baseline), folder


def test_the_summary_comparison_and_sweep_tables_name_each_rows_region(run):
    name, cfg, comparison, per_rep, folder = run
    summary = comparison.baseline.summary()
    _check_regions(summary, cfg, "summary")
    _check_regions(per_rep, cfg, "replication metrics")
    _check_regions(comparison.table, cfg, "comparison")
    for table in ("summary", "comparison") if name != "nation" else ():
        _check_regions(_read_csv(folder / "compare" / f"{table}.csv"), cfg, f"{table}.csv")
    sweep = pd.read_parquet(folder / "sweep" / "sweep.parquet")
    assert set(sweep["status"]) == {"ok"}
    _check_regions(sweep, cfg, "sweep.parquet")
    _check_regions(pd.read_parquet(folder / "sweep" / "replications.parquet"), cfg, "replications.parquet")
    (point,) = (folder / "sweep" / "points").iterdir()
    for table in ("summary", "metrics"):
        _check_regions(pd.read_parquet(point / f"{table}.parquet"), cfg, f"{table}.parquet")
    regions = set(summary["region"])
    if name == "nation":
        assert summary.loc[summary["force"] == "nation", "region"].eq("").all()
        assert regions == set(cfg.regions()) | {""} and len(regions) == 11
        totals = summary[summary["force"].str.startswith(f"{REGION} ")].drop_duplicates("force")
        assert (totals["force"] == REGION + " " + totals["region"]).all() and len(totals) == 10
        assert summary.loc[summary["force"] == "kent", "region"].eq("eastern").all()
    else:
        assert regions == {""}  # neither a single force nor the three forces have regions


def test_the_replication_study_sensitivity_and_headline_tables_name_each_rows_region(run):
    from sim.results.headline import headline_rows, headline_sheets
    from sim.results.sensitivity import regression_indices

    name, cfg, comparison, per_rep, folder = run
    labels = list(dict.fromkeys(per_rep["force"]))  # the total's first, each region's, each force's
    keys = [("cases", "all", "all", force) for force in labels]
    trajectory = replication_trajectory(per_rep, keys)
    _check_regions(trajectory, cfg, "trajectory")
    _check_regions(recommend_replications(trajectory), cfg, "recommendation")
    sweep = pd.read_parquet(folder / "sweep" / "sweep.parquet")
    for force in (labels[0], labels[-1]):
        indices = regression_indices(sweep, list(POINT), force=force, resamples=10)
        _check_regions(indices, cfg, f"sensitivity of {force}")
    headline = headline_rows(headline_sheets(comparison.baseline.summary(), cfg))
    assert list(headline.columns[:2]) == ["Force", "Region"]
    assert headline["Region"].tolist() == [_expected_region(cfg, force) for force in headline["Force"]]
    if name == "nation":
        assert set(headline["Region"]) == set(cfg.regions()) | {""}


def test_a_summary_keeps_its_rows_and_values_without_or_after_a_csv_of_the_metrics(run, tmp_path):
    """The region is a label beside the key: the summary of metrics without it has the same
    rows and values (and an empty region), and metrics read back from a CSV with pandas'
    defaults (an empty region read as missing) give the same summary."""
    per_rep = run[3]
    summary = summarise_metrics(per_rep)
    without = summarise_metrics(per_rep.drop(columns="region"))
    pd.testing.assert_frame_equal(without.drop(columns="region"), summary.drop(columns="region"))
    assert (without["region"] == "").all()
    per_rep.to_csv(tmp_path / "metrics.csv", index=False)
    pd.testing.assert_frame_equal(summarise_metrics(pd.read_csv(tmp_path / "metrics.csv")), summary)
