"""Speed of one replication at two revisions of this repository, measured side by side.

Each revision is checked out with ``git worktree add --detach`` into a temporary folder (the
word ``WORKTREE`` means the current checkout itself, uncommitted changes included) and
removed at the end, also after an error, Ctrl-C or SIGTERM. A child process serves each
revision: this script with ``--child TREE``, run by the same interpreter with
``PYTHONPATH=TREE`` from an empty folder. It checks that ``sim`` was imported from TREE, loads
the config (``sim.load_config``), runs one untimed warm-up replication
(``sim.model.run_replication``, counting SimPy's events) and then times one call per request.

Every round starts a fresh pair of children (their start-up is not timed) and asks them for
``--calls`` timed calls each, one call at a time in turn (base, new, new, base, base, ...),
the leading revision alternating from round to round, so a change in the machine's other
load hits both revisions about equally.

The figure to judge a refactor by is the **median of the per-round ratios** NEW/BASE. A
round's ratio is the median of the ratios of its pairs of calls, each pair the two revisions'
j-th calls, run one right after the other on the same machine. The verdict compares it with
``1 + --tolerance``. Best and median times, and their ratios, are printed too.
The digests say whether both revisions produce the same cases, snapshots and pool rows.

Run: ``python benchmarks/bench_revisions.py [BASE [NEW]] [--rounds N] [--calls N]
[--replication R] [--scenario NAME] [--override KEY=VALUE ...] [--tolerance F] [--save FILE]``

BASE defaults to ``HEAD`` and NEW to ``WORKTREE``: with no arguments it measures what the
uncommitted changes cost; ``bench_revisions.py main`` compares the main branch with the
working tree; ``bench_revisions.py HEAD~1 HEAD`` two commits. Exit status: 0 when within
the tolerance, 1 when not, 2 on an error.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

WORKTREE = "WORKTREE"
MARKER = "BENCH_REVISIONS_JSON "
REPO = Path(__file__).resolve().parent.parent
# What a child fingerprints to notice a tree changing under it (concurrent edits).
SOURCE_GLOBS = ("sim/**/*.py", "configs/**/*.yaml", "configs/**/*.csv")


# --------------------------------------------------------------------------- child


def source_digest(tree: Path) -> str:
    """A digest of the tree's model sources and configs (paths and contents)."""
    import hashlib

    h = hashlib.sha256()
    files = sorted({p for g in SOURCE_GLOBS for p in tree.glob(g) if "__pycache__" not in p.parts})
    for p in files:
        h.update(str(p.relative_to(tree)).encode())
        try:
            h.update(p.read_bytes())
        except OSError:  # removed while we looked
            h.update(b"<gone>")
    return h.hexdigest()[:16]


def output_digests(out) -> dict[str, str]:
    """One digest per part of a ReplicationOutput: each case column (name, dtype, values; every
    NaN made the same NaN), the snapshots with their days and labels, and the pool rows."""
    import hashlib

    import numpy as np

    def digest(*parts: bytes) -> str:
        h = hashlib.sha256()
        for p in parts:
            h.update(p)
        return h.hexdigest()[:16]

    def array_bytes(a) -> bytes:
        a = np.ascontiguousarray(a)
        if a.dtype.kind in "fc":
            a = np.where(np.isnan(a), np.nan, a)
        return a.dtype.str.encode() + str(a.shape).encode() + a.tobytes()

    parts = {f"cases.{name}": digest(array_bytes(col)) for name, col in sorted(out.cases.items())}
    parts["snapshots"] = digest(array_bytes(out.snapshot_days), array_bytes(out.snapshots),
                                repr(list(getattr(out, "series_labels", []))).encode())
    parts["pools"] = digest(json.dumps(list(getattr(out, "pools", [])), sort_keys=True, default=repr).encode())
    return parts


