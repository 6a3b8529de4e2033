"""Data files shipped with casesim: ``example_caselog.csv``, a synthetic force's case log in
the format ``casesim-calibrate`` reads (docs/caselog.md); ``region_grid.csv``, where each
region of England and Wales is drawn on the nation's grid of forces."""

from pathlib import Path

EXAMPLE_CASE_LOG = Path(__file__).resolve().with_name("example_caselog.csv")
"""The shipped example case log: three years of a synthetic stressed medium force
(``sim.calibration.synthetic``), for trying calibration out."""

REGION_GRID = Path(__file__).resolve().with_name("region_grid.csv")
"""Where each region of England and Wales is drawn on the nation's grid of forces
(``sim.present.national_figures.force_grid``; read by ``sim.present.region_grid``): its
block's lower-left corner (``x`` east, ``y`` north, in tiles), the tiles a row of its block
holds (``columns``) and its ``name`` as written. Placed roughly where each region lies; a
region not listed is drawn below the map."""
