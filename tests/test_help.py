"""Every console script's ``--help`` reads as plain text, without the docstrings' markup,
and shows the default of every option that has one."""

from __future__ import annotations

import argparse
import importlib
import tomllib
from pathlib import Path

import pytest

from sim.cli.common import Parser, plain_text

SCRIPTS = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]["scripts"]
MARKUP = ("``", ":func:", ":class:", ":meth:", ":mod:", ":attr:")


def _help(script: str, monkeypatch, capsys) -> tuple[str, list[argparse.ArgumentParser]]:
    """``SCRIPT --help`` run in this process: what it printed, and the parsers it printed."""
    module, name = SCRIPTS[script].split(":")
    entry = getattr(importlib.import_module(module), name)
    printed: list[argparse.ArgumentParser] = []
    format_help = Parser.format_help

    def recorded(parser: Parser) -> str:
        printed.append(parser)
        return format_help(parser)

    monkeypatch.setattr(Parser, "format_help", recorded)
    with pytest.raises(SystemExit) as stop:
        entry(["--help"])
    assert stop.value.code in (0, None)
    return capsys.readouterr().out, printed


def test_every_console_script_is_checked():
    assert {"casesim", "casesim-compare", "casesim-search", "casesim-sweep", "casesim-collect",
            "casesim-replications", "casesim-calibrate", "casesim-backtest", "casesim-app"} <= set(SCRIPTS)


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_help_is_plain_text_and_shows_defaults(script, monkeypatch, capsys):
    text, parsers = _help(script, monkeypatch, capsys)
    assert text.strip()
    for markup in MARKUP:
        assert markup not in text, f"{script} --help shows {markup!r}"
    if script == "casesim":  # Hydra's help: the config groups and the composed config, every default in it
        assert not parsers and "== Config ==" in text and "replications:" in text
        return
    assert [parser.prog for parser in parsers] == [script]
    assert "`" not in text
    words = " ".join(text.split())  # an option's help may wrap anywhere
    for action in parsers[0]._actions:
        default = action.default  # compared by identity: a default of 0 is shown, one of False is not
        if not action.option_strings or default is None or default is False or default is argparse.SUPPRESS \
                or default == []:
            continue
        assert f"(default: {action.default})" in words, f"{script} {action.option_strings[-1]}"


def test_plain_text_keeps_the_words_of_roles_and_literals():
    assert plain_text(":class:`~sim.running.search.Target` and :func:`sim.simulate`") == "Target and sim.simulate"
    assert plain_text("``--out DIR`` or `name`; 5 % of n") == "--out DIR or name; 5 % of n"