def serve_child(tree: Path, replication: int, overrides: list[str]) -> None:
    """The child: import ``sim`` from ``tree``, warm up, report; then one timed call of
    ``run_replication`` per ``run`` line read from stdin, until ``quit``."""
    import gc
    import inspect

    def send(msg: dict) -> None:
        print(MARKER + json.dumps(msg), flush=True)

    before = source_digest(tree)
    import sim

    where = Path(sim.__file__).resolve()
    if where.parent != (tree / "sim").resolve():
        raise SystemExit(f"bench_revisions child: imported sim from {where}, not from {tree}/sim "
                         "(PYTHONPATH not honoured?)")
    import simpy

    from sim.model import run_replication

    cfg = sim.load_config(["run.replications=1", "run.progress=false", *overrides])

    class CountingEnv(simpy.Environment):
        processed = 0

        def step(self) -> None:
            self.processed += 1
            super().step()

    events = None
    if "env" in inspect.signature(run_replication).parameters:
        env = CountingEnv()
        out = run_replication(cfg, replication, env=env)  # warm-up, untimed
        events = env.processed
    else:
        out = run_replication(cfg, replication)
    cols = out.cases
    cases = len(cols["arrival_day"] if "arrival_day" in cols else next(iter(cols.values()), ()))
    parts = output_digests(out)
    del out, cols
    send({"sim_file": str(where), "cases": cases, "events": events, "parts": parts, "source_before": before})

    deterministic = True
    for line in sys.stdin:
        if line.strip() != "run":
            break
        gc.collect()
        t0 = time.perf_counter()
        out = run_replication(cfg, replication)
        seconds = time.perf_counter() - t0
        deterministic &= output_digests(out) == parts
        del out
        send({"seconds": seconds})
    send({"deterministic": deterministic, "source_after": source_digest(tree)})


# --------------------------------------------------------------------------- parent


def stop_like_ctrl_c() -> None:
    """Make SIGTERM and SIGHUP raise KeyboardInterrupt, as Ctrl-C does (unless ignored, as
    under nohup), so that the worktrees a script added are removed on the way out."""
    def interrupted(signum, frame):
        raise KeyboardInterrupt
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            signal.signal(sig, interrupted)


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


@dataclass
class Side:
    role: str  # "base" or "new"
    rev: str  # as given
    sha: str | None = None  # None: the working tree
    title: str = ""
    tree: Path | None = None
    added: bool = False  # a worktree we added (and must remove)
    times: list[float] = field(default_factory=list)
    round_best: list[float] = field(default_factory=list)
    rounds: list[list[float]] = field(default_factory=list)  # each round's calls, in order
    runs: list[dict] = field(default_factory=list)

    def describe(self) -> str:
        if self.sha is None:
            head = git("rev-parse", "--short", "HEAD")
            changed = len([x for x in git("status", "--porcelain", "--", "sim", "configs").splitlines() if x])
            return f"{WORKTREE} ({REPO}; on {head}, {changed} changed or new files in sim/ and configs/)"
        return f"{self.rev} = {self.sha[:10]}  {self.title}"


def resolve(side: Side) -> None:
    if side.rev == WORKTREE:
        side.tree = REPO
        return
    try:
        side.sha = git("rev-parse", "--verify", "--quiet", f"{side.rev}^{{commit}}")
    except subprocess.CalledProcessError:
        raise SystemExit(f"bench_revisions: {side.rev!r} is not a revision of {REPO} "
                         f"(give a commit, branch or tag, or {WORKTREE})") from None
    side.title = git("log", "-1", "--format=%s", side.sha)
    if len(side.title) > 70:
        side.title = side.title[:67] + "..."


def add_worktree(side: Side, parent: Path) -> None:
    if side.sha is None:
        return
    path = parent / side.role
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(path), side.sha],
                   check=True, capture_output=True, text=True)
    side.tree, side.added = path, True
    if not (path / "sim" / "__init__.py").is_file():
        raise SystemExit(f"bench_revisions: {side.rev} has no sim/__init__.py")


def remove_worktree(side: Side) -> None:
    if not side.added:
        return
    r = subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(side.tree)],
                       check=False, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"bench_revisions: could not remove the worktree {side.tree}: {r.stderr.strip()}\n"
              f"  remove it with: git worktree remove --force {side.tree}", file=sys.stderr)
    else:
        side.added = False


