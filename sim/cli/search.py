"""``casesim-search``: the fewest investigators (or the cheapest staffing mix) meeting a
service target; writes runs.csv."""

from __future__ import annotations

from typing import Sequence

from ..domain import GRADES
from ..errors import ConfigError
from .common import Parser, command, output_folder


@command("casesim-search")
def main(argv: Sequence[str] | None = None) -> None:
    """``casesim-search [key=value ...] [--grid KEY=V1,V2,...] [--cost KEY=PER_UNIT] ...``:
    the fewest investigators (or, with --grid, the cheapest mix) meeting a service target
    with the given confidence, on common random numbers; writes runs.csv."""
    parser = Parser(prog="casesim-search", description=main.__doc__)
    parser.add_argument("overrides", nargs="*",
                        help="config overrides, e.g. scenario=fast_warrants run.replications=20")
    parser.add_argument("--risks", default="VH,H", help="true risks the target is for (default VH,H)")
    parser.add_argument("--within-days", type=float, default=7.0)
    parser.add_argument("--max-share-late", type=float, default=0.01)
    parser.add_argument("--confidence", type=float, default=0.9)
    parser.add_argument("--max-investigators", type=int, default=60)
    parser.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...")
    parser.add_argument("--cost", action="append", default=[], metavar="KEY=PER_UNIT")
    parser.add_argument("--out", help="folder for runs.csv (default outputs/search)")
    args = parser.parse_args(argv)

    from ..config.load import load_config
    from ..io.analysis_folders import write_search_folder
    from ..running.search import Target, search_investigators, search_mix

    cfg = load_config(args.overrides)
    risks = _risks(args.risks)
    if not (0 < args.confidence < 1 and 0 < args.max_share_late < 1):
        raise ConfigError("--confidence/--max-share-late", (args.confidence, args.max_share_late), "each in (0, 1)")
    grid = {key: values for key, values in map(_grid_entry, args.grid)}
    costs = {key: cost for key, cost in map(_cost_entry, args.cost)}
    target = Target(risks, args.within_days, args.max_share_late, 0, args.confidence)
    if grid:
        result = search_mix(cfg, grid, costs, target)
    else:
        result = search_investigators(cfg, target, high=args.max_investigators)
    runs_path = write_search_folder(result.runs, output_folder(args.out, "outputs/search"))
    print(result.runs.to_string(index=False))
    print("\nno level searched meets the target" if result.answer is None else f"\nanswer: {result.answer}")
    print(f"wrote {runs_path}")


def _risks(text: str) -> tuple[str, ...]:
    """``--risks VH,H`` as grades."""
    risks = tuple(risk.strip() for risk in text.split(","))
    if any(risk not in GRADES for risk in risks):
        raise ConfigError("--risks", text, "grades from VH, H, M, L, comma-separated")
    return risks


def _grid_entry(entry: str) -> tuple[str, list[float]]:
    """``--grid KEY=V1,V2,...`` as (key, levels)."""
    key, _, levels = entry.partition("=")
    try:
        return key, [float(level) for level in levels.split(",")]
    except ValueError:
        raise ConfigError("--grid", entry, "KEY=V1,V2,... with numbers, e.g. staffing.investigators=20,22") from None


def _cost_entry(entry: str) -> tuple[str, float]:
    """``--cost KEY=PER_UNIT`` as (key, cost of one unit)."""
    key, _, cost = entry.partition("=")
    try:
        return key, float(cost)
    except ValueError:
        raise ConfigError("--cost", entry, "KEY=PER_UNIT with a number, e.g. staffing.investigators=55000") from None
