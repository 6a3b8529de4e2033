"""Machine instructions one replication costs at two revisions of this repository, counted by
valgrind's callgrind: a count that does not move with the machine's other load, where
timings on a shared machine move by a tenth from run to run.

Each revision runs in a child process under ``valgrind --tool=callgrind`` (checked out as
``bench_revisions.py`` does: ``git worktree add --detach`` into a temporary folder, removed
at the end; ``WORKTREE`` is the current checkout with its uncommitted changes), with
``PYTHONHASHSEED=0`` so that string hashing, and so the instructions, are the same run to
run. A child loads the config and runs ``--calls`` replications after one untimed warm-up;
a second child runs the warm-up alone, and the difference over ``--calls`` is one
replication's instructions, start-up and imports left out. The four children run two at a
time (callgrind makes a run some 50 times slower: about 5 minutes for the default).

Instructions leave out what the processor spends waiting for memory, so a change that
saves the cache misses (fewer objects for the collector to walk, say) shows in seconds
more than here; a count is the steady figure to judge Python-level work by.

Run: ``python benchmarks/bench_instructions.py [BASE [NEW]] [--calls N] [--replication R]
[--override KEY=VALUE ...]`` (BASE defaults to ``HEAD``, NEW to ``WORKTREE``). Needs
``valgrind`` (``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_revisions import WORKTREE, Side, add_worktree, remove_worktree, resolve, stop_like_ctrl_c

CHILD = """
import sys
import sim
from sim.model import run_replication
cfg = sim.load_config(["run.replications=1", "run.progress=false", *sys.argv[3:]])
replication, calls = int(sys.argv[1]), int(sys.argv[2])
run_replication(cfg, replication)  # warm-up: caches, lazy imports
for _ in range(calls):
    run_replication(cfg, replication)
"""


_children: list[subprocess.Popen] = []  # running valgrind children, stopped on an interrupt


def instructions(tree: Path, replication: int, calls: int, overrides: list[str]) -> int:
    """Instructions of a child that warms up and then runs ``calls`` replications."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    child = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                              "-c", CHILD, str(replication), str(calls), *overrides],
                             env=env, cwd=tempfile.gettempdir(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)  # a group of its own: valgrind forks the tool
    _children.append(child)
    _, stderr = child.communicate()
    found = re.search(r"Collected\s*:\s*(\d+)", stderr)
    if child.returncode != 0 or found is None:
        raise SystemExit(f"bench_instructions: the child for {tree} failed:\n{stderr[-2000:]}")
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", nargs="?", default="HEAD", metavar="BASE", help="the reference revision (default HEAD)")
    parser.add_argument("new", nargs="?", default=WORKTREE, metavar="NEW",
                        help=f"revision compared with it (default {WORKTREE})")
    parser.add_argument("--calls", type=int, default=2, help="replications counted per revision (default 2)")
    parser.add_argument("--replication", type=int, default=0, help="replication number (default 0)")
    parser.add_argument("--override", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override for both revisions (repeatable)")
    args = parser.parse_args()
    if args.calls < 1:
        parser.error("--calls must be at least 1")
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (apt-get install valgrind)")

    stop_like_ctrl_c()
    base, new = Side("base", args.base), Side("new", args.new)
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp:
        try:
            for side in (base, new):
                resolve(side)
                add_worktree(side, Path(tmp))
                print(f"  {side.role:4}  {side.describe()}")
            with ThreadPoolExecutor(2) as pool:
                counts = {(side.role, calls): pool.submit(instructions, side.tree, args.replication, calls, args.override)
                          for side in (base, new) for calls in (0, args.calls)}
                try:
                    per = {side.role: (counts[(side.role, args.calls)].result() - counts[(side.role, 0)].result())
                           / args.calls for side in (base, new)}
                except KeyboardInterrupt:  # stop the children, or the pool would wait minutes for them
                    pool.shutdown(wait=False, cancel_futures=True)
                    for child in _children:
                        try:
                            os.killpg(child.pid, signal.SIGKILL)
                        except ProcessLookupError:  # already ended
                            pass
                    print("\nbench_instructions: interrupted", file=sys.stderr)
                    return 130
        finally:
            for side in (base, new):
                remove_worktree(side)
    for role in ("base", "new"):
        print(f"  {role:4}  {per[role] / 1e6:,.1f} million instructions a replication")
    print(f"  new/base: {per['new'] / per['base']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
