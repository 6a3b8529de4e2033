"""The staffing search: its verdict, bisection against a full scan, the cheapest mix."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest

import sim
from sim.running.search import Target, assess, search_investigators, search_mix

QUICK = ["run.replications=3", "run.horizon_days=365", "run.progress=false"]
# Low-risk referrals within 60 days for at least half of them: met by enough investigators.
LOW = Target(risks=("L",), within_days=60.0, max_share_late=0.5, confidence=0.9)


def test_assess_uses_an_upper_confidence_bound():
    res = sim.simulate(sim.load_config(QUICK))
    v = assess(res, LOW)
    assert v["share_late"] <= v["share_late_upper"] <= 1
    loose = assess(res, Target(("L",), 60.0, max_share_late=v["share_late_upper"] + 1e-6))
    strict = assess(res, Target(("L",), 60.0, max_share_late=(v["share_late"] + v["share_late_upper"]) / 2))
    assert loose["meets_target"] and not strict["meets_target"]  # the mean alone would pass


@pytest.fixture(scope="module")
def search():
    return search_investigators(sim.load_config(QUICK), LOW, low=14, high=30)


def test_bisection_agrees_with_a_full_scan(search):
    cfg = sim.load_config(QUICK)
    verdicts = {}
    for n in range(14, 31):
        c = cfg.replace(staffing=dataclasses.replace(cfg.staffing, investigators=n))
        verdicts[n] = assess(sim.simulate(c), LOW)["meets_target"]
    first = min(n for n, ok in verdicts.items() if ok)
    assert all(verdicts[n] for n in range(first, 31))  # monotone in investigators
    assert search.answer["staffing.investigators"] == first
    assert len(search.runs) < len(verdicts)  # bisection, not a scan


def test_search_reports_the_runs_behind_the_answer(search):
    runs = search.runs
    n = search.answer["staffing.investigators"]
    assert runs.loc[runs["staffing.investigators"] == n, "meets_target"].all()
    below = runs[runs["staffing.investigators"] < n]
    assert not below.empty and not below["meets_target"].any()


def test_unreachable_target_says_so():
    r = search_investigators(sim.load_config(QUICK), Target(("H",), within_days=1.0), high=24)
    assert r.answer is None and len(r.runs) == 1


def test_cheapest_mix_is_the_first_feasible_in_cost_order():
    grid = {"staffing.investigators": [18, 22, 26], "staffing.researchers": [4, 6]}
    costs = {"staffing.investigators": 55_000.0, "staffing.researchers": 40_000.0}
    r = search_mix(sim.load_config(QUICK), grid, costs, LOW)
    assert r.answer is not None and r.answer["meets_target"]
    tried = r.runs
    assert (tried["cost"].diff().dropna() >= 0).all()
    assert not tried.iloc[:-1]["meets_target"].any()
    assert r.answer["cost"] == pytest.approx(r.answer["staffing.investigators"] * 55_000 + r.answer["staffing.researchers"] * 40_000)


def test_search_refuses_uncosted_grid_keys_and_fractional_staff():
    cfg = sim.load_config(QUICK)
    with pytest.raises(sim.ConfigError, match="cost"):
        search_mix(cfg, {"staffing.investigators": [20, 22], "staffing.researchers": [4]},
                   {"staffing.investigators": 1.0}, LOW)
    with pytest.raises(sim.ConfigError, match="whole number"):
        search_mix(cfg, {"staffing.investigators": [20.5]}, {"staffing.investigators": 1.0}, LOW)


def test_search_command(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "s"
    # Overrides may follow the options.
    cmd = [sys.executable, "-c", "from sim.cli import search_main; search_main()", "--risks", "L",
           "--within-days", "60", "--max-share-late", "0.5", "--max-investigators", "30", "--out", str(out), *QUICK]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "Answer: staffing.investigators = " in r.stdout and "{" not in r.stdout
    runs = pd.read_csv(out / "runs.csv")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["levels_run"] == len(runs)
    assert manifest["investigators"] == {"low": 20, "high": 30} and "grid" not in manifest
    assert manifest["target"] == {"risks": ["L"], "within_days": 60.0, "max_share_late": 0.5,
                                  "max_cases_past_18_months": 0, "confidence": 0.9}
    assert manifest["overrides"] == QUICK and manifest["config"]["run"]["horizon_days"] == 365


def test_search_checks_everything_before_the_first_level(monkeypatch):
    import sim.running.search as search

    monkeypatch.setattr(search, "simulate", lambda *args, **kwargs: pytest.fail("ran a level"))
    cfg = sim.load_config(QUICK)
    with pytest.raises(sim.ConfigError, match=r"^run.replications=1: the search needs at least 2"):
        search_investigators(sim.load_config([*QUICK, "run.replications=1"]), LOW, high=30)
    with pytest.raises(sim.ConfigError, match=r"^target.within_days=-5"):
        search_investigators(cfg, dataclasses.replace(LOW, within_days=-5.0), high=30)
    with pytest.raises(sim.ConfigError, match=r"^high=10: a whole number of investigators from today's 20"):
        search_investigators(cfg, LOW, high=10)
    with pytest.raises(sim.ConfigError, match=r"^grid staffing.investigators=-5: headcount must be >= 1"):
        search_mix(cfg, {"staffing.investigators": [20, -5]}, {"staffing.investigators": 1.0}, LOW)
    with pytest.raises(sim.ConfigError, match=r"^costs='staffing.researchers': not a grid key"):
        search_mix(cfg, {"staffing.investigators": [20]}, {"staffing.researchers": 1.0}, LOW)
    # A caller's own names for the values: the command's options.
    with pytest.raises(sim.ConfigError, match=r"^--within-days=nan"):
        search.check_search(cfg, dataclasses.replace(LOW, within_days=float("nan")),
                            names={"within_days": "--within-days"})


def test_each_level_is_handed_over_as_it_finishes():
    seen = []
    grid = {"staffing.investigators": [20, 21, 22]}
    # Unreachable: every mix runs.
    result = search_mix(sim.load_config([*QUICK, "run.horizon_days=60", "run.replications=2"]), grid,
                        {"staffing.investigators": 1.0}, Target(("H",), within_days=1.0),
                        on_level=lambda runs: seen.append(runs["staffing.investigators"].tolist()))
    assert seen == [[20], [20, 21], [20, 21, 22]]
    assert result.answer is None and len(result.runs) == 3
