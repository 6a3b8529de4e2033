"""The ``casesim`` command (a Hydra app; ``python -m sim`` is the same).

Overrides are validated before Hydra creates anything: a bad key, type or value prints one
line naming it and exits with code 2, writing nothing.
"""

from __future__ import annotations

import sys
import time
from typing import Sequence

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from .config import CONFIG_DIR, ConfigError, build_config, load_config, normalise_overrides
from .outputs import write_run_folder
from .results.summary import headline
from .runner import simulate

# Hydra flags that take a value, flags after which no simulation runs, and flags that point
# Hydra at other config folders (their configs are validated in the job instead).
_VALUE_FLAGS = {"--config-name", "-cn", "--config-path", "-cp", "--config-dir", "-cd", "--cfg", "-c",
                "--package", "-p", "--experimental-rerun"}
_NO_RUN_FLAGS = {"--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c", "--shell-completion", "-sc",
                 "--version"}
_OTHER_CONFIG_FLAGS = {"--config-path", "-cp", "--config-dir", "-cd"}


def _split(argv: Sequence[str]) -> tuple[list[str], str, bool]:
    """(config overrides, config name, whether to validate them here: a single run on the
    built-in configs)."""
    overrides, name, runs, skip = [], "config", True, False
    for k, a in enumerate(argv):
        if skip:
            skip = False
            continue
        flag = a.split("=", 1)[0]
        if flag in _NO_RUN_FLAGS or flag in _OTHER_CONFIG_FLAGS or flag in ("--multirun", "-m"):
            runs = False
        if flag in _VALUE_FLAGS and "=" not in a:
            skip = True
            if flag in ("--config-name", "-cn") and k + 1 < len(argv):
                name = argv[k + 1]
        elif flag in ("--config-name", "-cn"):
            name = a.split("=", 1)[1]
        if not a.startswith("-") and not a.lstrip("+~").startswith("hydra."):
            overrides.append(a)
    return overrides, name, runs


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: validate, then hand over to Hydra."""
    argv = list(sys.argv[1:] if argv is None else argv)
    overrides, name, runs = _split(argv)
    if runs:
        try:
            load_config(overrides, config_name=name)
        except ConfigError as exc:
            print(f"casesim: error: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
    sys.argv = [sys.argv[0], *normalise_overrides(argv)]
    _hydra_main()


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def _hydra_main(dcfg: DictConfig) -> None:
    started = time.perf_counter()
    try:
        cfg = build_config(OmegaConf.to_container(dcfg, resolve=True))
    except ConfigError as exc:  # reached in multirun, where overrides are validated per job
        print(f"casesim: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    hc = HydraConfig.get()
    folder = hc.runtime.output_dir
    results = simulate(cfg)
    summary = results.summary()
    from .plots import save_all  # matplotlib only when figures are made

    save_all(results, f"{folder}/figures")
    given = [o[2:] if o.startswith("++") else o for o in hc.overrides.task]  # as the user wrote them
    write_run_folder(results, folder, given, time.perf_counter() - started, summary)
    print(headline(summary, cfg).to_string())
    print(f"\nwrote {folder}")
