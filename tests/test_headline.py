"""headline.xlsx and headline.csv: every run folder and comparison folder holds them, under
readable column names, with the numbers of summary.csv rounded (days to 1 decimal, shares
as percentages to 1 decimal, counts whole), one sheet per force in a region, and the
findings (or "No findings")."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import openpyxl
import pandas as pd
import pytest

import sim
from sim.io.analysis_folders import write_comparison_folder
from sim.io.run_folder import write_run_folder
from sim.io.spreadsheet import sheet_title, write_run_headline
from sim.results.comparison import Comparison
from sim.results.headline import HEADLINE_COLUMNS, headline_sheets

# What each headline column shows: (metric, which number of its summary row, how it is rounded).
SOURCE = {
    "Cases": ("cases", "estimate", "count"),
    "Median days to arrest": ("time_to_arrest_p50_days", "estimate", "days"),
    "Median: 95 % interval low": ("time_to_arrest_p50_days", "ci_low", "days"),
    "Median: 95 % interval high": ("time_to_arrest_p50_days", "ci_high", "days"),
    "90th percentile (days)": ("time_to_arrest_p90_days", "estimate", "days"),
    "90th percentile: 95 % interval low": ("time_to_arrest_p90_days", "ci_low", "days"),
    "90th percentile: 95 % interval high": ("time_to_arrest_p90_days", "ci_high", "days"),
    "Share past target (%)": ("share_past_target", "estimate", "percent"),
    "Share past target: 95 % interval low (%)": ("share_past_target", "ci_low", "percent"),
    "Share past target: 95 % interval high (%)": ("share_past_target", "ci_high", "percent"),
    "Cases past 18 months": ("cases_past_18_months", "estimate", "count"),
}
BY = {"Assigned grade": "assigned_grade", "True risk": "true_risk", "All referrals": "all",
      "True VH or H, graded lower": "misgraded_high_risk"}


def _rounded(value: float, kind: str) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return {"days": round(value, 1), "percent": round(value * 100, 1), "count": round(value)}[kind]


def _sheet(workbook: openpyxl.Workbook, title: str) -> pd.DataFrame:
    rows = list(workbook[title].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def _assert_matches_summary(table: pd.DataFrame, summary: pd.DataFrame, force: str) -> int:
    """Every number of ``table`` (a headline sheet of ``force``) is its summary.csv number,
    rounded; returns how many numbers were compared."""
    ours = summary[summary["force"] == force].set_index(["metric", "by", "grade"])
    compared = 0
    for _, row in table.iterrows():
        by = BY[row["Grouped by"]]
        grade = row["Risk grade"].split()[0] if by in ("assigned_grade", "true_risk") else "all"
        for heading, (metric, column, kind) in SOURCE.items():
            if (metric, by, grade) not in ours.index:
                assert row[heading] is None or pd.isna(row[heading]), (heading, by, grade)
                continue
            expected = _rounded(float(ours.loc[(metric, by, grade), column]), kind)
            shown = row[heading]
            if expected is None:
                assert shown is None or pd.isna(shown), (heading, by, grade)
            else:
                assert shown == pytest.approx(expected, abs=1e-9), (heading, by, grade, shown, expected)
                compared += 1
    return compared


@pytest.fixture(scope="module")
def run_folder(quick_results, tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    write_run_folder(quick_results, folder)
    return folder


def test_a_run_folder_holds_the_headline_workbook_with_readable_headers(run_folder, quick_cfg):
    workbook = openpyxl.load_workbook(run_folder / "headline.xlsx")
    assert workbook.sheetnames == ["Headlines", "Findings"]
    headers = [cell.value for cell in workbook["Headlines"][1]]
    assert headers == HEADLINE_COLUMNS
    assert not any("_" in header for header in headers), "internal metric names leaked into the headers"
    assert {"Risk grade", "Median days to arrest", "90th percentile (days)", "Median: 95 % interval low"} <= set(headers)
    sheet = workbook["Headlines"]
    assert sheet.freeze_panes == "E2"  # the header row and the columns naming a row stay in view
    assert all(sheet.column_dimensions[letter].width >= 6 for letter in "ABCDEFGHIJKLMNOPQR")
    assert sheet.column_dimensions["C"].width >= len("True VH or H, graded lower")
    table = _sheet(workbook, "Headlines")
    assert list(table["Grouped by"].unique()) == list(BY)
    assert list(table["Risk grade"][:4]) == ["VH (very high)", "H (high)", "M (medium)", "L (low)"]
    assert list(table["Target (days)"][:4]) == list(quick_cfg.targets_days.as_tuple())
    assert set(table["Force"]) == {quick_cfg.total_name}
    assert set(table["Region"]) == {None}  # a single force has no region: blank cells
    assert _sheet(workbook, "Findings")["Finding"].tolist() == ["No findings"]


def test_the_workbook_and_the_csv_hold_summary_csv_numbers_rounded(run_folder, quick_cfg):
    summary = pd.read_csv(run_folder / "summary.csv")
    table = _sheet(openpyxl.load_workbook(run_folder / "headline.xlsx"), "Headlines")
    assert _assert_matches_summary(table, summary, quick_cfg.total_name) >= 80
    as_csv = pd.read_csv(run_folder / "headline.csv", encoding="utf-8-sig")
    assert list(as_csv.columns) == HEADLINE_COLUMNS
    assert _assert_matches_summary(as_csv.replace({np.nan: None}), summary, quick_cfg.total_name) >= 80
    # rounded as said: days and percentages to one decimal, counts whole
    for heading, (_, _, kind) in SOURCE.items():
        values = as_csv[heading].dropna().to_numpy()
        digits = 0 if kind == "count" else 1
        assert np.allclose(values, np.round(values, digits)), heading


def test_findings_are_written_one_a_row(tmp_path, quick_results):
    summary = quick_results.summary()
    lines = ["High-risk referrals wait 12 days at the median.", "Low-risk referrals miss their target."]
    write_run_headline(tmp_path, summary, quick_results.config, lines)
    workbook = openpyxl.load_workbook(tmp_path / "headline.xlsx")
    assert _sheet(workbook, "Findings")["Finding"].tolist() == lines
    write_run_headline(tmp_path, summary, quick_results.config, [])
    assert _sheet(openpyxl.load_workbook(tmp_path / "headline.xlsx"), "Findings")["Finding"].tolist() == ["No findings"]


def test_a_quantile_not_reached_is_blank_and_noted(quick_cfg):
    columns = ["force", "metric", "by", "grade", "estimate", "ci_low", "ci_high", "n_replications", "note"]
    force = quick_cfg.total_name
    summary = pd.DataFrame([
        (force, "time_to_arrest_p90_days", "true_risk", "L", np.nan, np.nan, np.nan, 10, "not reached in 3 of 10 replications"),
        (force, "time_to_arrest_p50_days", "true_risk", "L", 240.04, 198.0, 285.0, 10, ""),
        (force, "share_past_target", "true_risk", "L", 0.98765, 0.97, 1.0, 10, ""),
        (force, "cases", "true_risk", "L", 412.4, 400.0, 425.0, 10, ""),
    ], columns=columns)
    row = headline_sheets(summary, quick_cfg)["Headlines"].set_index(["Grouped by", "Risk grade"]).loc[("True risk", "L (low)")]
    assert pd.isna(row["90th percentile (days)"])
    assert row["Note"] == "90th percentile (days): not reached in 3 of 10 replications"
    assert (row["Median days to arrest"], row["Share past target (%)"], row["Cases"], row["Replications"]) == (
        240.0, 98.8, 412, 10)


@pytest.fixture(scope="module")
def regional_results():
    return sim.simulate(sim.load_config(["run.replications=2", "run.horizon_days=200", "run.progress=false",
                                         "forces=three_forces"]))


def test_a_regional_run_has_one_sheet_per_force(regional_results, tmp_path):
    cfg = regional_results.config
    write_run_folder(regional_results, tmp_path)
    workbook = openpyxl.load_workbook(tmp_path / "headline.xlsx")
    assert workbook.sheetnames == ["Headlines", *cfg.force_names, "Findings"]
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert set(_sheet(workbook, "Headlines")["Force"]) == {"region"}
    assert _assert_matches_summary(_sheet(workbook, "Headlines"), summary, "region") > 0
    for name in cfg.force_names:
        table = _sheet(workbook, name)
        assert set(table["Force"]) == {name}
        assert _assert_matches_summary(table, summary, name) > 0
    as_csv = pd.read_csv(tmp_path / "headline.csv", encoding="utf-8-sig")
    assert list(as_csv["Force"].unique()) == ["region", *cfg.force_names]
    assert as_csv["Region"].isna().all()  # the three forces have no region: empty cells
    assert len(as_csv) == 4 * len(_sheet(workbook, "Headlines"))


def test_a_comparison_folder_holds_each_run_under_its_scenario(quick_results, tmp_path):
    comparison = Comparison(quick_results, {"copy": quick_results})
    write_comparison_folder(comparison, tmp_path)
    workbook = openpyxl.load_workbook(tmp_path / "headline.xlsx")
    assert workbook.sheetnames == ["Headlines", "Findings"]
    table = _sheet(workbook, "Headlines")
    assert list(table.columns) == ["Scenario", *HEADLINE_COLUMNS]
    assert list(table["Scenario"].unique()) == ["baseline", "copy"]
    assert workbook["Headlines"].freeze_panes == "F2"
    summary = pd.read_csv(tmp_path / "summary.csv")
    for name in ("baseline", "copy"):
        rows = table[table["Scenario"] == name].drop(columns="Scenario")
        assert _assert_matches_summary(rows, summary[summary["scenario"] == name], quick_results.config.total_name) > 0
    assert list(pd.read_csv(tmp_path / "headline.csv", encoding="utf-8-sig")["Scenario"].unique()) == ["baseline", "copy"]


@pytest.mark.parametrize("name, taken, title", [
    ("small_force", [], "small_force"),
    ("a/b:c*d?[e]\\f", [], "a_b_c_d__e__f"),
    ("'quoted'", [], "quoted"),
    ("x" * 40, [], "x" * 31),
    ("Findings", ["findings"], "Findings (2)"),
    ("x" * 40, ["x" * 31], "x" * 27 + " (2)"),
    ("", [], "Sheet"),
])
def test_a_force_name_becomes_a_sheet_name_excel_takes(name, taken, title):
    assert sheet_title(name, taken) == title
    assert len(title) <= 31


def test_forces_named_like_the_other_sheets_keep_a_sheet_of_their_own(regional_results, tmp_path):
    cfg = regional_results.config
    first, second, third = cfg.forces
    named = cfg.replace(forces=(dataclasses.replace(first, name="Headlines"), dataclasses.replace(second, name="Findings"),
                                dataclasses.replace(third, name="North/East")))
    summary = regional_results.summary()
    summary["force"] = summary["force"].replace(dict(zip(cfg.force_names, named.force_names)))
    write_run_headline(tmp_path, summary, named, ["A finding."])
    workbook = openpyxl.load_workbook(tmp_path / "headline.xlsx")
    assert workbook.sheetnames == ["Headlines", "Headlines (force)", "Findings (2)", "North_East", "Findings"]
    assert set(_sheet(workbook, "Headlines")["Force"]) == {"region"}
    assert set(_sheet(workbook, "Findings (2)")["Force"]) == {"Findings"}
    assert _sheet(workbook, "Findings")["Finding"].tolist() == ["A finding."]
    assert _assert_matches_summary(_sheet(workbook, "North_East"), summary, "North/East") > 0
