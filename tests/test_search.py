"""The staffing search: its verdict, bisection against a full scan, the cheapest mix."""

from __future__ import annotations

import dataclasses

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
    cmd = [sys.executable, "-c", "from sim.cli import search_main; search_main()", *QUICK, "--risks", "L",
           "--within-days", "60", "--max-share-late", "0.5", "--max-investigators", "30", "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "answer:" in r.stdout and (out / "runs.csv").is_file()
    bad = subprocess.run(cmd[:3] + ["--risks", "X"], capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and "--risks" in bad.stderr
