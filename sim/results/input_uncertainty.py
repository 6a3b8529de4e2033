"""Input uncertainty carried to the answer: a two-level (nested) design's variance split.

Some parameters are estimates, not known values (docs/parameters.md marks them [E]). A
two-level run draws ``m`` **outer** samples of those parameters from distributions that say
what is plausible, and runs ``n`` **inner** replications at each. A metric's replication
value ``Y[i, j]`` (outer sample ``i``, replication ``j``) then varies for two reasons: the
parameters (which outer sample) and the simulation's own randomness (which replication).
The one-way random-effects model

    Y[i, j] = mu + A[i] + e[i, j],   var(A) = input variance,   var(e) = simulation variance

splits them. The estimators are the analysis of variance's, for unequal numbers of
replications per sample (Searle, Casella & McCulloch 1992, *Variance Components*, ch. 3):

    simulation variance = MSW = sum_i (n_i - 1) s_i^2 / sum_i (n_i - 1)
    input variance      = max(0, (MSB - MSW) / n0),
    MSB = sum_i n_i (ybar_i - ybar)^2 / (m - 1),   n0 = (N - sum_i n_i^2 / N) / (m - 1)

(``n0`` is ``n`` when every sample has ``n`` replications). ``input_uncertainty`` reports,
for each metric row:

- ``estimate``: the mean over the outer samples of each sample's mean (each draw of the
  parameters weighs the same: the metric's expectation over what we do not know);
- ``ci_low``, ``ci_high``: its Student-t interval over the ``m`` sample means, which vary by
  both sources at once, so the interval combines them (the nested design's interval for the
  mean response; Song, Nelson & Pegden 2014);
- ``range_low``, ``range_high``: the central ``level`` range of the sample means (2.5th and
  97.5th percentiles at 95 %): where one force's value plausibly lies across the parameters'
  distributions, each estimated from its ``n`` replications;
- ``input_variance``, ``simulation_variance`` (of one replication), and ``input_share``, the
  share of a sample mean's variance the parameters cause:
  ``input / (input + simulation / n)``, with ``n`` the mean replications a sample. Near 1,
  more replications would not narrow the range: only better knowledge of the parameters
  would. Near 0, the range is mostly simulation noise, and more replications would narrow it.
  Missing where the metric does not vary at all (every value the same).

``benefit_under_uncertainty`` pairs two scenarios' runs at the same outer samples (the same
parameters and seeds: common random numbers) and asks whether a scenario's benefit survives
the parameters' uncertainty: the range of its difference over the samples, and the share of
samples in which it is better.

References: Barton RR (2012). Tutorial: input uncertainty in output analysis. Proceedings of
the 2012 Winter Simulation Conference. Song E, Nelson BL, Pegden CD (2014). Advanced tutorial:
input uncertainty quantification. Proceedings of the 2014 Winter Simulation Conference,
162-176. Searle SR, Casella G, McCulloch CE (1992). Variance Components. Wiley.

This module is in the results layer: it works on the tidy per-replication table of a sweep
(``replications.parquet``: one row per point, replication and metric row) and never runs
the model or reads files.

>>> import numpy as np
>>> split = variance_split([np.array([1.0, 3.0]), np.array([5.0, 7.0])])
>>> split.simulation_variance, split.input_variance
(2.0, 7.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from .catalogue import HIGHER, LOWER, ROW_COLUMNS, metric
from .findings import interval_text, metric_words
from .summary import t_quantile

UNCERTAINTY_COLUMNS = ["scenario", *ROW_COLUMNS, "estimate", "ci_low", "ci_high", "range_low", "range_high",
                       "input_variance", "simulation_variance", "input_share", "outer_samples", "replications", "note"]
"""``input_uncertainty``: one row per scenario and metric row."""

BENEFIT_COLUMNS = ["scenario", "baseline", *ROW_COLUMNS, "mean_difference", "range_low", "range_high",
                   "share_better", "survives", "outer_samples", "sentence", "note"]
"""``benefit_under_uncertainty``: one row per metric row, the scenario against the baseline."""


@dataclass(frozen=True)
class VarianceSplit:
    """The one-way random-effects split of replication values grouped by outer sample."""

    mean: float  # mean of the samples' means
    input_variance: float
    simulation_variance: float  # of one replication
    samples: int
    replications: float  # mean replications a sample

    @property
    def input_share(self) -> float:
        """Share of a sample mean's variance due to the parameters (see the module's notes)."""
        total = self.input_variance + self.simulation_variance / self.replications
        return self.input_variance / total if total > 0 else math.nan


def _split(total, total_squares, between_ss, within_ss, samples) -> tuple:
    """The analysis of variance estimators of the module's notes, elementwise (one element
    per group of outer samples), from sums over a group's samples: ``total`` of their
    replications (N), ``total_squares`` of the replications squared, ``between_ss`` of each
    sample's replications times its mean's squared distance from the group's weighted mean,
    ``within_ss`` of the squares about each sample's mean; ``samples`` is m. Returns (input
    variance, simulation variance), NaN where there are fewer than two samples or no sample
    with two replications."""
    with np.errstate(divide="ignore", invalid="ignore"):
        within_df = total - samples
        simulation = np.where(within_df > 0, within_ss / within_df, np.nan)
        n0 = (total - total_squares / total) / (samples - 1)
        split = np.where(samples >= 2, np.maximum(0.0, (between_ss / (samples - 1) - simulation) / n0), np.nan)
    return split, simulation


def variance_split(groups: Sequence[np.ndarray]) -> VarianceSplit:
    """The variance split of ``groups`` (one array of replication values per outer sample,
    each with at least one value; at least two samples, and one with two values, for the
    simulation variance): the analysis of variance estimators of the module's notes."""
    groups = [np.asarray(g, dtype=float) for g in groups]
    if len(groups) < 2 or any(g.size == 0 for g in groups):
        raise ValueError(TOO_FEW_SAMPLES)
    sizes = np.array([g.size for g in groups], dtype=float)
    means = np.array([g.mean() for g in groups])
    if sizes.sum() <= len(groups):
        raise ValueError(TOO_FEW_REPLICATIONS)
    grand = (sizes * means).sum() / sizes.sum()
    within_ss = sum(((g - g.mean()) ** 2).sum() for g in groups)
    split, simulation = _split(sizes.sum(), (sizes ** 2).sum(), (sizes * (means - grand) ** 2).sum(), within_ss,
                               len(groups))
    return VarianceSplit(float(means.mean()), float(split), float(simulation), len(groups), float(sizes.mean()))


