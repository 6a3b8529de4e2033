"""A calibration's folder: the force's YAML and its projection overlays, its open cases as a
backlog CSV, and the tables behind every number (docs/calibration.md lists each file)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..config.convert import leaves
from ..config.schema import ByGrade, SimConfig
from ..core.distributions import Distribution
from ..domain import GRADES
from ..io.atomic import atomic_write
from ..io.manifest import provenance, write_manifest
from .calibrate import Calibration, is_fixed
from .overlay import PROJECTIONS, force_overlay, projection_overlay, yaml_value

CALIBRATION_COLUMNS = ["parameter", "value", "low", "high", "unit", "method", "n", "source"]

SET_BY_CALIBRATION = {
    "demand.bulk_package_probability": "a case log's row is one suspect: no package brings several",
    "demand.initial_backlog.counts": "the backlog is the log's open cases (open_cases.csv)",
    "demand.referrals_by_month": "the trend and growth carry on from the extract date",
}
"""Keys the calibration sets by how a log is read, not by estimating them."""


def _source(log_name: str, kind: str) -> str:
    return {"log": f"fitted from {log_name}", "fit": f"fitted by simulation to {log_name}",
            "fixed": "your setting", "default": "estimate, not in the data",
            "calibration": "set by the calibration"}[kind]


def _expanded(config: SimConfig) -> dict[str, Any]:
    """Every parameter of ``config`` by key, a per-grade set as one key a grade; run control,
    names and the backlog's case list left out."""
    out: dict[str, Any] = {}
    for key, value in leaves(config).items():
        if key.startswith("run.") or key in ("scenario", "force", "demand.initial_backlog.cases",
                                             "demand.initial_backlog.csv"):
            continue
        if isinstance(value, ByGrade):
            out.update({f"{key}.{g}": v for g, v in zip(GRADES, value.as_tuple())})
        else:
            out[key] = value
    return out


def calibration_table(calibration: Calibration) -> pd.DataFrame:
    """Every parameter of the calibrated force: its value, interval, method, the cases it
    rests on and its source (the log, the simulation fit, the force's own setting, the
    calibration's reading of a log, or casesim's estimate)."""
    name = calibration.log_name
    rows: dict[str, dict[str, Any]] = {}
    for key, value in _expanded(calibration.config).items():
        shown = yaml_value(value) if isinstance(value, (Distribution, tuple, list)) else value
        fixed = is_fixed(key, calibration.fixed)
        reason = next((why for prefix, why in SET_BY_CALIBRATION.items()
                       if key == prefix or key.startswith(prefix + ".")), "")
        kind = "fixed" if fixed else "calibration" if reason else "default"
        rows[key] = {"parameter": key, "value": shown, "low": math.nan, "high": math.nan, "unit": "",
                     "method": reason, "n": pd.NA, "source": _source(name, kind)}
    for e in calibration.estimates:
        if e.sets_config and is_fixed(e.key, calibration.fixed):
            continue
        rows[e.key] = {"parameter": e.key, "value": e.value, "low": e.low, "high": e.high, "unit": e.unit,
                       "method": e.method, "n": e.n,
                       "source": _source(name, "log") + ("" if e.sets_config else " (reported, not a setting)")}
    if calibration.fit is not None:
        fit = calibration.fit
        method = (f"history matching with Gaussian-process emulators: {fit.runs} simulated replications; "
                  f"the interval holds the values not ruled out ({fit.plausible_share:.1%} of the range)")
        configured = _expanded(calibration.config)
        for row in fit.table.itertuples(index=False):
            value = configured.get(row.key, row.value)
            result = f"; the distribution: {yaml_value(value)}" if isinstance(value, Distribution) else ""
            rows[row.key] = {"parameter": row.key, "value": row.value, "low": row.low, "high": row.high,
                             "unit": row.unit, "method": f"{method}; moves {row.moves}{result}",
                             "n": calibration.n_cases, "source": _source(name, "fit")}
    return pd.DataFrame(list(rows.values()), columns=CALIBRATION_COLUMNS)


