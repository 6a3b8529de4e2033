"""Tidy tables, censoring-aware metrics and summaries with confidence intervals."""

from .metrics import km_quantiles, km_share_waiting_past, kaplan_meier
from .summary import replication_metrics, summarise, summarise_metrics
from .tables import Results, build_results

__all__ = ["Results", "build_results", "kaplan_meier", "km_quantiles", "km_share_waiting_past",
           "replication_metrics", "summarise", "summarise_metrics"]
