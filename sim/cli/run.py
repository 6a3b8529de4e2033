"""``casesim`` (``python -m sim`` is the same): the Hydra app. A single run writes a run
folder with its figures; ``casesim -m`` runs a multirun whose jobs each leave a point
folder, collected into ``sweep.parquet`` when it ends (``CollectMultirun``).

Before Hydra runs, ``main`` composes and validates what the command line names, a YAML of
your own (``--config-dir``/``--config-name``) and every point of a multirun included: bad
input prints one line naming it and exits with code 2, writing nothing. It then picks the
folder and hands it to Hydra (``hydra.run.dir``, ``hydra.sweep.dir``):

- the default, Hydra's ``outputs/DATE/TIME`` (``multirun/DATE/TIME``), is created
  atomically, with ``_2``, ``_3``, ... appended if a run started in the same second took
  the name, so two runs never share a folder; but a single run whose configuration has a
  partial run (interrupted or crashed) under ``outputs/`` resumes the latest of them;
- a folder given (``hydra.run.dir=DIR``) is used as given: a partial run of the same
  configuration there is resumed, and a folder holding another configuration's run, or in
  use by another run, is refused.

Nothing is checked this way when ``--config-path`` replaces the config folder or nothing
is run (``--help``, ``--cfg``, ...): Hydra has the command line as given.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import glob
import re
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from ..config.convert import normalise_overrides
from ..config.load import CONFIG_DIR, apply_force_overrides, build_config, compose_config, split_force_overrides
from ..errors import ConfigError
from . import run_log
from .common import claim_output_folder, command, say_regions, warn_overloaded

if TYPE_CHECKING:
    from ..config.schema import SimConfig
    from ..io.run_folder import FolderHold

# Hydra flags that take a value, and flags with which Hydra gets the command line untouched:
# nothing is run (--help, --cfg, ...), or a pickled job is rerun.
_VALUE_FLAGS = {"--config-name", "-cn", "--config-path", "-cp", "--config-dir", "-cd", "--cfg", "-c",
                "--package", "-p", "--experimental-rerun"}
_HANDED_OVER_FLAGS = {"--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c", "--shell-completion", "-sc",
                      "--version", "--experimental-rerun"}
_MULTIRUN_FLAGS = {"--multirun", "-m"}
_FLAG_NAMES = {"--config-name": "config_name", "-cn": "config_name", "--config-dir": "config_dir",
               "-cd": "config_dir", "--config-path": "config_path", "-cp": "config_path"}
_FOLDER_KEYS = {"hydra.run.dir": "run_dir", "hydra.sweep.dir": "sweep_dir"}
_NOW = re.compile(r"\$\{now:([^}]*)\}")
_command_line: list[str] = []
"""The command line as the user gave it, while ``main`` hands Hydra its own."""
_force_overrides: list[str] = []
"""The overrides of one force by name (``forces.NAME.KEY=VALUE``), which Hydra cannot
apply: ``main`` keeps them from Hydra and the job applies them to what Hydra composed."""


@dataclasses.dataclass
class _CommandLine:
    """What ``main`` needs from the command line."""

    overrides: list[str]  # the config's overrides (not hydra.*)
    hydra_args: list[str]  # everything Hydra gets, bar the folder settings main decides
    config_name: str = "config"
    config_dir: str | None = None
    config_path: str | None = None
    multirun: bool = False
    handed_over: bool = False  # --help, --cfg, --info, ...: Hydra gets the command line as given
    run_dir: str | None = None  # hydra.run.dir as given
    sweep_dir: str | None = None  # hydra.sweep.dir as given


def _read_command_line(argv: Sequence[str]) -> _CommandLine:
    """Split ``argv`` into the config's overrides, Hydra's flags and folder settings."""
    line = _CommandLine(overrides=[], hydra_args=[])
    value_of: str | None = None
    for arg in argv:
        if value_of is not None:
            if value_of in _FLAG_NAMES:
                setattr(line, _FLAG_NAMES[value_of], arg)
            line.hydra_args.append(arg)
            value_of = None
            continue
        flag, has_value, value = arg.partition("=")
        if arg.startswith("-"):
            line.handed_over = line.handed_over or flag in _HANDED_OVER_FLAGS
            line.multirun = line.multirun or flag in _MULTIRUN_FLAGS
            if flag in _VALUE_FLAGS and not has_value:
                value_of = flag
            elif flag in _FLAG_NAMES:
                setattr(line, _FLAG_NAMES[flag], value)
            line.hydra_args.append(arg)
            continue
        key = flag.lstrip("+~")
        if key in _FOLDER_KEYS and has_value:
            setattr(line, _FOLDER_KEYS[key], _override_value(arg))
            continue
        if not key.startswith("hydra.") and key != "hydra":
            line.overrides.append(arg)
        line.hydra_args.append(arg)
    return line


def _override_value(arg: str) -> str:
    """The value of override ``arg`` as Hydra reads it (quotes removed)."""
    from ..config.design import parse_override

    return str(parse_override(arg).value())


def _as_override(key: str, folder: Path) -> str:
    """``key='FOLDER'`` quoted for Hydra's override grammar, so a folder name with spaces,
    commas or quotes reaches Hydra as it is."""
    text = str(folder)
    quoted = re.sub(r"(\\+)(?='|$)", lambda m: m.group(1) * 2, text).replace("'", "\\'")
    override = f"{key}='{quoted}'"
    if "${" in text or _override_value(override) != text:
        raise ConfigError(key, text, "a folder name Hydra cannot take as it is; choose a plainer name")
    return override


@command("casesim")
@run_log.kept_until_the_job
def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: validate, pick the run (or multirun) folder, then hand over to Hydra."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _command_line[:] = [sys.argv[0], *argv]  # what the manifest records, not what Hydra is handed
    _check_flags(argv)
    line = _read_command_line(argv)
    if line.handed_over or line.config_path is not None:
        _hand_over(argv, line.multirun)
        return
    line.hydra_args, _force_overrides[:] = split_force_overrides(line.hydra_args)
    with _errors_named_by_flag():
        if line.multirun and _force_overrides:
            key, _, value = _force_overrides[0].partition("=")
            raise ConfigError(key, value, "a multirun changes one force in a YAML of your own (--config-dir, "
                                          "--config-name), not on the command line")
        if line.multirun:
            folder = _sweep_folder(line.sweep_dir, _validate_multirun(line))
        else:
            cfg, template = _validate_single_run(line)
            if cfg.run.on_dask():  # a scheduler that does not answer: one line, and no folder
                from ..running.runner import check_cluster_of

                check_cluster_of(cfg)
            folder = _run_folder(cfg, line.run_dir, template)
            warn_overloaded("casesim", cfg)
            say_regions("casesim", cfg)
    if folder is None:  # a folder setting only Hydra can resolve: Hydra makes it
        _hand_over([arg for arg in argv if arg not in _force_overrides], line.multirun)
        return
    succeeded = False
    try:
        _hand_over(line.hydra_args, line.multirun, [_as_override(folder.key, folder.path)])
        succeeded = True
    except SystemExit as stop:
        succeeded = stop.code in (0, None)
        raise
    finally:
        folder.release(keep=succeeded)


def _check_flags(argv: list[str]) -> None:
    """Parse ``argv`` with Hydra's own parser, its errors (an unknown flag, a flag missing
    its value) reported as every command's are: one line, the error first, exit code 2."""
    import types

    from hydra._internal.utils import get_args_parser

    from .common import Parser

    if "--version" in argv:  # Hydra's parser prints its version and exits: leave that to Hydra
        return
    parser = get_args_parser()
    parser.prog = "casesim"
    parser.error = types.MethodType(Parser.error, parser)  # type: ignore[method-assign]
    parser.parse_args(argv)


