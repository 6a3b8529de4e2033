"""Every table where forces appear has a ``region`` column beside ``force``: a force's region
(``cfg.region_of``), the region a shared unit serves, and empty where forces have none."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import sim
from sim.domain import REGION, SURGE

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