TOO_FEW_SAMPLES = "a variance split needs at least two outer samples, each with a replication"
TOO_FEW_REPLICATIONS = "a variance split needs a sample with two replications or more"


def _with_samples(table: pd.DataFrame, parameters: Sequence[str]) -> pd.DataFrame:
    """``table`` with each row's outer sample (``_sample``: the tuple of its parameters'
    values, which a scenario's points at the same draw share), text columns as plain text
    (``replications.parquet``'s are categorical), and a ``scenario`` column (empty where the
    sweep's grid does not vary the scenario)."""
    missing = [p for p in parameters if p not in table.columns]
    if missing:
        raise KeyError(f"the table has no column for the uncertain parameters {missing}")
    if not parameters:
        raise ValueError("no uncertain parameters: an outer sample is a draw of at least one")
    categorical = [c for c in table.columns if isinstance(table[c].dtype, pd.CategoricalDtype)]
    table = table.astype({c: object for c in categorical})
    if "scenario" not in table.columns:
        table = table.assign(scenario="")
    table[ROW_COLUMNS] = table[ROW_COLUMNS].fillna("")
    return table.assign(_sample=list(zip(*(table[p].tolist() for p in parameters))))


def input_uncertainty(per_rep: pd.DataFrame, parameters: Sequence[str], level: float = 0.95) -> pd.DataFrame:
    """Each scenario's and metric row's estimate over the parameters' uncertainty, its
    interval, the range of the samples' means and the variance split (``UNCERTAINTY_COLUMNS``;
    the module's notes define them). ``per_rep`` has the ``REPLICATION_METRIC_COLUMNS`` and a
    column for each of ``parameters`` (the uncertain ones, with the seed that goes with each
    draw if it has one). A replication whose value is missing (a quantile never reached) is
    left out of its sample; a metric row missing in every replication of some sample has no
    estimate over the parameters, and its note says in how many samples."""
    table = _with_samples(per_rep, parameters)
    keys = ["scenario", *ROW_COLUMNS]
    # One pass over the replications: each sample's size, defined values, mean and sum of
    # squares; then one over the samples, by metric row.
    per_sample = table.groupby([*keys, "_sample"], sort=False)["value"].agg(
        replications="size", defined="count", mean="mean", variance="var").reset_index()
    per_sample["within_ss"] = per_sample["variance"].fillna(0.0) * (per_sample["defined"] - 1).clip(lower=0)
    rows = per_sample.groupby(keys, sort=False)
    grand = (per_sample["defined"] * per_sample["mean"]).groupby([per_sample[k] for k in keys], sort=False) \
        .transform("sum") / rows["defined"].transform("sum")
    per_sample["between_ss"] = per_sample["defined"] * (per_sample["mean"] - grand) ** 2
    per_sample["squares"] = per_sample["defined"] ** 2
    per_sample["empty"] = per_sample["defined"] == 0
    low_q, high_q = (1 - level) / 2, (1 + level) / 2
    out = rows.agg(outer_samples=("mean", "size"), empty=("empty", "sum"), total=("defined", "sum"),
                   squares=("squares", "sum"), between_ss=("between_ss", "sum"), within_ss=("within_ss", "sum"),
                   all_replications=("replications", "mean"), replications=("defined", "mean"),
                   estimate=("mean", "mean"), sd=("mean", "std"))
    ranges = rows["mean"].quantile([low_q, high_q]).unstack()
    out[["range_low", "range_high"]] = ranges.loc[out.index, [low_q, high_q]].to_numpy()
    out = out.reset_index()
    samples = out["outer_samples"].to_numpy(dtype=float)
    split, simulation = _split(out["total"].to_numpy(float), out["squares"].to_numpy(float),
                               out["between_ss"].to_numpy(float), out["within_ss"].to_numpy(float), samples)
    out["input_variance"], out["simulation_variance"] = split, simulation
    with np.errstate(divide="ignore", invalid="ignore"):
        total_variance = split + simulation / out["replications"].to_numpy(float)
        out["input_share"] = np.where(total_variance > 0, split / total_variance, np.nan)
    half = np.array([t_quantile(0.5 + level / 2, m - 1) if m >= 2 else np.nan for m in samples.astype(int)]) \
        * out["sd"] / np.sqrt(samples)
    out["ci_low"], out["ci_high"] = out["estimate"] - half, out["estimate"] + half
    empty = out["empty"] > 0
    too_few = ~empty & ((samples < 2) | (out["total"] <= samples))
    out["note"] = ""
    out.loc[empty, "note"] = [f"undefined in every replication of {e} of {m} samples"
                              for e, m in zip(out.loc[empty, "empty"], out.loc[empty, "outer_samples"])]
    out.loc[too_few, "note"] = np.where(samples[too_few] < 2, TOO_FEW_SAMPLES, TOO_FEW_REPLICATIONS)
    unsplit = empty | too_few
    values = ["estimate", "ci_low", "ci_high", "range_low", "range_high", "input_variance", "simulation_variance",
              "input_share"]
    out.loc[unsplit, values] = np.nan
    # Without a split the replications a sample had are reported, missing values included.
    out.loc[unsplit, "replications"] = out.loc[unsplit, "all_replications"]
    return out[UNCERTAINTY_COLUMNS]


