"""Every figure by its public name: ``sim.plots`` (and ``sim.present.plots``) gathers the run,
comparison and analysis figures, so a notebook needs one import.

>>> import sim, sim.plots
>>> res = sim.simulate(sim.load_config(["run.replications=2", "run.horizon_days=200", "run.progress=false"]))
>>> fig = sim.plots.survival_figure(res)
"""

from .analysis_figures import morris_plot, replications_plot, sobol_plot, tornado_plot, warmup_plot
from .comparison_figures import forest_plot, survival_comparison
from .national_figures import force_grid, national_survival, past_18_months_bars, save_national
from .run_figures import (
                    save_all,
                    survival_by_grade,
                    survival_figure,
                    survival_misgraded,
                    where_the_time_goes,
                    wip_over_time,
)
from .style import (
                    BASELINE_COLOUR,
                    BY_LABELS,
                    DPI,
                    EIGHTEEN_MONTHS_COLOUR,
                    EIGHTEEN_MONTHS_LABEL,
                    GRADE_COLOURS,
                    GRADE_NAMES,
                    MISGRADED_COLOUR,
                    SCENARIO_COLOURS,
                    STAGE_LABELS,
                    UNGRADED_COLOUR,
                    metric_title,
                    scenario_colours,
)

__all__ = ["BASELINE_COLOUR", "BY_LABELS", "DPI", "EIGHTEEN_MONTHS_COLOUR", "EIGHTEEN_MONTHS_LABEL", "GRADE_COLOURS",
           "GRADE_NAMES", "MISGRADED_COLOUR", "SCENARIO_COLOURS", "STAGE_LABELS", "UNGRADED_COLOUR", "force_grid",
           "forest_plot", "metric_title", "morris_plot", "national_survival", "past_18_months_bars",
           "replications_plot", "save_all", "save_national", "scenario_colours", "sobol_plot", "survival_by_grade",
           "survival_comparison", "survival_figure", "survival_misgraded", "tornado_plot", "warmup_plot",
           "where_the_time_goes", "wip_over_time"]
