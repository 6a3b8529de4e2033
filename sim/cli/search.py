"""``casesim-search``: the fewest investigators (or the cheapest staffing mix) meeting a
service target; writes runs.csv and manifest.json."""

from __future__ import annotations

from typing import Sequence

from ..errors import ConfigError
from .common import Parser, claim_output_folder, command

OPTIONS = {"risks": "--risks", "within_days": "--within-days", "max_share_late": "--max-share-late",
           "confidence": "--confidence", "high": "--max-investigators", "grid": "--grid", "costs": "--cost"}
"""The option giving each value the search checks, so that its errors name the option."""


@command("casesim-search")
def main(argv: Sequence[str] | None = None) -> None:
    """``casesim-search [key=value ...] [--grid KEY=V1,V2,...] [--cost KEY=PER_UNIT] ...``:
    the fewest investigators (or, with --grid, the cheapest mix) meeting a service target
    with the given confidence, on common random numbers; writes runs.csv and manifest.json,
    each level as it finishes (Ctrl-C keeps the levels run)."""
    parser = Parser(prog="casesim-search", description=main.__doc__)
    parser.add_argument("overrides", nargs="*",
                        help="config overrides, e.g. scenario=fast_warrants run.replications=20")
    parser.add_argument("--risks", default="VH,H", help="true risks the target is for, comma-separated")
    parser.add_argument("--within-days", type=float, default=7.0,
                        help="days to an arrest the target counts as on time")
    parser.add_argument("--max-share-late", type=float, default=0.01,
                        help="share of those referrals that may be later, a fraction")
    parser.add_argument("--confidence", type=float, default=0.9,
                        help="confidence of the upper bound on the share late, a fraction")
    from ..running.search import HIGHEST_TRIED

    parser.add_argument("--max-investigators", type=int, default=HIGHEST_TRIED,
                        help="the most investigators the bisection tries")
    parser.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                        help="search the cheapest mix of these levels instead of investigators alone; "
                             "once per key (default: investigators from today's to --max-investigators)")
    parser.add_argument("--cost", action="append", default=[], metavar="KEY=PER_UNIT",
                        help="the cost of one unit of a --grid key, once per key; a headcount's defaults to "
                             "its price a year in costs.* (e.g. costs.investigator_gbp_per_year)")
    parser.add_argument("--out", help="output folder (default: a new outputs/search/DATE_TIME)")
    args = parser.parse_intermixed_args(argv)

    from ..config.load import load_config
    from ..config.schema import post_cost_per_year
    from ..running.search import Target, check_search
    from .outputs import search_to_folder

    cfg = load_config(args.overrides)
    risks = tuple(risk.strip() for risk in args.risks.split(","))
    grid = _entries(args.grid, "--grid", _levels, "KEY=V1,V2,... with numbers, e.g. staffing.investigators=20,22")
    given = _entries(args.cost, "--cost", float, "KEY=PER_UNIT with a number, e.g. staffing.investigators=55000")
    target = Target(risks, args.within_days, args.max_share_late, 0, args.confidence)
    if given and not grid:
        raise ConfigError("--cost", args.cost[0], "prices a --grid key: give the --grid it prices")
    # a headcount is priced by the costs table (costs.*) unless --cost says otherwise
    priced = {key: post_cost_per_year(cfg, key) for key in grid}
    costs = {**{key: price for key, price in priced.items() if price is not None}, **given}
    check_search(cfg, target, grid, costs, high=None if grid else args.max_investigators, names=OPTIONS)

    folder = claim_output_folder(args.out, "outputs/search/{time}")
    result = search_to_folder(cfg, target, folder, args.overrides, grid, costs, args.max_investigators)
    from ..present.console import search_text

    print(search_text(result.runs, result.answer))
    print(f"wrote {folder / 'runs.csv'}")


def _entries(entries: Sequence[str], option: str, parse, allowed: str) -> dict:
    """``option KEY=VALUE`` entries as {key: parse(VALUE)}; a malformed or repeated entry
    raises ConfigError naming the option."""
    parsed = {}
    for entry in entries:
        key, equals, value = entry.partition("=")
        key = key.strip()
        if not (key and equals):
            raise ConfigError(option, entry, allowed)
        if key in parsed:
            raise ConfigError(option, entry, f"{key} given twice: give it once")
        try:
            parsed[key] = parse(value)
        except ValueError:
            raise ConfigError(option, entry, allowed) from None
    return parsed


def _levels(text: str) -> list[float]:
    """``V1,V2,...`` as numbers (ValueError if one is not)."""
    return [float(level) for level in text.split(",")]
