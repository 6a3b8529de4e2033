"""Tidy tables, the catalogue of metrics, censoring-aware metrics and summaries with confidence intervals."""

from .catalogue import HEADLINE, KEY_COLUMNS, METRICS, REPLICATION_KEYS, TAIL_METRICS, Metric, metric
from .metrics import kaplan_meier, km_quantiles, km_restricted_mean, km_share_waiting_past
from .replication_count import recommend_replications, replication_trajectory
from .sensitivity import morris_indices, regression_indices, sensitivity_indices, sobol_indices
from .summary import replication_metrics, summarise, summarise_metrics
from .tables import Results, build_results
from .warmup import (
                     WarmupSuggestion,
                     mser,
                     replication_average,
                     suggest_warmup,
                     trend_r_squared,
                     welch,
                     welch_moving_average,
)

__all__ = ["HEADLINE", "KEY_COLUMNS", "METRICS", "Metric", "REPLICATION_KEYS", "Results", "TAIL_METRICS",
           "build_results", "metric", "kaplan_meier", "km_quantiles", "km_restricted_mean", "km_share_waiting_past",
           "morris_indices", "recommend_replications", "regression_indices", "replication_metrics",
           "replication_trajectory", "sensitivity_indices", "sobol_indices", "summarise", "summarise_metrics",
           "WarmupSuggestion", "mser", "replication_average", "suggest_warmup", "trend_r_squared", "welch",
           "welch_moving_average"]