class Child:
    """One child process serving one revision: started, warmed up, asked for timed calls."""

    def __init__(self, side: Side, cwd: Path, args: argparse.Namespace):
        self.side = side
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME")}
        env["PYTHONPATH"] = str(side.tree)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(side.tree),
               "--replication", str(args.replication)]
        for o in overrides(args):
            cmd += ["--override", o]
        self.stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by close())
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, text=True, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr)

    def receive(self) -> dict:
        for line in self.proc.stdout:
            if line.startswith(MARKER):
                return json.loads(line[len(MARKER):])
        self.proc.wait()
        self.stderr.seek(0)
        sys.stderr.write(self.stderr.read()[-4000:])
        raise SystemExit(f"bench_revisions: the child for {self.side.role} ({self.side.rev}) failed "
                         f"(exit status {self.proc.returncode})")

    def ask(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.receive()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.stderr.close()


def run_round(k: int, base: Side, new: Side, cwd: Path, args: argparse.Namespace) -> str:
    """Round k: a fresh child per revision (started together: start-up is not timed), then
    --calls timed calls each, alternating one call at a time; which revision leads alternates
    from round to round. Returns the order of the first pair."""
    children: list[Child] = []
    try:
        for side in (base, new):
            children.append(Child(side, cwd, args))
        ready = [c.receive() for c in children]
        times: dict[str, list[float]] = {"base": [], "new": []}
        for j in range(args.calls):
            pair = children if (k + j) % 2 == 0 else children[::-1]
            for c in pair:
                times[c.side.role].append(c.ask("run")["seconds"])
        done = [c.ask("quit") for c in children]
        for c in children:
            c.proc.stdin.close()
            if c.proc.wait(timeout=60) != 0:
                c.receive()  # reports the failure
    finally:
        for c in children:
            c.close()
    for c, r, d in zip(children, ready, done):
        s = c.side
        s.runs.append({**r, **d})
        s.times += times[s.role]
        s.rounds.append(times[s.role])
        s.round_best.append(min(times[s.role]))
    return "base" if k % 2 == 0 else "new"


def overrides(args: argparse.Namespace) -> list[str]:
    return ([f"scenario={args.scenario}"] if args.scenario else []) + list(args.override)


def fmt_count(x) -> str:
    return "-" if x is None else f"{x:,}"


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        print("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))


def compare_parts(a: dict[str, str], b: dict[str, str]) -> list[str]:
    """What differs between two output digests, in words."""
    out = []
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a:
        out.append("only in base: " + ", ".join(only_a))
    if only_b:
        out.append("only in new: " + ", ".join(only_b))
    differ = [k for k in sorted(set(a) & set(b)) if a[k] != b[k]]
    if differ:
        out.append("values differ: " + ", ".join(differ))
    return out


def overall(parts: dict[str, str]) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


def round_ratios(base: Side, new: Side) -> list[float]:
    """Each round's median of the ratios new/base of its pairs of calls (the j-th call of each
    revision, run one right after the other): a burst of other load slows both calls of a
    pair about alike, where it can slow one revision's best call and miss the other's."""
    return [statistics.median(y / x for x, y in zip(b, n)) for b, n in zip(base.rounds, new.rounds)]


def report(base: Side, new: Side, order: list[str], args: argparse.Namespace,
           elapsed: float) -> bool:
    sides = (base, new)
    print()
    print("per round: the best call of each revision (s) and their ratio; paired: the median of the\n"
          "ratios new/base of the round's pairs of calls run back to back; first: the revision that led")
    ratios = round_ratios(base, new)
    rows = []
    for k, (o, b, n, r) in enumerate(zip(order, base.round_best, new.round_best, ratios)):
        rows.append([str(k + 1), o, f"{b:.4f}", f"{n:.4f}", f"{n / b:.3f}", f"{r:.3f}"])
    print_table(["round", "first", "base best", "new best", "new/base", "paired"], rows)

    print()
    rows = []
    for s in sides:
        first = s.runs[0]
        rows.append([s.role, fmt_count(first["cases"]), fmt_count(first["events"]), str(len(s.times)),
                     f"{min(s.times):.4f}", f"{statistics.median(s.times):.4f}",
                     f"{max(s.times):.4f}", overall(first["parts"])])
    print_table(["", "cases", "events", "calls", "best s", "median s", "worst s", "output digest"], rows)

    r_best = min(new.times) / min(base.times)
    r_median = statistics.median(new.times) / statistics.median(base.times)
    r_rounds = statistics.median(ratios)
    print()
    print(f"  new/base: best {r_best:.3f}, median {r_median:.3f} (all calls); per-round paired ratios "
          f"{min(ratios):.3f}-{max(ratios):.3f}, median {r_rounds:.3f}")

    # Results: identical between the revisions, and steady within each.
    notes = []
    for s in sides:
        digests = {overall(r["parts"]) for r in s.runs}
        if len(digests) > 1:
            notes.append(f"{s.role}: output differs between rounds ({len(digests)} different digests): "
                         "results depend on something other than the seed (hash seed, set order?)")
        if not all(r["deterministic"] for r in s.runs):
            notes.append(f"{s.role}: repeated calls in one process gave different output")
        sources = {r["source_before"] for r in s.runs} | {r["source_after"] for r in s.runs}
        if len(sources) > 1:
            notes.append(f"{s.role}: the tree's sim/ or configs/ changed during the run "
                         f"({len(sources)} versions seen); its times mix those versions")
    diff = compare_parts(base.runs[0]["parts"], new.runs[0]["parts"])
    ncols = sum(k.startswith("cases.") for k in base.runs[0]["parts"])
    if diff:
        print("  results: DIFFER between base and new")
        for d in diff:
            print(f"    {d}")
    else:
        print(f"  results: identical ({ncols} case columns, snapshots and pool rows)")
    for n in notes:
        print(f"  note: {n}")

    ok = r_rounds <= 1.0 + args.tolerance
    pct = f"{args.tolerance * 100:g} %"
    spread = max(ratios) - min(ratios)
    if ok:
        verdict = f"within {pct}"
    else:
        verdict = f"NOT within {pct}: new is {(r_rounds - 1) * 100:.1f} % slower"
    print(f"  verdict: {verdict} (median of the per-round paired ratios {r_rounds:.3f} against {1 + args.tolerance:.3f})")
    if spread > args.tolerance:
        print(f"  note: the per-round paired ratios spread over {spread * 100:.0f} %, more than the tolerance: "
              "the machine was noisy; more --rounds, or a rerun, firms the median up")
    print(f"  ({elapsed:.0f} s in all)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="BASE defaults to HEAD, NEW to WORKTREE (the current checkout, "
                                            "uncommitted changes included).")
    parser.add_argument("base", nargs="?", default="HEAD", metavar="BASE",
                        help="the reference revision (default HEAD)")
    parser.add_argument("new", nargs="?", default=WORKTREE, metavar="NEW",
                        help=f"revision compared with it (default {WORKTREE})")
    parser.add_argument("--rounds", type=int, default=12, help="rounds, each one child per revision (default 12)")
    parser.add_argument("--calls", type=int, default=8, help="timed calls per revision in each round (default 8)")
    parser.add_argument("--replication", type=int, default=0, help="replication number (default 0)")
    parser.add_argument("--scenario", help="a scenario of configs/scenario/ (default: the config's, baseline)")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override for both revisions (repeatable)")
    parser.add_argument("--tolerance", type=float, default=0.03,
                        help="allowed slowdown of NEW, as a fraction (default 0.03)")
    parser.add_argument("--save", type=Path, metavar="FILE",
                        help="also write every call's time, by revision and round, to FILE (JSON)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rounds < 1 or args.calls < 1:
        parser.error("--rounds and --calls must be at least 1")

    if args.child is not None:
        serve_child(args.child.resolve(), args.replication, args.override)
        return 0

    stop_like_ctrl_c()
    base, new = Side("base", args.base), Side("new", args.new)
    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-revisions-") as tmp:
        tmp = Path(tmp)
        cwd = tmp / "cwd"
        cwd.mkdir()
        try:
            for s in (base, new):
                resolve(s)
            print(f"bench_revisions: replication {args.replication}, overrides: "
                  f"{' '.join(overrides(args)) or '(none)'}; {args.rounds} rounds x {args.calls} calls "
                  f"per revision; python {platform.python_version()}, {os.cpu_count()} CPUs")
            for s in (base, new):
                add_worktree(s, tmp)
                print(f"  {s.role:4}  {s.describe()}")
            order = []
            for k in range(args.rounds):
                order.append(run_round(k, base, new, cwd, args))
                print(f"  round {k + 1}/{args.rounds}: best base {base.round_best[-1]:.4f} s, "
                      f"new {new.round_best[-1]:.4f} s, paired ratio {round_ratios(base, new)[-1]:.3f}",
                      file=sys.stderr, flush=True)
            ok = report(base, new, order, args, time.perf_counter() - t_start)
            if args.save:
                args.save.write_text(json.dumps({
                    "replication": args.replication, "overrides": overrides(args), "first": order,
                    **{s.role: {"rev": s.rev, "sha": s.sha, "rounds": s.rounds,
                                "output_digest": overall(s.runs[0]["parts"])} for s in (base, new)},
                }, indent=1))
        except KeyboardInterrupt:
            print("\nbench_revisions: interrupted", file=sys.stderr)
            return 130
        finally:
            for s in (base, new):
                remove_worktree(s)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            sys.exit(2)
        raise
