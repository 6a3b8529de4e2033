"""``casesim-replications``: how many replications a configuration needs; writes
trajectory.csv, recommendation.csv, figures/replications.png and manifest.json."""

from __future__ import annotations

import time
from typing import Sequence

from ..errors import ConfigError
from .common import Parser, claim_output_folder, command, kept_nothing, save_figures

RECOMMENDATION_COLUMNS = ["metric", "by", "grade", "mean", "relative_half_width", "recommended_replications",
                          "projected_replications", "note"]


@command("casesim-replications")
def main(argv: Sequence[str] | None = None) -> None:
    """``casesim-replications [key=value ...] [--max N] [--precision P] [--out DIR]``: how many
    replications the configuration needs for a confidence interval of +/- P of the mean on
    the headline outputs (the replications algorithm of Hoad, Robinson & Davies, 2010);
    writes trajectory.csv, recommendation.csv, figures/replications.png and manifest.json.
    Ctrl-C keeps the trajectory of the replications finished (``"complete": false``)."""
    parser = Parser(prog="casesim-replications", description=main.__doc__)
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. scenario=fast_warrants run.workers=2")
    parser.add_argument("--max", type=int, default=40, dest="max_replications",
                        help="replications to run, 0..MAX-1, whatever run.replications says")
    parser.add_argument("--precision", type=float, default=0.05,
                        help="relative half-width wanted, a fraction of the mean: 0.05 is ±5 %%")
    parser.add_argument("--out", help="output folder (default: a new outputs/replications/DATE_TIME)")
    args = parser.parse_intermixed_args(argv)

    from ..config.load import load_config
    from ..config.memory import check_memory
    from ..io.analysis_folders import start_folder, write_replication_study_folder
    from ..io.manifest import replication_study_manifest
    from ..running.replication_study import MAX_REPLICATIONS, StudyInterrupted, replication_study

    cfg = load_config(args.overrides)
    if not 3 <= args.max_replications <= MAX_REPLICATIONS:
        raise ConfigError("--max", args.max_replications,
                          f"from 3 replications (the algorithm starts from 3) to {MAX_REPLICATIONS}")
    if not 0 < args.precision < 1:  # NaN fails too
        raise ConfigError("--precision", args.precision, "a relative half-width in (0, 1), e.g. 0.05 for ±5 %")
    try:  # before the folder: the study holds every replication it runs
        check_memory(cfg, replications=args.max_replications)
    except ConfigError as exc:
        raise (ConfigError("--max", args.max_replications, exc.allowed) if exc.key == "run.replications" else exc) from None
    folder = claim_output_folder(args.out, "outputs/replications/{time}")
    start_folder(folder, {"replications_finished": 0,
                          **replication_study_manifest(cfg, args.overrides, args.max_replications, args.precision, 0.0)})
    started = time.perf_counter()
    study = None
    try:
        study = replication_study(cfg, max_replications=args.max_replications, precision=args.precision)
        write_replication_study_folder(study, folder, args.overrides, args.max_replications,
                                       time.perf_counter() - started, complete=False)
        _draw(study, folder, args.precision)
        write_replication_study_folder(study, folder, args.overrides, args.max_replications,
                                       time.perf_counter() - started)
    except StudyInterrupted as stopped:
        if stopped.study is None:
            raise KeyboardInterrupt(f"fewer than 2 replications had finished; {kept_nothing(folder)}") from None
        write_replication_study_folder(stopped.study, folder, args.overrides, args.max_replications,
                                       time.perf_counter() - started, complete=False)
        finished = stopped.study.metrics["replication"].nunique()
        raise KeyboardInterrupt(f"the trajectory of replications 0..{finished - 1} kept in {folder} "
                                "(manifest.json says complete: false)") from None
    except KeyboardInterrupt:
        if study is None:  # stopped after the last replication, while they were summarised
            raise KeyboardInterrupt(f"stopped while the replications were summarised; {kept_nothing(folder)}") from None
        raise KeyboardInterrupt(f"every replication finished; the trajectory is kept in {folder}, without the "
                                "figure (manifest.json says complete: false)") from None
    print(study.recommendation[RECOMMENDATION_COLUMNS].round(3).to_string(index=False))
    needed = study.replications_needed
    if needed is not None:
        print(f"\n{needed} replications give ±{args.precision:.0%} on every output above")
    else:
        print(f"\n{args.max_replications} replications do not confirm ±{args.precision:.0%} on every output: "
              "see projected_replications and the notes")
    print(f"wrote {folder}")


def _draw(study, folder, precision: float) -> None:
    """The study's figure, into ``folder/figures/``."""
    from ..present.plots import replications_plot

    save_figures(folder, {"replications.png": replications_plot(study.trajectory, precision)})
