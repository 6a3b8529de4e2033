"""Where each region of England and Wales is drawn on the nation's grid of forces, and what
it is called, read from ``sim/data/region_grid.csv``. The figures place blocks by it and the
console and the reports name regions by it, so this module imports no plotting library.

>>> blocks = read_region_grid()
>>> blocks["north_east"].name, blocks["north_east"].columns
('North East', 2)
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from ..data import REGION_GRID

__all__ = ["RegionBlock", "read_region_grid"]


@dataclass(frozen=True)
class RegionBlock:
    """Where a region is drawn on the grid: its block's lower-left corner (``x`` east, ``y``
    north, in tiles), the tiles a row holds and its name as written."""

    region: str
    name: str
    x: float
    y: float
    columns: int


def read_region_grid(path: str | Path = REGION_GRID) -> dict[str, RegionBlock]:
    """The regions' blocks by region, in the file's order (``sim/data/region_grid.csv`` by
    default, read once a process). Each call returns a dict of its own: changing it changes
    no other caller's."""
    blocks = _shipped_blocks() if Path(path) == REGION_GRID else _blocks(path)
    return {block.region: block for block in blocks}


@functools.cache
def _shipped_blocks() -> tuple[RegionBlock, ...]:
    return _blocks(REGION_GRID)


def _blocks(path: str | Path) -> tuple[RegionBlock, ...]:
    with open(path, newline="", encoding="utf-8") as handle:
        return tuple(RegionBlock(row["region"], row["name"], float(row["x"]), float(row["y"]), int(row["columns"]))
                     for row in csv.DictReader(handle))
