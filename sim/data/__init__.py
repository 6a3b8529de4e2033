"""Data files shipped with casesim: ``example_caselog.csv``, a synthetic force's case log in
the format ``casesim-calibrate`` reads (docs/caselog.md)."""
