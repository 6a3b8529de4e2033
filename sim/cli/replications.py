"""``casesim-replications``: how many replications a configuration needs; writes
trajectory.csv, recommendation.csv, figures/replications.png and manifest.json."""

from __future__ import annotations

import time
from typing import Sequence

from ..errors import ConfigError
from .common import Parser, command, output_folder, save_figures

RECOMMENDATION_COLUMNS = ["metric", "by", "grade", "mean", "relative_half_width", "recommended_replications",
                          "projected_replications", "note"]


@command("casesim-replications")
def main(argv: Sequence[str] | None = None) -> None:
    """``casesim-replications [key=value ...] [--max N] [--precision P] [--out DIR]``: how many
    replications the configuration needs for a confidence interval of +/- P of the mean on
    the headline outputs (the replications algorithm of Hoad, Robinson & Davies, 2010);
    writes trajectory.csv, recommendation.csv, figures/replications.png and manifest.json."""
    parser = Parser(prog="casesim-replications", description=main.__doc__)
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. scenario=fast_warrants run.workers=2")
    parser.add_argument("--max", type=int, default=40, dest="max_replications",
                        help="replications to run, 0..MAX-1 (default 40; run.replications is not used)")
    parser.add_argument("--precision", type=float, default=0.05,
                        help="relative half-width wanted, a fraction of the mean (default 0.05 = ±5 %%)")
    parser.add_argument("--out", help="output folder (default outputs/replications/DATE_TIME)")
    args = parser.parse_args(argv)

    from ..config.load import load_config
    from ..io.analysis_folders import write_replication_study_folder
    from ..running.replication_study import replication_study

    cfg = load_config(args.overrides)
    if args.max_replications < 3:
        raise ConfigError("--max", args.max_replications, "at least 3 replications (the algorithm starts from 3)")
    if not 0 < args.precision < 1:
        raise ConfigError("--precision", args.precision, "a relative half-width in (0, 1), e.g. 0.05 for ±5 %")
    started = time.perf_counter()
    study = replication_study(cfg, max_replications=args.max_replications, precision=args.precision)
    folder = output_folder(args.out, "outputs/replications/{time}")
    write_replication_study_folder(study, folder, args.overrides, args.max_replications,
                                   time.perf_counter() - started)
    from ..present.plots import replications_plot

    save_figures(folder, {"replications.png": replications_plot(study.trajectory, args.precision)})
    print(study.recommendation[RECOMMENDATION_COLUMNS].round(3).to_string(index=False))
    needed = study.replications_needed
    if needed is not None:
        print(f"\n{needed} replications give ±{args.precision:.0%} on every output above")
    else:
        print(f"\n{args.max_replications} replications do not confirm ±{args.precision:.0%} on every output: "
              "see projected_replications and the notes")
    print(f"wrote {folder}")
