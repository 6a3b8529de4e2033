"""Gaussian-process emulators of a simulation's summary statistics over the fitted parameters.

Each statistic's mean over the replications at a design point is emulated over the
parameters' unit cube by a Gaussian process, with the replications' own noise on that mean
given to it as known noise (so the emulator smooths the simulation's noise rather than
interpolating it): a Matern 5/2 kernel with a length scale per parameter (automatic
relevance determination) and a small nugget for what the parameters leave unexplained (whole
numbers rounded, say), fitted by maximum marginal likelihood (scikit-learn), its variance
scaled up by its leave-one-out errors where it proves overconfident. How much one
history of the force varies about that mean (the replication variance) is taken from the
nearest design point. Statistics are emulated on a scale where their noise is roughly even:
counts and mean waits as log(1 + y).

References: Rasmussen & Williams (2006), Gaussian Processes for Machine Learning, ch. 2 and 5;
Kennedy & O'Hagan (2001), Bayesian calibration of computer models, JRSS B 63:425.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

SD_FLOOR = 1e-3
"""The smallest replication standard deviation (on the emulated scale) a statistic is given:
a statistic the simulation never varies still has a little noise, or one mismatch would
exclude every parameter value."""


def emulated_scale(values: np.ndarray) -> np.ndarray:
    """A statistic (a mean wait in days, or a count) on the scale it is emulated on: log(1 + y)."""
    return np.log1p(np.maximum(np.asarray(values, dtype=float), 0.0))


def _gaussian_process(dimensions: int, seed: int):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * Matern(np.full(dimensions, 0.3), (1e-2, 1e2), nu=2.5)
              + WhiteKernel(1e-3, (1e-8, 1e0)))
    return GaussianProcessRegressor(kernel, normalize_y=False, n_restarts_optimizer=0, random_state=seed)


@dataclass
class _Fitted:
    process: object
    centre: float
    spread: float
    inflation: float = 1.0

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            mean, sd = self.process.predict(x, return_std=True)
        return self.centre + self.spread * mean, self.inflation * (self.spread * sd) ** 2


def leave_one_out_inflation(process) -> float:
    """How much a fitted process understates its own errors: the mean square of its
    leave-one-out residuals, each in its leave-one-out standard deviations (closed form for
    fixed hyperparameters: Rasmussen & Williams 2006, section 5.4.2), at least 1. An emulator
    whose variance it multiplies is as uncertain as it proves to be on its own design
    points (Bastos & O'Hagan 2009, Diagnostics for Gaussian process emulators, Technometrics
    51:425)."""
    from scipy.linalg import cho_solve

    inverse = cho_solve((process.L_, True), np.eye(process.L_.shape[0]))
    diagonal = np.diag(inverse)
    z = process.alpha_.ravel() / np.sqrt(diagonal)  # residual / its sd: (alpha_i / K^-1_ii) * sqrt(K^-1_ii)
    return max(1.0, float(np.mean(z**2)))


def _fit_one(x: np.ndarray, y: np.ndarray, noise_variance: np.ndarray, seed: int) -> _Fitted:
    from threadpoolctl import threadpool_limits

    centre, spread = float(np.mean(y)), float(np.std(y)) or 1.0
    process = _gaussian_process(x.shape[1], seed)
    process.set_params(alpha=np.maximum(noise_variance / spread**2, 1e-10))
    # matrices of a hundred points: several BLAS threads only contend (3x slower on 2 cores)
    with warnings.catch_warnings(), threadpool_limits(1):  # a length scale at its bound: a parameter not used
        warnings.simplefilter("ignore")
        process.fit(x, (y - centre) / spread)
        inflation = leave_one_out_inflation(process)
    return _Fitted(process, centre, spread, inflation)


class SummaryEmulator:
    """Emulators of statistics ``names`` from design points ``x`` (n x d, the unit cube) and
    each point's replications ``runs`` (n x replications x statistics, on the emulated scale;
    NaN where a run could not compute one: that point is left out of that statistic)."""

    def __init__(self, x: np.ndarray, runs: np.ndarray, names: tuple[str, ...], seed: int = 0):
        from scipy.spatial import cKDTree

        self.names = names
        self._processes = []
        counted = np.sum(~np.isnan(runs), axis=1)  # points x statistics
        with warnings.catch_warnings():  # fewer than two runs computing a statistic: NaN, pooled below
            warnings.simplefilter("ignore", RuntimeWarning)
            variances = np.nanvar(runs, axis=1, ddof=1) if runs.shape[1] > 1 else np.full(counted.shape, np.nan)
            self._variances = np.where(counted >= 2, variances, np.nan)
            pooled = np.nanmedian(self._variances, axis=0)
        self._variances = np.maximum(np.where(np.isnan(self._variances), pooled, self._variances), SD_FLOOR**2)
        self._tree = cKDTree(x)
        for j in range(len(names)):
            keep = counted[:, j] >= 1
            means = np.nanmean(runs[keep, :, j], axis=1)
            self._processes.append(_fit_one(x[keep], means, self._variances[keep, j] / counted[keep, j], seed))

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """At points ``x`` (m x d): each statistic's emulated mean, the emulator's variance of
        that mean, and the replication variance (m x statistics each)."""
        predictions = [process.predict(x) for process in self._processes]
        _, nearest = self._tree.query(x)
        return (np.column_stack([mean for mean, _ in predictions]),
                np.column_stack([variance for _, variance in predictions]), self._variances[nearest])
