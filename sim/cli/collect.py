"""``casesim-collect``: gather a sweep's or a multirun's points into sweep.parquet (and a
sweep's replications into replications.parquet); also the sensitivity outputs that end a
sampled sweep (shared with ``casesim-sweep``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from ..errors import ConfigError
from .common import Parser, command, save_figures


@command("casesim-collect")
def main(argv: Sequence[str] | None = None) -> None:
    """``casesim-collect DIR``: gather every design point (or multirun job) under DIR into
    DIR/sweep.parquet (a casesim-sweep folder's replications into DIR/replications.parquet
    too) and list failed and missing points. Each point's files are checked against the sizes
    and checksums in its point.json: a damaged point is named on stderr (one line each) and
    marked failed, and the command exits with code 1."""
    parser = Parser(prog="casesim-collect", description=main.__doc__)
    parser.add_argument("directory", help="a sweep's or a multirun's folder, e.g. outputs/sweep/smoke")
    args = parser.parse_args(argv)
    folder = Path(args.directory)
    if not folder.is_dir():
        raise ConfigError("directory", args.directory, "no such folder")
    sweep_files = ("design.json", "points", "failed")
    if not (any((folder / name).exists() for name in sweep_files) or any(folder.rglob("point.json"))):
        raise ConfigError("directory", args.directory, "no sweep here: no design.json and no point.json under it; "
                                                       "give a casesim-sweep or casesim -m output folder")

    import pandas as pd

    from ..io.collect import collect, design_problem, status_counts
    from ..present.console import counts_text

    damaged: list[str] = []

    def report(message: str) -> None:
        damaged.append(message)
        print(f"casesim-collect: {message}", file=sys.stderr)

    try:
        collect(folder, table=False, report=report)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise ConfigError("directory", args.directory, f"cannot be collected: {exc.strerror or exc}{where}") from None
    also = f" and {folder / 'replications.parquet'}" if (folder / "replications.parquet").is_file() else ""
    print(f"collected {counts_text(status_counts(folder))} into {folder / 'sweep.parquet'}{also}")
    points = pd.read_parquet(folder / "sweep.parquet", columns=["point", "status"]).drop_duplicates("point")
    for status in ("failed", "missing"):
        for key in points.loc[points["status"] == status, "point"]:
            print(f"  {status}: {key}")
    if design_problem(folder) is None:  # the sampled or uncertain parameters are read from the design
        write_sensitivity_outputs(folder)
        write_uncertainty_outputs(folder)
    if damaged:
        raise SystemExit(1)


def write_sensitivity_outputs(sweep_folder: str | Path) -> None:
    """For a sweep over a sampled design: the sensitivity indices of the tail metrics its
    design supports (sensitivity.csv) and their figures: figures/tornado.png (regression),
    figures/sobol.png (Sobol' S1 and ST), figures/morris.png (Morris mu*-sigma plane)."""
    from ..io.analysis_folders import write_sensitivity_table

    folder = Path(sweep_folder)
    indices = write_sensitivity_table(folder)
    if indices is None:
        return
    from ..present.plots import morris_plot, sobol_plot, tornado_plot

    drawn = {"regression": ("tornado.png", tornado_plot), "sobol": ("sobol.png", sobol_plot),
             "morris": ("morris.png", morris_plot)}
    figures = {name: draw(indices) for method, (name, draw) in drawn.items() if (indices["method"] == method).any()}
    save_figures(folder, figures)
    print(f"wrote {folder / 'sensitivity.csv'} and {', '.join(f'figures/{name}' for name in figures)}")


def write_uncertainty_outputs(sweep_folder: str | Path) -> None:
    """For a two-level sweep over uncertain parameters: uncertainty.csv, benefit.csv when
    scenarios are compared, and each scenario's benefit in words for the headline rows of
    the whole region (or the single force)."""
    import pandas as pd

    from ..io.analysis_folders import write_uncertainty_tables
    from ..results.catalogue import HEADLINE
    from ..results.sensitivity import total_force

    folder = Path(sweep_folder)
    written = write_uncertainty_tables(folder)
    if written is None:
        return
    _, benefit = written
    print(f"wrote {folder / 'uncertainty.csv'}" + (" and benefit.csv" if benefit is not None else ""))
    if benefit is None:
        return
    force = total_force(benefit)
    for metric, by, grade in HEADLINE:
        for scenario in pd.unique(benefit["scenario"]):
            rows = benefit[(benefit["force"] == force) & (benefit["metric"] == metric) & (benefit["by"] == by)
                           & (benefit["grade"] == grade) & (benefit["scenario"] == scenario)]
            for sentence in rows["sentence"]:
                if sentence:
                    print(f"  {sentence}")