def _hand_over(args: list[str], multirun: bool, folder_overrides: Sequence[str] = ()) -> None:
    """Run Hydra's app on ``args`` (and the folder ``main`` picked)."""
    given = list(sys.argv)
    sys.argv = [sys.argv[0], *_normalised(args, multirun), *folder_overrides]
    try:
        _hydra_main()
    finally:
        sys.argv = given
        _command_line.clear()
        _force_overrides.clear()


@contextlib.contextmanager
def _errors_named_by_flag():
    """A ConfigError about ``config_name`` or ``config_dir`` names the command's flag."""
    try:
        yield
    except ConfigError as error:
        flag = {"config_name": "--config-name", "config_dir": "--config-dir"}.get(error.key)
        if flag is None:
            raise
        raise ConfigError(flag, error.value, error.allowed) from None


def _validate_single_run(line: _CommandLine) -> tuple[SimConfig, str]:
    """The run's validated config and Hydra's ``hydra.run.dir`` setting (unresolved)."""
    composed = compose_config(line.overrides, line.config_name, line.config_dir)
    return build_config(composed.mapping), composed.hydra["run"]["dir"]


def _validate_multirun(line: _CommandLine) -> str:
    """Validate every job of the multirun; Hydra's ``hydra.sweep.dir`` setting (unresolved)."""
    from ..config.design import multirun_points, parse_override

    multirun_points(line.overrides, line.config_name, line.config_dir)
    single_valued = [text for text in line.overrides if not parse_override(text).is_sweep_override()]
    return compose_config(single_valued, line.config_name, line.config_dir).hydra["sweep"]["dir"]


