"""The replications algorithm (Hoad, Robinson & Davies 2010): the interval shrinks as
1/sqrt(n), the recommended number matches the t-based formula, the look-ahead rejects a
precision met only by chance, outputs without a usable mean say so, and the study runs end
to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim.errors import ConfigError
from sim.running.replication_study import ReplicationStudy, replication_study
from sim.results.replication_count import (DEFAULT_KEYS, ZERO_MEAN_NOTE, check_precision, look_ahead, projected_replications,
                                           recommend_replications, replication_trajectory)
from sim.results.summary import t_interval

LEVEL = 0.95


def frame(*sequences) -> pd.DataFrame:
    """A replication_metrics-shaped frame: sequence k is metric ``m{k}``, one row per replication."""
    rows = [("s", r, "force", f"m{k}", "all", "all", float(x))
            for k, seq in enumerate(sequences) for r, x in enumerate(seq)]
    return pd.DataFrame(rows, columns=["scenario", "replication", "force", "metric", "by", "grade", "value"])


def keys(n: int) -> list[tuple[str, str, str]]:
    return [(f"m{k}", "all", "all") for k in range(n)]


def analytic_n(mean: float, sd: float, precision: float) -> int:
    """Smallest n with t(n-1) * sd / (sqrt(n) * mean) <= precision, by brute force."""
    n = 2
    while stats.t.ppf(0.5 + LEVEL / 2, n - 1) * sd / (np.sqrt(n) * mean) > precision:
        n += 1
    return n


def rel(traj: pd.DataFrame, metric: str = "m0") -> pd.Series:
    t = traj[traj["metric"] == metric]
    return pd.Series(t["relative_half_width"].to_numpy(), index=t["replications"].to_numpy())


def test_trajectory_is_the_t_interval_of_the_first_n_replications():
    v = np.random.default_rng(3).normal(50.0, 8.0, 25)
    traj = replication_trajectory(frame(v), keys(1))
    assert list(traj["replications"]) == list(range(2, 26))
    for n in (2, 3, 10, 25):
        row = traj[traj["replications"] == n].iloc[0]
        mean, lo, hi = t_interval(v[:n], LEVEL)
        assert row["mean"] == pytest.approx(mean, rel=1e-12)
        assert row["half_width"] == pytest.approx(hi - mean, rel=1e-9)
        assert row["sd"] == pytest.approx(v[:n].std(ddof=1), rel=1e-9)
        assert row["relative_half_width"] == pytest.approx((hi - mean) / abs(mean), rel=1e-9)
        assert row["note"] == ""


def test_half_width_shrinks_as_one_over_root_n():
    # 200 independent sequences, normal(100, 10): half-width * sqrt(n) / t(n-1) is the sample
    # sd, whose average over sequences is sigma * c4(n) (c4 > 0.97 from n = 10).
    sigma = 10.0
    seqs = np.random.default_rng(11).normal(100.0, sigma, (200, 160))
    traj = replication_trajectory(frame(*seqs), keys(len(seqs)))
    mean_half = traj.groupby("replications")["half_width"].mean()
    for n in (10, 40, 160):
        scaled = mean_half[n] * np.sqrt(n) / stats.t.ppf(0.5 + LEVEL / 2, n - 1)
        assert scaled == pytest.approx(sigma, rel=0.04), n
    # Four times the replications, half the width (t quantiles differ little past n = 40).
    slope = np.polyfit(np.log([40, 80, 160]), np.log(mean_half[[40, 80, 160]].to_numpy()), 1)[0]
    assert slope == pytest.approx(-0.5, abs=0.03)


def test_recommended_n_matches_the_t_formula():
    mean, sd, precision = 100.0, 15.0, 0.05
    expected = analytic_n(mean, sd, precision)  # 38
    assert projected_replications(mean, sd, precision) == expected
    # A sequence whose every even prefix has mean 100 and sd ~15: no chance in it at all.
    alternating = np.tile([mean + sd, mean - sd], 40)
    rec = recommend_replications(replication_trajectory(frame(alternating), keys(1)), precision).iloc[0]
    assert abs(rec["recommended_replications"] - expected) <= 1
    # Normal replications: the recommendation varies with the sample, centred near the formula.
    seqs = np.random.default_rng(5).normal(mean, sd, (200, 120))
    recs = recommend_replications(replication_trajectory(frame(*seqs), keys(len(seqs))), precision)
    assert recs["recommended_replications"].notna().all()
    assert recs["recommended_replications"].median() == pytest.approx(expected, rel=0.10)
    assert recs["projected_replications"].median() == pytest.approx(expected, rel=0.05)


def test_look_ahead_rejects_a_momentary_precision():
    # Three close replications give a narrow interval by chance; the outliers that follow
    # widen it again; it settles only after many more.
    rng = np.random.default_rng(2)
    v = np.concatenate([[100.0, 102.0, 99.5, 100.2, 99.8, 60.0, 140.0], rng.normal(100.0, 10.0, 80)])
    traj = replication_trajectory(frame(v), keys(1))
    d = rel(traj)
    precision = 0.05
    first_met = int(d.index[(d <= precision).to_numpy()][0])
    assert first_met == 3 and d[6] > precision  # met, then lost
    rec = recommend_replications(traj, precision).iloc[0]
    n = int(rec["recommended_replications"])
    assert n > 7
    assert (d.loc[n:n + look_ahead(n)] <= precision).all()
    # ... and it is the first n so confirmed.
    for m in range(3, n):
        assert (d.loc[m:m + look_ahead(m)] > precision).any(), m
    # Without the look-ahead the chance precision at n=3 would have been accepted.
    assert recommend_replications(traj, precision, k_limit=0).iloc[0]["recommended_replications"] == 3


def test_look_ahead_length():
    assert [look_ahead(n) for n in (3, 50, 100, 200, 1000)] == [5, 5, 5, 10, 50]
    assert look_ahead(40, k_limit=10) == 10


def test_precision_met_without_a_complete_look_ahead_is_not_confirmed():
    mean, sd, precision = 100.0, 15.0, 0.05
    v = np.tile([mean + sd, mean - sd], 20)[:40]  # met from ~38 on, look-ahead needs ~43
    traj = replication_trajectory(frame(v), keys(1))
    rec = recommend_replications(traj, precision).iloc[0]
    assert pd.isna(rec["recommended_replications"])
    assert "look-ahead" in rec["note"] and "run more" in rec["note"]
    assert abs(rec["projected_replications"] - analytic_n(mean, sd, precision)) <= 1


def test_projected_n_when_the_precision_is_not_reached():
    v = np.random.default_rng(8).normal(100.0, 30.0, 10)
    precision = 0.05
    rec = recommend_replications(replication_trajectory(frame(v), keys(1)), precision).iloc[0]
    assert pd.isna(rec["recommended_replications"])
    assert rec["note"] == "precision not reached in 10 replications"
    m, s = v.mean(), v.std(ddof=1)
    n = int(rec["projected_replications"])
    assert n == analytic_n(m, s, precision) and n > 100
    # It is the fixed point of n = ceil((t(n-1) * s / (precision * mean))^2).
    t = stats.t.ppf(0.5 + LEVEL / 2, [n - 2, n - 1])
    assert np.ceil((t[1] * s / (precision * m)) ** 2) <= n < np.ceil((t[0] * s / (precision * m)) ** 2) + 1


@pytest.mark.filterwarnings("error")  # no division warnings either
def test_zero_mean_gets_a_note_not_an_error():
    zeros = np.zeros(12)
    symmetric = np.tile([-1.0, 1.0], 6)
    traj = replication_trajectory(frame(zeros, symmetric), keys(2))
    even = traj[traj["replications"] % 2 == 0]
    assert even["relative_half_width"].isna().all()
    assert (even["note"] == ZERO_MEAN_NOTE).all()
    recs = recommend_replications(traj, 0.05)
    assert recs["recommended_replications"].isna().all() and recs["projected_replications"].isna().all()
    assert (recs["note"] == ZERO_MEAN_NOTE).all()


def test_a_replication_without_a_value_leaves_no_recommendation():
    # Precision is met over the first replications, but replication 5 never reached the
    # quantile: the output has no mean over the replications run, so no recommendation.
    v = np.full(20, 100.0) + np.tile([0.1, -0.1], 10)
    v[5] = np.nan
    traj = replication_trajectory(frame(v), keys(1))
    assert traj.loc[traj["replications"] == 5, "note"].iloc[0] == ""
    assert traj.loc[traj["replications"] == 20, "note"].iloc[0] == "no value in 1 of 20 replications"
    rec = recommend_replications(traj, 0.05).iloc[0]
    assert pd.isna(rec["recommended_replications"]) and pd.isna(rec["projected_replications"])
    assert rec["note"] == "no value in 1 of 20 replications"


def test_unknown_key_is_named():
    with pytest.raises(ValueError, match="metric='nope'"):
        replication_trajectory(frame([1.0, 2.0, 3.0]), [("nope", "all", "all")])
    with pytest.raises(ValueError, match="precision"):
        recommend_replications(replication_trajectory(frame([1.0, 2.0, 3.0]), keys(1)), 0.0)


QUICK = ["run.horizon_days=200", "run.progress=false"]


@pytest.fixture(scope="module")
def quick_study() -> ReplicationStudy:
    return replication_study(sim.load_config(QUICK), max_replications=6)


def test_study_end_to_end(quick_study):
    study = quick_study
    rec, traj = study.recommendation, study.trajectory
    assert list(zip(rec["metric"], rec["by"], rec["grade"])) == list(DEFAULT_KEYS)
    assert (rec["force"] == study.config.total_name).all() and (rec["replications_run"] == 6).all()
    assert all(list(n) == list(range(2, 7)) for _, n in traj.groupby(["metric", "by", "grade"])["replications"])
    assert sorted(study.metrics["replication"].unique()) == list(range(6))
    # The trajectory's last mean is the mean over all the replications run.
    m = study.metrics
    backlog = m[(m["metric"] == "backlog_at_end") & (m["by"] == "all") & (m["force"] == study.config.total_name)]
    last = traj[(traj["metric"] == "backlog_at_end") & (traj["replications"] == 6)].iloc[0]
    assert last["mean"] == pytest.approx(backlog["value"].mean())
    # No case can wait 18 months in 200 days: that output has a zero mean and says so.
    past = rec[rec["metric"] == "cases_past_18_months"].iloc[0]
    assert past["note"] == ZERO_MEAN_NOTE
    # Six replications are too few for +/- 5 % on a tail; a looser precision is re-read from the same runs.
    assert study.replications_needed is None
    loose = study.recommend(10.0, k_limit=0)
    assert (loose["recommended_replications"].dropna() == 3).all()
    # Every key has a recommendation except one whose mean is zero.
    assert (loose["recommended_replications"].notna() == (loose["note"] != ZERO_MEAN_NOTE)).all()


def test_study_rejects_bad_arguments_before_running():
    cfg = sim.load_config(QUICK)
    with pytest.raises(ConfigError, match="max_replications"):
        replication_study(cfg, max_replications=2)
    with pytest.raises(ConfigError, match="precision"):
        replication_study(cfg, max_replications=5, precision=-0.1)


def test_the_command_writes_its_tables_and_a_complete_manifest(tmp_path, capsys):
    # Its bad input, a row each: tests/test_bad_input.py.
    from sim import cli

    out = tmp_path / "study"
    cli.replications_main(["--max", "4", "--out", str(out), *QUICK])  # overrides may follow the options
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is True and manifest["replications_finished"] == manifest["max_replications"] == 4
    assert manifest["config"]["run"]["horizon_days"] == 200
    rec = pd.read_csv(out / "recommendation.csv")
    assert len(rec) == len(DEFAULT_KEYS) and "recommended_replications" in rec.columns
    assert len(pd.read_csv(out / "trajectory.csv")) == 3 * len(DEFAULT_KEYS)
    assert "time_to_arrest_p50_days" in capsys.readouterr().out


def test_an_interrupted_study_keeps_the_unbroken_run_of_replications(monkeypatch):
    """Local processes finish out of order: of replications 0, 1 and 3, the study of 0 and 1
    is kept, which is exactly a study of two replications."""
    import sim.running.replication_study as module
    from sim.model import run_replication
    from sim.running.runner import Interrupted

    cfg = sim.load_config(["run.horizon_days=60", "run.progress=false"])
    finished = [run_replication(cfg, r) for r in (0, 1, 3)]

    def interrupted(*args, **kwargs):
        raise Interrupted(finished)

    monkeypatch.setattr(module, "run_replications", interrupted)
    with pytest.raises(module.StudyInterrupted) as stop:
        replication_study(cfg, max_replications=10)
    partial = stop.value.study
    assert sorted(partial.metrics["replication"].unique()) == [0, 1]
    assert partial.trajectory["replications"].unique().tolist() == [2]
    with pytest.raises(ConfigError, match="max_replications=100000"):
        replication_study(cfg, max_replications=100_000)


# --------------------------------------------------------------------------- the stopping rule of a sweep


def test_check_precision_decides_on_the_outputs_with_a_relative_precision():
    """Outputs with a zero mean or a replication without a value are ignored, with a note;
    the precision is reached when every other output's recommendation is confirmed."""
    rng = np.random.default_rng(11)
    steady = rng.normal(100.0, 1.0, 12)          # ±5 % within 3 replications
    zero = np.zeros(12)                          # no relative half-width at all
    gap = np.r_[rng.normal(30.0, 1.0, 5), np.nan, rng.normal(30.0, 1.0, 6)]  # a quantile not reached once
    per_rep = frame(steady, zero, gap)
    check = check_precision(per_rep, 0.05, keys(3))
    recommendation = recommend_replications(replication_trajectory(per_rep, keys(3)), 0.05)
    assert check.replications == 12 and check.deciding == 1
    assert check.reached and check.recommended == recommendation["recommended_replications"].iloc[0] == 3
    assert check.note.startswith("reached by 1 of 3 outputs; ignored: m1/all/all (mean is zero")
    assert "m2/all/all (no value in 1 of 12 replications)" in check.note


def test_check_precision_is_not_reached_while_one_deciding_output_falls_short():
    rng = np.random.default_rng(12)
    steady, noisy = rng.normal(100.0, 1.0, 10), rng.normal(10.0, 5.0, 10)
    check = check_precision(frame(steady, noisy), 0.05, keys(2))
    relative = rel(replication_trajectory(frame(noisy), keys(1))).iloc[-1]
    assert (check.reached, check.deciding, check.recommended) == (False, 2, None)
    assert check.note == f"not reached in 10 replications by m1/all/all ({relative:.3g})"
    # Without the noisy output, the same replications reach it.
    assert check_precision(frame(steady, noisy), 0.05, keys(1)).reached


def test_check_precision_with_no_output_able_to_decide():
    check = check_precision(frame(np.zeros(8), np.r_[np.nan, np.ones(7)]), 0.05, keys(2))
    assert (check.reached, check.deciding, check.recommended) == (False, 0, None)
    assert check.note.startswith("no output decides; ignored: m0/all/all (mean is zero")
