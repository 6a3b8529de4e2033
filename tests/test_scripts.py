"""``sim.simulate`` with worker processes from a plain script without an
``if __name__ == "__main__":`` guard and from ``python -`` (stdin): the workers never run the
script, and the results are those of a serial run."""

from __future__ import annotations

import dataclasses
import importlib.machinery
import subprocess
import sys

import pandas as pd
import pytest

import sim
from sim.core.distributions import Fixed
from sim.running import runner

OVERRIDES = ["run.replications=3", "run.horizon_days=60", "run.progress=false"]
SCRIPT = f"""\
import pandas as pd
import sim

cfg = sim.load_config({OVERRIDES + ["run.workers=2"]!r})
res = sim.simulate(cfg)
print("digest", int(pd.util.hash_pandas_object(res.cases, index=False).sum()), res.cases["replication"].nunique())
"""


def digest(cases: pd.DataFrame) -> str:
    return f"digest {int(pd.util.hash_pandas_object(cases, index=False).sum())} {cases['replication'].nunique()}"


@pytest.fixture(scope="module")
def serial_digest() -> str:
    return digest(sim.simulate(sim.load_config([*OVERRIDES, "run.workers=1"])).cases)


@pytest.mark.parametrize("how", ["script file", "stdin"])
def test_workers_run_from_a_script_without_a_main_guard(tmp_path, serial_digest, how):
    script = tmp_path / "no_guard.py"
    script.write_text(SCRIPT)
    if how == "stdin":
        r = subprocess.run([sys.executable, "-"], input=SCRIPT, cwd=tmp_path, capture_output=True, text=True,
                           timeout=600)
    else:
        r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [serial_digest]  # printed once: no worker ran the script


def test_a_class_from_the_main_script_stops_before_the_pool_with_one_message():
    script_fixed = type("ScriptFixed", (Fixed,), {"__module__": "__main__"})  # as if defined in a script
    cfg = sim.load_config(OVERRIDES)
    planning = dataclasses.replace(cfg.stages.planning, urgent_lag_days=script_fixed(0.0))
    cfg = cfg.replace(stages=dataclasses.replace(cfg.stages, planning=planning))
    with pytest.raises(sim.ConfigError, match="worker processes cannot use ScriptFixed, defined in the main script") as error:
        sim.simulate(cfg, workers=2)
    assert error.value.key == "run.workers" and "run.workers=1" in error.value.allowed


def test_the_main_module_is_hidden_only_while_workers_start(monkeypatch):
    # As a script's main module has them (a pytest-xdist worker's has neither, which would
    # leave nothing to hide).
    main = sys.modules["__main__"]
    script_spec = importlib.machinery.ModuleSpec("a_script", None, origin="/somewhere/a_script.py")
    monkeypatch.setattr(main, "__file__", "/somewhere/a_script.py", raising=False)
    monkeypatch.setattr(main, "__spec__", script_spec, raising=False)
    with runner.main_module_hidden():
        assert not hasattr(main, "__file__") and main.__spec__ is None
    assert (main.__file__, main.__spec__) == ("/somewhere/a_script.py", script_spec)