@dataclasses.dataclass
class _Folder:
    """The folder ``main`` picked and holds for the run: ``created`` is the topmost folder
    it created (None if it was there), removed again if the run ends having written no
    manifest (bad input found in the job, an interrupt before the first replication)."""

    key: str  # hydra.run.dir or hydra.sweep.dir
    path: Path
    hold: FolderHold
    created: Path | None = None

    def release(self, keep: bool) -> None:
        self.hold.release()
        if keep or self.created is None or any(self.path.rglob("manifest.json")):
            return
        shutil.rmtree(self.path, ignore_errors=True)
        folder, created = self.path.absolute(), self.created.absolute()
        while created in folder.parents:
            folder = folder.parent
            try:
                folder.rmdir()  # only if empty: a run started beside this one may be in it
            except OSError:
                return


def _is_timestamped(template: str) -> bool:
    """A folder setting named by the time (Hydra's default) and nothing else Hydra resolves."""
    return bool(_NOW.search(template)) and "${" not in _NOW.sub("", template)


def _at_now(template: str) -> str:
    now = dt.datetime.now()
    return _NOW.sub(lambda match: now.strftime(match.group(1)), template)


def _topmost_missing(path: Path) -> Path | None:
    """The topmost folder of ``path`` that does not exist yet (None if ``path`` exists)."""
    path, top = path.absolute(), None
    while not path.exists():
        path, top = path.parent, path
    return top


def _claim(key: str, chosen: str | None, name: str) -> _Folder:
    """Create and hold the folder ``chosen`` (kept if it exists) or else a new one named
    ``name`` (``_2``, ``_3``, ... appended if taken); ConfigError if another run holds it."""
    from ..io.run_folder import hold_folder

    base = Path(chosen or name)
    top = _topmost_missing(base)
    folder = claim_output_folder(chosen, name, key=key)
    hold = hold_folder(folder)
    if hold is None:
        raise ConfigError(key, str(folder), "is in use by another casesim run; choose another folder")
    if top is None or top == base.absolute():  # no folder above it created
        created = folder if top is not None or chosen is None else None
    else:
        created = top
    return _Folder(key, folder, hold, created)


def _run_folder(cfg: SimConfig, chosen: str | None, template: str) -> _Folder | None:
    """The single run's folder (see the module's docstring); None if only Hydra can
    resolve its setting."""
    from ..config.design import config_hash
    from ..io.run_folder import hold_folder, partial_runs

    key = config_hash(cfg)
    setting = template if chosen is None else chosen
    if _is_timestamped(setting):
        for folder in partial_runs(_NOW.sub("*", glob.escape(setting)), key):
            hold = hold_folder(folder)
            if hold is not None:
                _say_resuming(folder, cfg)
                return _Folder("hydra.run.dir", folder, hold)
        return _claim("hydra.run.dir", None, _at_now(setting))
    if "${" in setting:
        return None
    manifest = _run_of(Path(setting), key)
    folder = _claim("hydra.run.dir", setting, setting)
    if manifest is not None and manifest.get("complete") is False:
        _say_resuming(folder.path, cfg)
    elif manifest is not None:
        print(f"casesim: {folder.path} holds this configuration's finished run; it is run again (the same tables)")
    return folder


