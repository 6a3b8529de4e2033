"""``casesim-collect``: gather a sweep's or a multirun's points into sweep.parquet; also the
sensitivity outputs that end a sampled sweep (shared with ``casesim-sweep``)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..errors import ConfigError
from .common import Parser, command, save_figures


@command("casesim-collect")
def main(argv: Sequence[str] | None = None) -> None:
    """``casesim-collect DIR``: gather every design point (or multirun job) under DIR into
    DIR/sweep.parquet and list failed and missing points."""
    parser = Parser(prog="casesim-collect", description=main.__doc__)
    parser.add_argument("directory")
    args = parser.parse_args(argv)
    folder = Path(args.directory)
    if not folder.is_dir():
        raise ConfigError("directory", args.directory, "no such folder")

    import pandas as pd

    from ..io.collect import collect, status_counts

    collect(folder, table=False)
    print(f"{status_counts(folder)} -> {folder / 'sweep.parquet'}")
    points = pd.read_parquet(folder / "sweep.parquet", columns=["point", "status"]).drop_duplicates("point")
    for status in ("failed", "missing"):
        for key in points.loc[points["status"] == status, "point"]:
            print(f"  {status}: {key}")
    write_sensitivity_outputs(folder)


def write_sensitivity_outputs(sweep_folder: str | Path) -> None:
    """For a sweep over a sampled design: regression sensitivity indices of the tail metrics
    (sensitivity.csv) and their tornado plot (figures/tornado.png)."""
    from ..io.analysis_folders import write_sensitivity_table

    folder = Path(sweep_folder)
    indices = write_sensitivity_table(folder)
    if indices is None:
        return
    from ..present.plots import tornado_plot

    save_figures(folder, {"tornado.png": tornado_plot(indices)})
    print(f"wrote {folder / 'sensitivity.csv'} and figures/tornado.png")
