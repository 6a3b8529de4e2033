"""The nation: the 43 forces of England and Wales in their regions follow from their table,
and a replication of regions that share nothing, run a region at a time (in one process or
several), gives exactly the tables of the whole nation in one simulation."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import sim
from sim.config.design import config_hash
from sim.config.load import CONFIG_DIR
from sim.config.nation import NATIONAL_REFERRALS_PER_MONTH, nation_yaml, read_table
from sim.config.schema import ForceConfig, SimConfig
from sim.errors import ConfigError
from sim.running.executors import LocalExecutor
from sim.running.regions import region_order
from sim.running.runner import split_by_region

TABLE = CONFIG_DIR / "forces" / "england_and_wales.csv"
SHORT = ["forces=england_and_wales", "run.replications=2", "run.horizon_days=100", "run.progress=false"]
REGIONS = {"north_east", "north_west", "yorkshire_and_humber", "east_midlands", "west_midlands", "eastern",
           "london", "south_east", "south_west", "southern_wales"}


def test_the_national_yaml_follows_from_its_table():
    assert (CONFIG_DIR / "forces" / "england_and_wales.yaml").read_text() == nation_yaml(read_table(TABLE)), \
        "run `python -m sim.config.nation` after editing the table"


def test_the_table_holds_the_43_forces_in_their_regions():
    rows = read_table(TABLE)
    assert len(rows) == 43 == len({row["force"] for row in rows})
    assert {row["region"] for row in rows} == REGIONS
    # England and Wales had 59,597,542 usual residents at the 2021 Census; the table's rounded figures add up to it
    assert abs(sum(row["population"] for row in rows) / 59_597_542 - 1) < 0.005
    cfg = sim.load_config(["forces=england_and_wales"])
    assert sum(f.demand.referrals_per_month for f in cfg.forces) == pytest.approx(NATIONAL_REFERRALS_PER_MONTH,
                                                                                    abs=0.5)
    by_name = {f.name: f for f in cfg.forces}
    assert by_name["metropolitan"].staffing.investigators > by_name["cumbria"].staffing.investigators
    assert set(cfg.regions()) == REGIONS and sum(len(m) for m in cfg.regions().values()) == 43


def _tables(results: sim.Results) -> list[pd.DataFrame]:
    """The tables, categories as plain text (the two runs name their units' owners alike but
    list them differently) and rows in one order."""
    out = []
    for frame in (results.cases, results.pools, results.timeseries, results.summary()):
        frame = frame.copy()
        for column in frame.columns:
            if isinstance(frame[column].dtype, pd.CategoricalDtype):
                frame[column] = frame[column].astype(object)
        out.append(frame.sort_values(list(frame.columns[:min(6, len(frame.columns))])).reset_index(drop=True))
    return out


@pytest.fixture(scope="module")
def by_region():
    return _tables(sim.simulate(sim.load_config(SHORT)))


def test_regions_run_apart_give_the_nation_in_one_simulation(by_region):
    whole = sim.load_config([*SHORT, "collaboration.scope=nation"])
    assert len(whole.regions()) == 1
    one = _tables(sim.simulate(whole))
    for split, together in zip(by_region[:3], one[:3]):
        pd.testing.assert_frame_equal(split, together)
    # the summary: the same rows, the nation's total named for it, and the regions' totals besides
    split, together = by_region[3], one[3]
    regional = split["force"].str.startswith("region ")
    assert set(split.loc[regional, "force"]) == {f"region {name}" for name in REGIONS}
    together = together.assign(force=together["force"].replace({"region": "nation"}))
    pd.testing.assert_frame_equal(split[~regional].reset_index(drop=True),
                                  together.sort_values(list(together.columns[:6])).reset_index(drop=True))


def test_regions_in_processes_give_the_regions_run_in_turn(by_region):
    cfg = sim.load_config([*SHORT, "run.workers=2"])
    assert split_by_region(cfg, 2, 2)  # two replications on two workers: a region a task
    for parallel, serial in zip(_tables(sim.simulate(cfg)), by_region):
        pd.testing.assert_frame_equal(parallel, serial)


def test_whole_replications_in_processes_give_the_regions_run_in_turn(by_region):
    cfg = sim.load_config(SHORT)
    executor = LocalExecutor(1)
    assert not split_by_region(cfg, 2, executor.workers)  # a replication a task, its regions joined on the worker
    for parallel, serial in zip(_tables(sim.simulate(cfg, executor=executor)), by_region):
        pd.testing.assert_frame_equal(parallel, serial)
    executor.close()


def test_regions_on_a_dask_cluster_give_the_regions_run_in_turn(by_region):
    pytest.importorskip("distributed")
    cfg = sim.load_config([*SHORT, "run.local_cluster=2"])
    assert cfg.run.on_dask() and config_hash(cfg) == config_hash(sim.load_config(SHORT))
    for on_dask, serial in zip(_tables(sim.simulate(cfg)), by_region):
        pd.testing.assert_frame_equal(on_dask, serial)


def test_regions_are_sent_largest_first():
    cfg = sim.load_config(SHORT)
    names = [name for name, _ in cfg.region_configs()]
    order = [names[k] for k in region_order(cfg)]
    assert order[0] == "london" and order[-1] == "southern_wales" and sorted(order) == sorted(names)


def test_a_scheduler_and_a_local_cluster_together_are_one_line():
    with pytest.raises(ConfigError, match=r"run\.local_cluster.*0 when run\.scheduler is given"):
        sim.load_config(["run.scheduler=tcp://127.0.0.1:8786", "run.local_cluster=2"])


@pytest.mark.parametrize("address", ["not-an-address", "tcp://", "tcp://host", "http://host:8786", "tcp://a b:1"])
def test_a_bad_scheduler_is_named_by_its_key(address):
    with pytest.raises(ConfigError, match=r"^run\.scheduler=.*PROTOCOL://HOST:PORT"):
        sim.load_config([*SHORT, f"run.scheduler='{address}'"])


@pytest.mark.parametrize("address", ["tcp://10.0.0.5:8786", "tls://head.cluster:8786", "tcp://[::1]:8786"])
def test_a_scheduler_address_the_configuration_takes_dask_takes_too(address):
    pytest.importorskip("distributed")
    from sim.running.executors import _check_scheduler_address

    assert sim.load_config([*SHORT, f"run.scheduler='{address}'"]).run.scheduler == address
    if not address.startswith("tls"):  # tls needs this machine's certificate settings besides
        _check_scheduler_address(address)


def test_a_regions_total_is_its_forces_together(by_region):
    cases = by_region[0]
    summary = by_region[3]
    for region in ("london", "north_east"):
        counted = summary[(summary["force"] == f"region {region}") & (summary["metric"] == "cases")
                          & (summary["by"] == "true_risk")]["estimate"].sum()
        measured = cases[(cases["region"] == region) & ~cases["backlog"]].groupby("replication").size().mean()
        assert counted == pytest.approx(measured)


def test_regional_pooling_stays_within_each_region():
    cfg = sim.load_config([*SHORT, "run.replications=1", "collaboration.pooling.investigators=true",
                           "staffing.caseload_limit=4"])
    cases = sim.simulate(cfg).cases
    region_of = cfg.region_of
    held = cases.dropna(subset=["investigated_by"])
    crossed = held[held["investigated_by"].astype(str) != held["force"].astype(str)]
    assert len(crossed) > 0, "no case was lent: the check below would be empty"
    assert all(region_of[a] == region_of[b] for a, b in zip(crossed["force"].astype(str),
                                                             crossed["investigated_by"].astype(str)))
    national = sim.load_config([*SHORT, "run.replications=1", "collaboration.pooling.investigators=true",
                                "staffing.caseload_limit=4", "collaboration.scope=nation"])
    cases = sim.simulate(national).cases
    held = cases.dropna(subset=["investigated_by"])
    pairs = zip(held["force"].astype(str), held["investigated_by"].astype(str))
    assert any(region_of[a] != region_of[b] for a, b in pairs), "pooled across the nation, some case crosses a region"


def test_a_surge_unit_in_each_region_is_named_for_it():
    cfg = sim.load_config([*SHORT, "run.replications=1", "scenario=rocu_surge", "forces=england_and_wales",
                           "collaboration.surge.queue_threshold=0"])
    results = sim.simulate(cfg)
    surge = results.pools[results.pools["force"].astype(str).str.startswith("surge ")]
    assert {name.split(" ", 1)[1] for name in surge["force"].astype(str)} == REGIONS


@pytest.mark.parametrize("forces, key, said", [
    ((ForceConfig("a", region="x"), ForceConfig("b")), "forces[1].region", "every force needs a region"),
    ((ForceConfig("a", region="region"), ForceConfig("b", region="y")), "forces[0].region", "a name other than"),
])
def test_bad_regions_are_named(forces, key, said):
    with pytest.raises(ConfigError) as refused:
        dataclasses.replace(SimConfig(), forces=forces).validate()
    assert refused.value.key == key and said in refused.value.allowed


def test_a_bad_scope_and_a_region_key_of_the_wrong_kind_are_one_line():
    with pytest.raises(ConfigError, match=r"collaboration.scope='everywhere': one of region, nation"):
        sim.load_config(["collaboration.scope=everywhere"])


def test_one_force_of_a_region_is_changed_by_name():
    cfg = sim.load_config(["forces=england_and_wales", "forces.kent.staffing.investigators=50",
                           "forces.kent.region=south_east"])
    kent = next(f for f in cfg.forces if f.name == "kent")
    assert (kent.staffing.investigators, kent.region) == (50, "south_east")
    assert [f.staffing.investigators for f in cfg.forces if f.name != "kent"] == \
        [f.staffing.investigators for f in sim.load_config(["forces=england_and_wales"]).forces if f.name != "kent"]


def _casesim(*args: str, cwd) -> "subprocess.CompletedProcess":
    import subprocess
    import sys
    from pathlib import Path

    return subprocess.run([str(Path(sys.executable).parent / "casesim"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_the_command_runs_one_force_changed_by_name(tmp_path):
    import json

    done = _casesim("forces=three_forces", "forces.large_force.staffing.investigators=50", "run.replications=1",
                    "run.horizon_days=60", "run.progress=false", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert [f["staffing"]["investigators"] for f in manifest["config"]["forces"]] == [10, 20, 50]
    assert "forces.large_force.staffing.investigators=50" in manifest["overrides"]


@pytest.mark.parametrize("args, said", [
    (["forces=[{name: a},{name: b}]"], "casesim: error: forces='[{name: a},{name: b}]': a config group: the name of"),
    (["forces.kent.staffing.investigators=5"], "casesim: error: forces.kent.staffing.investigators=5: this "
                                               "configuration lists no forces"),
    (["forces=three_forces", "forces.kent.staffing.investigators=5"], "'kent' is not a force of this region"),
    (["forces=three_forces", "forces.small_force.bogus=1"], "a force's own key"),
    (["-m", "forces=three_forces", "forces.small_force.staffing.investigators=5,6"], "a multirun changes one force"),
])
def test_bad_forces_on_the_command_line_are_one_line(args, said, tmp_path):
    done = _casesim(*args, cwd=tmp_path)
    assert done.returncode == 2 and said in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert not (tmp_path / "outputs").exists() and not (tmp_path / "multirun").exists()


def test_the_command_says_how_the_regions_run(capsys):
    from sim.cli.common import say_regions

    nation = sim.load_config(["forces=england_and_wales"])
    say_regions("casesim", nation)
    say_regions("casesim", dataclasses.replace(nation, run=dataclasses.replace(nation.run, workers=2)))
    say_regions("casesim", dataclasses.replace(nation, run=dataclasses.replace(nation.run, workers=2, replications=2)))
    say_regions("casesim", dataclasses.replace(nation, run=dataclasses.replace(nation.run, local_cluster=3)))
    say_regions("casesim", sim.load_config(["forces=england_and_wales", "collaboration.scope=nation"]))
    say_regions("casesim", sim.load_config(["forces=three_forces"]))
    assert capsys.readouterr().out.splitlines() == [
        "casesim: 10 regions that share nothing, each its own simulation in turn (run.workers=2 runs two at a time)",
        "casesim: 10 regions that share nothing, each its own simulation; a replication's regions in turn, "
        "2 replications at a time",
        "casesim: 10 regions that share nothing, each its own simulation, 2 at a time",
        "casesim: 10 regions that share nothing, each its own simulation, side by side on a Dask cluster of 3 workers",
        "casesim: collaboration.scope=nation: the 10 regions' forces work together, so they run as one simulation "
        "in one process"]
