"""``casesim`` (``python -m sim`` is the same): the Hydra app. A single run writes a run
folder with its figures; ``casesim -m`` runs a multirun whose jobs each leave a point
folder, collected into ``sweep.parquet`` when it ends (``CollectMultirun``).

Overrides are validated before Hydra creates anything, every point of a multirun included:
a bad key, type or value prints one line naming it and exits with code 2, writing nothing.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from typing import Sequence

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from ..config.convert import normalise_overrides
from ..config.load import CONFIG_DIR, build_config, load_config
from ..errors import ConfigError
from .common import command

# Hydra flags that take a value, flags after which no simulation runs, and flags that point
# Hydra at other config folders (their configs are validated in the job instead).
_VALUE_FLAGS = {"--config-name", "-cn", "--config-path", "-cp", "--config-dir", "-cd", "--cfg", "-c",
                "--package", "-p", "--experimental-rerun"}
_NO_RUN_FLAGS = {"--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c", "--shell-completion", "-sc",
                 "--version"}
_OTHER_CONFIG_FLAGS = {"--config-path", "-cp", "--config-dir", "-cd"}
_MULTIRUN_FLAGS = {"--multirun", "-m"}
_CONFIG_NAME_FLAGS = {"--config-name", "-cn"}


def _read_command_line(argv: Sequence[str]) -> tuple[list[str], str, bool]:
    """(config overrides, config name, whether this is a single run on the built-in configs,
    whose overrides are validated here)."""
    overrides, config_name, single_run, value_follows = [], "config", True, False
    for position, arg in enumerate(argv):
        if value_follows:
            value_follows = False
            continue
        flag = arg.split("=", 1)[0]
        if flag in _NO_RUN_FLAGS or flag in _OTHER_CONFIG_FLAGS or flag in _MULTIRUN_FLAGS:
            single_run = False
        if flag in _VALUE_FLAGS and "=" not in arg:
            value_follows = True
            if flag in _CONFIG_NAME_FLAGS and position + 1 < len(argv):
                config_name = argv[position + 1]
        elif flag in _CONFIG_NAME_FLAGS:
            config_name = arg.split("=", 1)[1]
        if not arg.startswith("-") and not arg.lstrip("+~").startswith("hydra."):
            overrides.append(arg)
    return overrides, config_name, single_run


@command("casesim")
def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: validate, then hand over to Hydra."""
    argv = list(sys.argv[1:] if argv is None else argv)
    overrides, config_name, single_run = _read_command_line(argv)
    multirun = bool(set(argv) & _MULTIRUN_FLAGS)
    if single_run:
        load_config(overrides, config_name=config_name)
    elif multirun and config_name == "config" and not set(argv) & (_NO_RUN_FLAGS | _OTHER_CONFIG_FLAGS):
        from ..config.design import multirun_points

        multirun_points(overrides)
    sys.argv = [sys.argv[0], *_normalised(argv, multirun)]
    _hydra_main()


def _normalised(argv: list[str], multirun: bool) -> list[str]:
    """``normalise_overrides``, except for a key a ``+sweep=NAME`` preset varies: Hydra's
    sweeper must see the command line's value under the preset's own key to replace it."""
    preset_keys: set[str] = set()
    if multirun:
        from ..config.design import read_spec

        for arg in argv:
            key, _, value = arg.partition("=")
            if key == "+sweep" and value:
                try:
                    preset_keys = {grid_key for grid_key, _ in read_spec(value).grid}
                except ConfigError:
                    pass  # reported by the validation in main
    normalised = normalise_overrides(argv)
    return [given if given.split("=", 1)[0] in preset_keys else changed for given, changed in zip(argv, normalised)]


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
@command("casesim")
def _hydra_main(composed: DictConfig) -> None:
    """One Hydra job: a single run, or one job of a multirun."""
    started = time.perf_counter()
    hydra_config = HydraConfig.get()
    # A config from another folder (--config-dir) is validated only here.
    cfg = build_config(OmegaConf.to_container(composed, resolve=True))
    given = [o[2:] if o.startswith("++") else o for o in hydra_config.overrides.task]  # as the user wrote them
    if hydra_config.mode == RunMode.MULTIRUN:
        _multirun_job(cfg, hydra_config, given, started)
    else:
        _single_run(cfg, hydra_config.runtime.output_dir, given, started)


def _single_run(cfg, folder: str, given: list[str], started: float) -> None:
    """Run, write the run folder and its figures, and print the headline table."""
    from ..io.run_folder import write_run_folder
    from ..present.plots import save_all  # matplotlib only when figures are made
    from ..results.summary import table_by_true_risk
    from ..running.runner import simulate

    results = simulate(cfg)
    summary = results.summary()
    save_all(results, f"{folder}/figures")
    write_run_folder(results, folder, given, time.perf_counter() - started, summary)
    print(table_by_true_risk(summary, cfg).to_string())
    print(f"\nwrote {folder}")


def _multirun_job(cfg, hydra_config, given: list[str], started: float) -> None:
    """A job of a multirun: replications run serially when jobs run side by side (no
    processes inside processes), a failure is recorded and the multirun goes on, and the job
    leaves a point folder that ``casesim-collect`` reads."""
    from ..config.design import config_hash
    from ..io.points import write_point
    from ..io.run_folder import write_run_folder
    from ..running.runner import simulate

    folder = hydra_config.runtime.output_dir
    if "BasicLauncher" not in str(hydra_config.launcher.get("_target_", "")):
        cfg = cfg.replace(run=dataclasses.replace(cfg.run, workers=1, progress=False))
    params = _job_params(hydra_config.overrides.task)
    key = config_hash(cfg)
    try:
        results = simulate(cfg)
        summary = results.summary()
        write_run_folder(results, folder, given, time.perf_counter() - started, summary)
        write_point(folder, key, params, cfg, summary, time.perf_counter() - started)
        print(f"{hydra_config.job.num}: {', '.join(given)}: done")
    except Exception:  # noqa: BLE001 - one failed job must not stop the multirun
        import traceback

        write_point(folder, key, params, cfg, None, time.perf_counter() - started, traceback.format_exc())
        print(f"casesim: job {hydra_config.job.num} ({', '.join(given)}) failed; see {folder}/error.txt",
              file=sys.stderr)


def _job_params(task_overrides: Sequence[str]) -> dict:
    """A multirun job's own overrides as parameters (typed as YAML reads them)."""
    from ..config.design import yaml_value

    params = {}
    for override in task_overrides:
        key, _, value = override.lstrip("+~").partition("=")
        if not key.startswith("hydra."):
            params[key] = yaml_value(value)
    return params


class CollectMultirun(Callback):
    """Hydra callback (``hydra.callbacks`` in config.yaml): when a multirun ends, collect its
    jobs into ``sweep.parquet`` in the sweep folder."""

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        from ..io.collect import collect, status_counts

        collect(config.hydra.sweep.dir, table=False)
        print(f"collected {status_counts(config.hydra.sweep.dir)} into {config.hydra.sweep.dir}/sweep.parquet")