def benefit_under_uncertainty(per_rep: pd.DataFrame, parameters: Sequence[str], scenario: str,
                              baseline: str = "baseline", level: float = 0.95,
                              parameter_words: str = "the uncertain parameters") -> pd.DataFrame:
    """Whether ``scenario``'s difference from ``baseline`` survives the parameters'
    uncertainty, for each metric row both have (``BENEFIT_COLUMNS``). At each outer sample
    both scenarios ran with the same parameters and seeds, so their difference there is
    paired: the scenario's mean minus the baseline's. ``range_low``/``range_high`` are the
    central ``level`` range of those differences over the samples; ``share_better`` the share
    of samples in which the scenario is better (the catalogue says which way is better;
    missing for a metric that is neither); it ``survives`` when the whole range lies on the
    better side of zero. ``sentence`` says it in a planner's words."""
    table = _with_samples(per_rep, parameters)
    for name in (scenario, baseline):
        if name not in set(table["scenario"]):
            raise KeyError(f"scenario {name!r} is not in the table (it has {sorted(set(table['scenario']))})")
    means = (table[table["scenario"].isin([scenario, baseline])]
             .groupby(["scenario", *ROW_COLUMNS, "_sample"], sort=False)["value"].mean())
    wide = means.unstack("scenario")
    paired = (wide[scenario] - wide[baseline]).rename("difference").reset_index()
    paired["undefined"] = ~np.isfinite(paired["difference"])
    paired["lower"], paired["higher"] = paired["difference"] < 0, paired["difference"] > 0
    by_row = paired.groupby(ROW_COLUMNS, sort=False)
    low_q, high_q = (1 - level) / 2, (1 + level) / 2
    out = by_row.agg(outer_samples=("difference", "size"), undefined=("undefined", "sum"),
                     mean_difference=("difference", "mean"), lower=("lower", "mean"), higher=("higher", "mean"))
    ranges = by_row["difference"].quantile([low_q, high_q]).unstack()
    out["range_low"], out["range_high"] = ranges[low_q], ranges[high_q]
    out = out.reset_index()
    better = out["metric"].map(lambda name: metric(name).better)
    out["share_better"] = np.select([better == LOWER, better == HIGHER], [out["lower"], out["higher"]], np.nan)
    # object, not bool: a row without a difference has no verdict (missing)
    out["survives"] = (((better == LOWER) & (out["range_high"] < 0)) | ((better == HIGHER) & (out["range_low"] > 0))
                       ).astype(object)
    out["scenario"], out["baseline"], out["note"], out["sentence"] = scenario, baseline, "", ""
    undefined = out["undefined"] > 0
    out.loc[undefined, "note"] = [f"undefined in {u} of {n} samples"
                                  for u, n in zip(out.loc[undefined, "undefined"], out.loc[undefined, "outer_samples"])]
    out.loc[undefined, ["mean_difference", "range_low", "range_high", "share_better", "survives"]] = np.nan
    out.loc[~undefined, "sentence"] = [_benefit_sentence(row, parameter_words) for row in
                                       out.loc[~undefined].to_dict("records")]
    return out[BENEFIT_COLUMNS]


def _benefit_sentence(record: dict, parameter_words: str) -> str:
    """``"fast_warrants changes the median time to arrest of truly high-risk cases by −5.1 to
    −3.0 days across the plausible range of ...: better in every sample"`` for a row of
    ``benefit_under_uncertainty``."""
    label, unit = metric_words(record["metric"], record["by"], record["grade"])
    where = f" ({record['force']})" if record["force"] else ""
    low, high, share_better = record["range_low"], record["range_high"], record["share_better"]
    verdict = ("better in every sample" if share_better == 1 else
               f"better in {share_better:.0%} of samples" if np.isfinite(share_better) else "neither way is better")
    if record["survives"]:
        verdict += ": the benefit survives the uncertainty"
    return (f"{record['scenario']} changes the {label}{where} by {interval_text(low, high, unit)} "
            f"across the plausible range of {parameter_words}: {verdict}")
