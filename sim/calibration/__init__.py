"""A force's own case log turned into casesim's parameters: estimated from the log where it
records them, fitted by simulation where it does not, demand projected forward, and the
result tested on months it never saw (see docs/calibration.md)."""