def _header(calibration: Calibration, command: str) -> str:
    return (f"{calibration.config.force}: calibrated from {calibration.log_name} ({calibration.n_cases:,} referrals, "
            f"{calibration.start:%Y-%m-%d} to {calibration.as_of:%Y-%m-%d}).\n"
            f"Made by: {command}\n"
            "Every value below differs from casesim's baseline; its comment says where it came from\n"
            "(calibration.csv lists every parameter, with intervals). Day 0 is the extract date.")


def _write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def write_calibration(calibration: Calibration, folder: Path, baseline: SimConfig, overrides: Sequence[str],
                      command: str, wall_time_seconds: float) -> list[Path]:
    """Write the calibration's files into ``folder`` (which exists), the manifest last.
    ``baseline``: the config the force's YAML builds on (its differences are written)."""
    name = calibration.config.force
    written: list[Path] = []

    def keep(path: Path) -> Path:
        written.append(path)
        return path

    _write_csv(keep(folder / "open_cases.csv"), calibration.backlog.table)
    table = calibration_table(calibration)
    sources = {row.parameter: f"{row.source}" + (f": {row.low:.4g} to {row.high:.4g} {row.unit}".rstrip()
                                                 if pd.notna(row.low) else "")
               for row in table.itertuples(index=False)}
    # a per-grade set is one line of YAML: the source of its grades, their intervals in calibration.csv
    for key in {k.rsplit(".", 1)[0] for k in sources if k.rsplit(".", 1)[-1] in GRADES}:
        source = sources[f"{key}.VH"].split(":")[0]
        sources[key] = source + (" (each grade's interval: calibration.csv)" if source.startswith("fitted") else "")
    header = _header(calibration, command)
    _write_text(keep(folder / f"{name}.yaml"),
                force_overlay(baseline, calibration.config, sources, header, folder / "open_cases.csv"))
    monthly = calibration.projection
    for which in PROJECTIONS:
        _write_text(keep(folder / f"{name}_projection_{which}.yaml"), projection_overlay(
            name, monthly, which, f"{name} on the {which} projection of its referrals "
                                  f"({monthly['month'].iloc[0]:%Y-%m} on; projection.csv).\nMade by: {command}"))
    _write_csv(keep(folder / "calibration.csv"), table)
    _write_csv(keep(folder / "projection.csv"), monthly)
    _write_csv(keep(folder / "monthly_referrals.csv"), calibration.referrals.monthly)
    _write_csv(keep(folder / "observed.csv"), pd.DataFrame(
        {"statistic": list(calibration.observed), "observed": list(calibration.observed.values())}))
    warnings = pd.DataFrame([{"warning": w.what, "cases": w.count, "examples": " ".join(w.examples)}
                             for w in calibration.warnings], columns=["warning", "cases", "examples"])
    _write_csv(keep(folder / "log_warnings.csv"), warnings)
    if calibration.fit is not None:
        _write_csv(keep(folder / "fit_residuals.csv"), calibration.fit.residuals)
        _write_csv(keep(folder / "fit_design.csv"), calibration.fit.design)
        atomic_write(keep(folder / "fit_plausible.parquet"), lambda tmp: calibration.fit.plausible.to_parquet(tmp))
    return written


def calibration_manifest(calibration: Calibration, overrides: Sequence[str], wall_time_seconds: float,
                         complete: bool) -> dict[str, Any]:
    """The manifest of a calibration folder."""
    fit = calibration.fit
    return {
        "complete": complete,
        "log": calibration.log_name,
        "cases": calibration.n_cases,
        "start": f"{calibration.start:%Y-%m-%d}",
        "as_of": f"{calibration.as_of:%Y-%m-%d}",
        "fixed": list(calibration.fixed),
        "fitted": [p.key for p in fit.parameters] if fit else [],
        "simulated_replications": fit.runs if fit else 0,
        "plausible_share": fit.plausible_share if fit else None,
        "made": dt.datetime.now().isoformat(timespec="seconds"),
        **provenance(calibration.config, overrides, wall_time_seconds),
    }


def finish_folder(calibration: Calibration, folder: Path, overrides: Sequence[str], wall_time_seconds: float) -> Path:
    """Write the manifest, last: the folder is complete."""
    return write_manifest(folder, calibration_manifest(calibration, overrides, wall_time_seconds, True))
