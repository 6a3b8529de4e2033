"""Data files shipped with casesim: ``example_caselog.csv``, a synthetic force's case log in
the format ``casesim-calibrate`` reads (docs/caselog.md)."""

from pathlib import Path

EXAMPLE_CASE_LOG = Path(__file__).resolve().with_name("example_caselog.csv")
"""The shipped example case log: three years of a synthetic stressed medium force
(``sim.calibration.synthetic``), for trying calibration out."""