def _run_of(folder: Path, key: str) -> dict | None:
    """The manifest of the run in ``folder`` (None if none): ConfigError if it is another
    configuration's, or cannot be read (so it cannot be told apart)."""
    from ..io.run_folder import read_manifest

    if not (folder / "manifest.json").exists():
        return None
    content = read_manifest(folder)
    if content is None:
        raise ConfigError("hydra.run.dir", str(folder), "holds a manifest.json that cannot be read; choose another folder")
    if content.get("config_hash") != key:
        raise ConfigError("hydra.run.dir", str(folder),
                          "holds the run of another configuration (see its manifest.json); choose another folder")
    return content


def _say_resuming(folder: Path, cfg: SimConfig) -> None:
    from ..config.design import config_hash
    from ..io.checkpoints import kept_count

    kept = kept_count(folder, config_hash(cfg), range(cfg.run.replications))
    print(f"casesim: resuming the partial run in {folder} ({kept} of {cfg.run.replications} replications kept)")


def _sweep_folder(chosen: str | None, template: str) -> _Folder | None:
    """The multirun's folder: a new one for the default, the one given otherwise."""
    setting = template if chosen is None else chosen
    if _is_timestamped(setting):
        return _claim("hydra.sweep.dir", None, _at_now(setting))
    return None if "${" in setting else _claim("hydra.sweep.dir", setting, setting)


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
@run_log.written_in_the_job_folder
@command("casesim")
def _hydra_main(composed: DictConfig) -> None:
    """One Hydra job: a single run, or one job of a multirun."""
    started = time.perf_counter()
    if _command_line:  # Hydra has read its own command line: the job's manifest records the user's
        sys.argv = list(_command_line)
    hydra_config = HydraConfig.get()
    # Validated in main already, unless --config-path named the config folder.
    cfg = build_config(apply_force_overrides(OmegaConf.to_container(composed, resolve=True), _force_overrides))
    given = [o[2:] if o.startswith("++") else o for o in hydra_config.overrides.task] + list(_force_overrides)
    if hydra_config.mode == RunMode.MULTIRUN:
        _multirun_job(cfg, hydra_config, given, started)
    else:
        _single_run(cfg, hydra_config.runtime.output_dir, given, started)


def _single_run(cfg, folder: str, given: list[str], started: float) -> None:
    """Run into the run folder (resuming what a stopped run of this configuration kept
    there), write its tables, figures and one-page report, and print the headline table and
    the findings."""
    from ..present.console import findings_text, headline_text, wrapped
    from ..running.runner import Interrupted
    from .outputs import run_to_folder

    try:
        said = run_to_folder(cfg, folder, given, started)
    except Interrupted as stop:
        raise KeyboardInterrupt(f"{stop}; run the same command to resume") from None
    print(headline_text(said.sheets, cfg.force_names if cfg.forces else (), said.national))
    print("\n" + wrapped(said.outcomes))
    print("\n" + findings_text(said.findings))
    print(f"\nwrote {folder} (report.html first)")


def _multirun_job(cfg, hydra_config, given: list[str], started: float) -> None:
    """A job of a multirun: replications run serially when jobs run side by side (no
    processes inside processes), a failure is recorded and the multirun goes on, and the job
    leaves a point folder that ``casesim-collect`` reads. Its finished replications are kept
    as a single run's are, and reused when the multirun runs again in the same folder."""
    from ..config.design import config_hash
    from ..io.points import write_point
    from ..running.resumable import run_in_folder
    from ..running.runner import Interrupted

    folder = hydra_config.runtime.output_dir
    if "BasicLauncher" not in str(hydra_config.launcher.get("_target_", "")):
        cfg = cfg.replace(run=dataclasses.replace(cfg.run, workers=1, progress=False))
    params = _job_params(hydra_config.overrides.task)
    key = config_hash(cfg)
    try:
        _, summary = run_in_folder(cfg, folder, given, started)
        write_point(folder, key, params, cfg, summary, time.perf_counter() - started)
        print(f"{hydra_config.job.num}: {', '.join(given)}: done")
    except Interrupted as stop:
        raise KeyboardInterrupt(f"job {hydra_config.job.num}: {stop}; the same command with "
                                f"hydra.sweep.dir={hydra_config.sweep.dir} reuses them") from None
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
        from ..present.console import counts_text

        collect(config.hydra.sweep.dir, table=False)
        print(f"collected {counts_text(status_counts(config.hydra.sweep.dir))} into {config.hydra.sweep.dir}/sweep.parquet")
