"""Bad input, command by command: every row of ``BAD_INPUT`` is one thing a user might type
(or one file a user might hand over) and a fragment of what the command must answer.

The house rule, asserted for every row: exit code 2, exactly one line on stderr,
``PROG: error: ...``, naming the key or the value at fault; no traceback; nothing written
(the working folder stays empty, no ``--out`` or ``hydra.run.dir`` folder appears, the
input files are left as they were); no environment variable's value shown; and all of it
before any simulation starts.

Most rows call the command's ``main(argv)`` in this process, with the simulation's entry
points (and ``casesim``'s hand-over to Hydra) replaced by a tripwire, so a row that got past
the checks fails at once instead of simulating; a few rows of each command run the installed
command in a subprocess, end to end. Inputs accepted rather than refused (an Excel BOM,
spaces after the commas, latin-1, semicolons with decimal commas) are tested for the
acceptance instead, below the table.
Damaged sweep folders, which ``casesim-collect`` reports and marks failed (exit 1):
tests/test_sweep_integrity.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import importlib
import json
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BIN = Path(sys.executable).parent
MODULE_OF = {"casesim": "run", "casesim-compare": "compare", "casesim-search": "search", "casesim-sweep": "sweep",
             "casesim-collect": "collect", "casesim-replications": "replications", "casesim-calibrate": "calibrate",
             "casesim-backtest": "backtest"}

# A user's own config folder (README "Changing a scenario"): starts from the baseline.
USER_BASE = "defaults:\n  - config\n  - _self_\nscenario: mine\nrun: {replications: 1, horizon_days: 60.0, progress: false}\n"
BACKLOG_HEADER = "age_days,stage,assigned_grade\n"


@dataclass(frozen=True)
class Bad:
    """One bad input: ``command`` run with ``args`` (placeholders: ``{out}`` a folder that
    must not appear, ``{in}`` the folder holding ``files``, ``{file}`` an existing file,
    ``{locked}`` an existing folder nobody may write in, ``{other}`` a folder holding
    another configuration's run) answers with one line containing ``says`` (being
    ``PROG: error: SAYS`` whole if ``exact``; and not ``not_says``: the wrong thing blamed)."""

    command: str
    args: str
    says: str
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    not_says: str | None = None
    end_to_end: bool = False
    name: str = ""
    exact: bool = False

    @property
    def id(self) -> str:
        return self.name or f"{self.command} {self.args}"


def bad(command: str, args: str, says: str, **options) -> Bad:
    return Bad(command, args, says, **options)


def backlog(rows: str | bytes, name: str = "backlog.csv", header: str | bytes = BACKLOG_HEADER) -> dict:
    """A backlog CSV of ``rows`` under ``header`` as the fixture file ``name``."""
    if isinstance(rows, bytes) or isinstance(header, bytes):
        as_bytes = [part if isinstance(part, bytes) else part.encode() for part in (header, rows)]
        return {name: b"".join(as_bytes)}
    return {name: header + rows}


def backlog_run(rows: str | bytes, says: str, file: str = "backlog.csv", header: str | bytes = BACKLOG_HEADER,
                **options) -> Bad:
    """``casesim`` with the initial backlog read from the CSV ``file`` of ``rows``."""
    return bad("casesim", f"demand.initial_backlog.csv={{in}}/{file}", says, files=backlog(rows, file, header),
               name=options.pop("name", f"backlog {file}: {rows!r}"), **options)


def user_config(text: str | bytes, *extra: str, says: str, **options) -> Bad:
    """``casesim`` on the user's own YAML ``{in}/mine.yaml``."""
    args = " ".join(["--config-dir {in} --config-name mine", *extra])
    return bad("casesim", args, says, files={"mine.yaml": text},
               name=options.pop("name", f"user config {text!r} {' '.join(extra)}"), **options)


def out_folder_rows(command: str, key: str, before: str = "") -> list[Bad]:
    """``command``'s output folder ``key`` (``--out``, or casesim's ``hydra.run.dir``) refused
    before anything is made: a file, a path inside a file, a folder nobody may write in and
    a folder that cannot be created in one (``before``: the arguments the command needs)."""
    refusals = {"{file}": "is a file, not a folder", "{file}/x": "a path inside a file; choose a folder",
                "{locked}": "is not writable; choose a writable folder",
                "{locked}/x": "cannot be created here (permission denied); choose a writable folder"}
    given = f"{key} " if key.startswith("--") else f"{key}="
    return [bad(command, f"{before} {given}{path}".strip(), f"{key}='{path}': {why}") for path, why in refusals.items()]


def override_rows(command: str, before: str = "") -> list[Bad]:
    """The overrides and the unknown flag every analysis command refuses alike."""
    refusals = {"staffing.investigators=-2": "staffing.investigators=-2: headcount must be >= 1",
                "staffing.detectives=4": "staffing.detectives='4': unknown key",
                "run.replications=1000000000": "run.replications=1000000000: must be at most 100,000",
                "--bogus": f"unrecognized arguments: --bogus; see {command} --help"}
    return [bad(command, f"{before} {arg}".strip(), says) for arg, says in refusals.items()]


# --------------------------------------------------------------------------- the table

CASESIM = [
    # absurd sizes and overflow: a bound and a memory check before anything runs
    bad("casesim", "run.horizon_days=1e300", "run.horizon_days="),
    bad("casesim", "stages.intake.effort_hours={dist:lognormal,mean:1.0,cv:1e200}", "stages.intake.effort_hours"),
    bad("casesim", "stages.research.effort_hours={dist:gamma,mean:1.0,cv:1e200}", "stages.research.effort_hours"),
    bad("casesim", "run.replications=1000000000", "run.replications="),
    bad("casesim", "stages.warrant.max_applications=1e9", "stages.warrant.max_applications="),
    bad("casesim", "stages.warrant.max_applications=1000000000", "stages.warrant.max_applications="),
    bad("casesim", "run.monitor_interval_days=1e-9", "run.monitor_interval_days="),
    bad("casesim", "demand.initial_backlog.counts.L=1e12", "demand.initial_backlog.counts.L="),
    bad("casesim", "demand.referrals_per_month=1e12", "demand.referrals_per_month="),
    bad("casesim", "stages.post_arrest.effort_hours={dist:fixed,value:1e300}", "stages.post_arrest.effort_hours"),
    bad("casesim", "stages.warrant.validity_days=1e300", "stages.warrant.validity_days="),
    # the output folder, checked before Hydra makes it
    *out_folder_rows("casesim", "hydra.run.dir"),
    bad("casesim", "-m run.seed=1,2 hydra.sweep.dir={file}", "hydra.sweep.dir='{file}': is a file, not a folder"),
    bad("casesim", "hydra.run.dir={other}", "hydra.run.dir='{other}': holds the run of another configuration"),
    # the wrong thing blamed
    bad("casesim", "--config-name nonexistent run.replications=1", "--config-name='nonexistent': no nonexistent.yaml in",
        not_says="run.replications"),
    bad("casesim", "--config-name=nonexistent", "nonexistent"),
    # run
    bad("casesim", "run.replications=0", "run.replications=0"),
    bad("casesim", "run.replications=-1", "run.replications=-1"),
    bad("casesim", "run.replications=ten", "run.replications='ten'"),
    bad("casesim", "run.replications=2.5", "run.replications=2.5"),
    bad("casesim", "run.seed=-1", "run.seed=-1"),
    bad("casesim", "run.horizon_days=0", "run.horizon_days=0"),
    bad("casesim", "run.horizon_days=-5", "run.horizon_days=-5"),
    bad("casesim", "run.horizon_days=nan", "run.horizon_days=nan"),
    bad("casesim", "run.horizon_days=inf", "run.horizon_days=inf"),
    bad("casesim", "run.warmup_days=5000", "run.warmup_days=5000"),
    bad("casesim", "run.warmup_days=-1", "run.warmup_days=-1"),
    bad("casesim", "run.workers=0", "run.workers=0"),
    bad("casesim", "run.local_cluster=-1", "run.local_cluster=-1"),
    bad("casesim", "run.scheduler=tcp://127.0.0.1:8786 run.local_cluster=2", "run.local_cluster=2: 0 when"),
    bad("casesim", "run.scheduler=nowhere", "run.scheduler='nowhere': PROTOCOL://HOST:PORT", end_to_end=True),
    bad("casesim", "run.progress=maybe", "run.progress='maybe'"),
    bad("casesim", "run.monitor_interval_days=0", "run.monitor_interval_days=0"),
    bad("casesim", "run.bogus=1", "run.bogus"),
    # calendar
    bad("casesim", "calendar.working_days_per_week=0", "calendar.working_days_per_week=0"),
    bad("casesim", "calendar.working_days_per_week=8", "calendar.working_days_per_week=8"),
    bad("casesim", "calendar.day_start_hour=24", "calendar.day_start_hour=24"),
    bad("casesim", "calendar.hours_per_day=20", "calendar.hours_per_day=20"),
    bad("casesim", "calendar.hours_per_day=0", "calendar.hours_per_day=0"),
    bad("casesim", "calendar.enabled=sometimes", "calendar.enabled='sometimes'"),
    # demand
    bad("casesim", "demand.referrals_per_month=-1", "demand.referrals_per_month=-1"),
    bad("casesim", "demand.referrals_per_month=nan", "demand.referrals_per_month=nan"),
    bad("casesim", "demand.referrals_per_month=fifty", "demand.referrals_per_month='fifty'"),
    bad("casesim", "demand.growth_per_year=-1", "demand.growth_per_year=-1"),
    bad("casesim", "demand.direct_report_share=1.5", "demand.direct_report_share=1.5"),
    bad("casesim", "demand.bulk_package_probability=-0.1", "demand.bulk_package_probability=-0.1"),
    bad("casesim", "demand.bulk_extra_suspects_mean=-1", "demand.bulk_extra_suspects_mean=-1"),
    bad("casesim", "demand.risk_mix.L=0.9", "demand.risk_mix="),
    bad("casesim", "demand.risk_mix.X=0.1", "demand.risk_mix.X"),
    bad("casesim", "demand.child_in_household_probability=2", "demand.child_in_household_probability=2"),
    bad("casesim", "demand.initial_backlog.counts.H=-1", "demand.initial_backlog.counts.H=-1"),
    bad("casesim", "demand.initial_backlog.counts.H=2.5", "demand.initial_backlog.counts.H=2.5"),
    bad("casesim", "demand.initial_backlog.stage=court", "demand.initial_backlog.stage='court'"),
    bad("casesim", "demand.initial_backlog.max_age_days=-1", "demand.initial_backlog.max_age_days=-1"),
    bad("casesim", "demand.initial_backlog.csv={in}/missing.csv", "missing.csv"),
    bad("casesim", "demand.initial_backlog.csv={in}", "demand.initial_backlog.csv="),
    bad("casesim", "demand.arrivals=poisson", "demand.arrivals"),
    # staffing
    bad("casesim", "staffing.investigators=-2", "staffing.investigators=-2: headcount must be >= 1"),
    bad("casesim", "staffing.investigators=0", "staffing.investigators=0"),
    bad("casesim", "staffing.investigators=twenty", "staffing.investigators='twenty'"),
    bad("casesim", "staffing.investigators=2.5", "staffing.investigators=2.5"),
    bad("casesim", "staffing.investigators=[20,22]", "staffing.investigators="),
    bad("casesim", "staffing.detectives=4", "staffing.detectives='4': unknown key"),
    bad("casesim", "staffing.researchers=0", "staffing.researchers=0"),
    bad("casesim", "staffing.intake_researchers=0", "staffing.intake_researchers=0"),
    bad("casesim", "staffing.assessors=-1", "staffing.assessors=-1"),
    bad("casesim", "staffing.search_teams=0", "staffing.search_teams=0"),
    bad("casesim", "staffing.caseload_limit=0", "staffing.caseload_limit=0"),
    bad("casesim", "staffing.availability=0", "staffing.availability=0"),
    bad("casesim", "staffing.availability=1.5", "staffing.availability=1.5"),
    bad("casesim", "staffing.recruitment.investigators=-1", "staffing.recruitment.investigators=-1"),
    bad("casesim", "staffing.recruitment.learning_productivity=0", "staffing.recruitment.learning_productivity=0"),
    bad("casesim", "staffing.recruitment.attrition_per_year=-0.1", "staffing.recruitment.attrition_per_year=-0.1"),
    bad("casesim", "staffing.recruitment.lead_time_days=-1", "staffing.recruitment.lead_time_days=-1"),
    # training
    bad("casesim", "training.assessors_trained_share=1.5", "training.assessors_trained_share=1.5"),
    bad("casesim", "training.under_grade_probability_trained=-0.1", "training.under_grade_probability_trained=-0.1"),
    bad("casesim", "training.untrained_research_effort_multiplier=0", "training.untrained_research_effort_multiplier=0"),
    bad("casesim", "training.programme.duration_days=-1", "training.programme.duration_days=-1"),
    bad("casesim", "training.programme.assessors_trained_share=0.1", "training.programme.assessors_trained_share=0.1"),
    bad("casesim", "training.programme.course_days=-1", "training.programme.course_days=-1"),
    # stages
    bad("casesim", "stages.intake.duplicate_probability=1.2", "stages.intake.duplicate_probability=1.2"),
    bad("casesim", "stages.intake.effort_hours={dist:uniform,low:5,high:1}", "stages.intake.effort_hours.high"),
    bad("casesim", "stages.intake.effort_hours={dist:normal,mean:1}", "stages.intake.effort_hours"),
    bad("casesim", "stages.intake.effort_hours.low=-1", "stages.intake.effort_hours.low"),
    bad("casesim", "stages.intake.effort_hours=3", "stages.intake.effort_hours=3"),
    bad("casesim", "stages.planning.lag_days={dist:exponential,mean:-1}", "stages.planning.lag_days.mean"),
    bad("casesim", "stages.post_arrest.effort_hours={dist:fixed,value:-1}", "stages.post_arrest.effort_hours.value"),
    bad("casesim", "stages.research.comms_data_urgent_risks=[X]", "stages.research.comms_data_urgent_risks"),
    bad("casesim", "stages.warrant.same_day_grades=[VH,Z]", "unknown grade 'Z'"),
    bad("casesim", "stages.warrant.slots_per_sitting_day=0", "stages.warrant.slots_per_sitting_day=0"),
    bad("casesim", "stages.warrant.validity_days=0", "stages.warrant.validity_days=0"),
    bad("casesim", "stages.warrant.max_applications=0", "stages.warrant.max_applications=0"),
    bad("casesim", "stages.execution.arrest_probability=0.9", "stages.execution."),
    bad("casesim", "stages.execution.warrants_per_team_per_day=0", "stages.execution.warrants_per_team_per_day=0"),
    bad("casesim", "stages.round_the_clock_speedup=0.5", "stages.round_the_clock_speedup=0.5"),
    bad("casesim", "stages.review.analyst_interval_days=0", "stages.review.analyst_interval_days=0"),
    bad("casesim", "stages.review.detection_probability=2", "stages.review.detection_probability=2"),
    bad("casesim", "stages.review.analyst_cases_per_review=-1", "stages.review.analyst_cases_per_review=-1"),
    # targets and collaboration
    bad("casesim", "targets_days.VH=0", "targets_days.VH=0"),
    bad("casesim", "targets_days.X=1", "targets_days.X"),
    bad("casesim", "collaboration.pooling.investigators=true", "collaboration.pooling.investigators"),
    bad("casesim", "collaboration.triage_hub.assessors=0", "collaboration.triage_hub.assessors=0"),
    bad("casesim", "collaboration.triage_hub.trained_share=2", "collaboration.triage_hub.trained_share=2"),
    bad("casesim", "collaboration.surge.investigators=-1", "collaboration.surge.investigators=-1"),
    bad("casesim", "collaboration.surge.availability=0", "collaboration.surge.availability=0"),
    bad("casesim", "collaboration.surge.queue_threshold=-1", "collaboration.surge.queue_threshold=-1"),
    bad("casesim", "collaboration.surge.grades=[Q]", "collaboration.surge.grades"),
    # config groups, override syntax
    bad("casesim", "demand=huge_force", "huge_force"),
    bad("casesim", "staffing=nobody", "nobody"),
    bad("casesim", "scenario=nonexistent", "nonexistent"),
    # a config group given a value that is not an option's name (Hydra's ValueError before)
    bad("casesim", "scenario=false", "scenario='false': a config group: the name of one of its options, analyst_review"),
    bad("casesim", "run=3", "run='3': a config group: the name of one of its options, default, quick"),
    bad("casesim", "forces=1.5", "forces='1.5': a config group"),
    bad("casesim-compare", "more_investigators demand=true", "demand='true': a config group"),
    bad("casesim", "forces=five_forces", "five_forces"),
    # `force` is a prefix of `forces`: the error names the key that is wrong, whole
    bad("casesim", "force=large forces=five_forces", "forces='five_forces': In 'config': Could not find"),
    bad("casesim", "calendar=lunar", "lunar"),
    bad("casesim", "force=huge", "huge"),
    bad("casesim", "force=large forces=three_forces", "force='large': a whole-force preset is for a force run alone"),
    bad("casesim-compare", "regional_pooling force=small", "force='small': a whole-force preset is for a force run alone"),
    bad("casesim", "staffing.investigators", "staffing.investigators"),
    bad("casesim", "staffing.investigators=[1,", "staffing.investigators"),
    bad("casesim", "scenario=fast_warrants staffing.investigators=-1", "staffing.investigators=-1"),
    # multirun: every job validated before the first
    bad("casesim", "-m staffing.investigators=16,-2", "staffing.investigators=-2"),
    bad("casesim", "-m run.replications=1,0", "run.replications=0"),
    bad("casesim", "-m +sweep=nonexistent", "nonexistent"),
    bad("casesim", "-m +sweep=../../x", "../../x"),
    bad("casesim", "-m +sweep=sensitivity", "sensitivity"),
    bad("casesim", "-m 'run.seed=${oc.env:CASESIM_TEST_SECRET}' staffing.investigators=20,21",
        "run.seed='${oc.env:CASESIM_TEST_SECRET}': reads an environment variable"),
]

BACKLOG_CSV = [
    backlog_run("", "demand.initial_backlog.csv='{in}/backlog.csv': lists no cases",
                name="backlog: header only (refused: an empty list means the default counts)"),
    backlog_run("10,allocation,H\n12,allocation,Q\n", "backlog.csv row 3 column assigned_grade='Q': one of VH, H, M, L"),
    backlog_run("10,allocation,H,extra\n", "row 2", name="backlog: a row with an extra field"),
    backlog_run("1e300,allocation,H\n", "row 2 column age_days", name="backlog: age_days=1e300"),
    backlog_run("-5,allocation,H\n", "row 2 column age_days"),
    backlog_run("nan,allocation,H\n", "row 2 column age_days"),
    backlog_run("ten,allocation,H\n", "row 2 column age_days"),
    backlog_run("10,court,H\n", "row 2 column stage"),
    backlog_run("10,allocation,\n", "row 2 column assigned_grade", name="backlog: no grade at allocation"),
    backlog_run("10,allocation,H,maybe\n", "row 2 column child_in_household",
                header="age_days,stage,assigned_grade,child_in_household\n"),
    backlog_run("10,allocation,H,x\n", "notes", header="age_days,stage,assigned_grade,notes\n",
                name="backlog: an unknown column"),
    backlog_run("10,20,allocation,H\n", "age_days", header="age_days,age_days,stage,assigned_grade\n",
                name="backlog: a duplicate header"),
    backlog_run("allocation,H\n", "age_days", header="stage,assigned_grade\n", name="backlog: no age_days column"),
    backlog_run("10,5;allocation;H\r\n1.234;allocation;H\r\n",
                "backlog.csv row 3 column age_days='1.234': a number of days from 0 to 36,525",
                header="age_days;stage;assigned_grade\r\n", name="backlog: semicolons, an age with a point"),
    backlog_run("10,allocation;H\r\n", "backlog.csv row 1='age_days,stage;assigned_grade': the header splits into "
                "columns both at ',' and at ';'", header="age_days,stage;assigned_grade\r\n",
                name="backlog: commas and semicolons"),
    backlog_run("10\tallocation\tH\n", "demand.initial_backlog.csv='{in}/backlog.csv': columns separated by tabs",
                header="age_days\tstage\tassigned_grade\n", name="backlog: tabs"),
    backlog_run(b"10,allocation,H\n12,r\xe9serv\xe9,H\n", "latin1.csv", file="latin1.csv",
                header=BACKLOG_HEADER.encode()),
    backlog_run(b"\x00\xff\xfe\x00garbage\n", "garbage.csv", file="garbage.csv", header=b""),
    backlog_run("", "empty.csv", file="empty.csv", header=""),
]

USER_CONFIGS = [
    user_config(USER_BASE + "staffing: {investigators: [1,\n",
                says="--config-name='mine': {in}/mine.yaml line 7, column 1: not valid YAML",
                name="user config: malformed YAML"),
    user_config(USER_BASE + "staffing: {investigators: [1,\n", "-m run.seed=1,2",
                says="--config-name='mine': {in}/mine.yaml line 7, column 1: not valid YAML",
                name="user config: malformed YAML under -m"),
    user_config(USER_BASE + "staffing: {investigators: -1}\n", says="staffing.investigators=-1: headcount must be >= 1",
                name="user config: a bad value", end_to_end=True, exact=True),
    user_config(USER_BASE + "staffing: {detectives: 4}\n", says="staffing.detectives=4: unknown key",
                name="user config: an unknown key"),
    user_config(USER_BASE + "staffing: {detectives: 4}\n", "-m run.seed=1,2", says="staffing.detectives=4: unknown key",
                name="user config: an unknown key under -m"),
    user_config(USER_BASE + "staffing: {investigators: -1}\n", "-m run.seed=1,2", says="staffing.investigators=-1",
                name="user config: a bad value under -m"),
    user_config(USER_BASE + "staffing: {investigators: -1}\n", "hydra.run.dir={out}", says="staffing.investigators=-1",
                name="user config: a bad value with hydra.run.dir"),
    user_config(USER_BASE + "- just\n- a list\n", says="mine.yaml", name="user config: a mapping, then a list"),
    user_config("- just\n- a list\n", says="mine", not_says="overrides=", name="user config: a list, not a mapping"),
    user_config("0\n", says="mine", not_says="overrides=", name="user config: a number, not a mapping"),
    user_config(b"scenario: r\xe9serv\xe9\n", says="mine", not_says="overrides=", name="user config: not UTF-8"),
    user_config(USER_BASE.replace("scenario: mine", "scenario: ${oc.env:CASESIM_TEST_SECRET}"),
                says="scenario='${oc.env:CASESIM_TEST_SECRET}': reads an environment variable",
                name="user config: ${oc.env:...} (its value would be copied into the manifest)"),
    bad("casesim", "--config-dir {in} --config-name nonexistent run.replications=1",
        "--config-name='nonexistent': no nonexistent.yaml in", files={"mine.yaml": USER_BASE},
        not_says="run.replications"),
    bad("casesim", "--config-dir {in}/no_such_folder --config-name mine", "--config-dir='{in}/no_such_folder': no such folder"),
    bad("casesim", "'run.seed=${oc.env:CASESIM_SEED,1}'", "run.seed='${oc.env:CASESIM_SEED,1}': reads an environment"),
    bad("casesim", "'run.seed=${oc.env:CASESIM_TEST_SECRET}'",
        "run.seed='${oc.env:CASESIM_TEST_SECRET}': reads an environment variable"),
    bad("casesim", "staffing.investigators=-2 hydra.run.dir={out}", "staffing.investigators=-2: "),
]

COMPARE = [
    *out_folder_rows("casesim-compare", "--out", "fast_warrants"),
    *override_rows("casesim-compare", "fast_warrants"),
    bad("casesim-compare", "fast_warrants --out {out} staffing.investigators=-2", "staffing.investigators=-2",
        name="casesim-compare: an override after --out is read (and this one refused)"),
    bad("casesim-compare", "", "the following arguments are required"),
    bad("casesim-compare", "nonexistent_scenario", "nonexistent_scenario"),
    bad("casesim-compare", "fast_warrants nonexistent_scenario", "nonexistent_scenario"),
    bad("casesim-compare", "baseline", "baseline"),
    bad("casesim-compare", "fast_warrants fast_warrants", "fast_warrants"),
    bad("casesim-compare", "fast_warrants scenario=training", "scenario"),
    bad("casesim-compare", "fast_warrants run.replications=0", "run.replications=0"),
    bad("casesim-compare", "fast_warrants run.horizon_days=1e300", "run.horizon_days="),
    bad("casesim-compare", "regional_pooling", "regional_pooling", name="casesim-compare: pooling on one force"),
    bad("casesim-compare", "fast_warrants --out", "argument --out: expected one argument"),
    bad("casesim-compare", "fast_warrants demand=huge_force", "huge_force"),
    bad("casesim-compare", "fast_warrants run.scheduler=nowhere --out {out}", "run.scheduler='nowhere'",
        end_to_end=True),
    bad("casesim-compare", "fast_warrants stages.intake.duplicate_probability=1.2 --out {out}",
        "stages.intake.duplicate_probability=1.2: ", end_to_end=True),
]

SEARCH = [
    *out_folder_rows("casesim-search", "--out"),
    *override_rows("casesim-search"),
    bad("casesim-search", "--within-days -5", "--within-days=-5.0: a finite number of days > 0"),
    bad("casesim-search", "--within-days nan", "--within-days=nan: a finite number of days > 0"),
    bad("casesim-search", "--within-days inf", "--within-days=inf: a finite number of days > 0"),
    bad("casesim-search", "--within-days 0", "--within-days=0.0: a finite number of days > 0"),
    bad("casesim-search", "run.horizon_days=60 --within-days 90",
        "--within-days=90.0: a finite number of days > 0 and below run.horizon_days (60)"),
    bad("casesim-search", "--within-days abc", "argument --within-days: invalid float value: 'abc'"),
    bad("casesim-search", "--within-days", "argument --within-days: expected one argument"),
    bad("casesim-search", "--grid nonexistent.key=1,2 --cost nonexistent.key=1",
        "--grid='nonexistent.key': not a numeric configuration key", not_says="--cost"),
    bad("casesim-search", "--grid scenario=1,2", "--grid='scenario': not a numeric configuration key"),
    bad("casesim-search", "--grid run.seed=1,2", "--grid='run.seed': the search varies the model"),
    bad("casesim-search", "--grid staffing.investigators=20,-5 --cost staffing.investigators=1",
        "--grid staffing.investigators=-5.0: headcount must be >= 1", not_says="--cost"),
    bad("casesim-search", "--grid staffing.investigators=20,nan --cost staffing.investigators=1",
        "--grid staffing.investigators=nan: a finite number"),
    bad("casesim-search", "--grid staffing.investigators=20.5 --cost staffing.investigators=1",
        "--grid staffing.investigators=20.5: a whole number"),
    bad("casesim-search", "--grid staffing.investigators=20,22 --grid staffing.investigators=24",
        "staffing.investigators given twice"),
    bad("casesim-search", "--grid staffing.investigators=twenty",
        "--grid='staffing.investigators=twenty': KEY=V1,V2,... with numbers"),
    bad("casesim-search", "--grid staffing.investigators", "--grid='staffing.investigators': KEY=V1,V2,..."),
    bad("casesim-search", "--grid =1,2", "--grid='=1,2': KEY=V1,V2,..."),
    bad("casesim-search", "--grid training.assessors_trained_share=0.5,1",
        "--grid='training.assessors_trained_share': give every --grid key a cost per unit (--cost)",
        name="casesim-search: a grid key without a price"),
    bad("casesim-search", "--grid staffing.investigators=20,22 --cost staffing.investigators=abc",
        "--cost='staffing.investigators=abc': KEY=PER_UNIT with a number"),
    bad("casesim-search", "--grid staffing.investigators=20 --cost staffing.investigators=nan",
        "--cost staffing.investigators=nan: a finite cost per unit >= 0"),
    bad("casesim-search", "--grid staffing.investigators=20,22 --cost staffing.investigators=1 "
                          "--cost staffing.researchers=1", "--cost='staffing.researchers': not a --grid key"),
    bad("casesim-search", "--cost staffing.investigators=1", "--cost='staffing.investigators=1': prices a --grid key"),
    bad("casesim-search", "--risks VH,X", "--risks='VH,X': grades from VH, H, M, L"),
    bad("casesim-search", "--risks", "argument --risks: expected one argument"),
    bad("casesim-search", "--confidence 1.5", "--confidence=1.5: a fraction in (0, 1)"),
    bad("casesim-search", "--confidence 1", "--confidence=1.0: a fraction in (0, 1)"),
    bad("casesim-search", "--confidence 0", "--confidence=0.0: a fraction in (0, 1)"),
    bad("casesim-search", "--confidence nan", "--confidence=nan: a fraction in (0, 1)"),
    bad("casesim-search", "--max-share-late 0", "--max-share-late=0.0: a fraction in (0, 1)"),
    bad("casesim-search", "--max-share-late 2", "--max-share-late=2.0: a fraction in (0, 1)"),
    bad("casesim-search", "--max-share-late inf", "--max-share-late=inf: a fraction in (0, 1)"),
    bad("casesim-search", "--max-investigators 0", "--max-investigators=0: a whole number of investigators from "
                                                   "today's 20"),
    bad("casesim-search", "--max-investigators 10", "--max-investigators=10: a whole number of investigators from "
                                                    "today's 20"),
    bad("casesim-search", "--max-investigators -3", "--max-investigators=-3: a whole number of investigators"),
    bad("casesim-search", "--max-investigators 100000", "--max-investigators=100000: a whole number of investigators"),
    bad("casesim-search", "--max-investigators 1e9", "argument --max-investigators: invalid int value: '1e9'"),
    bad("casesim-search", "--max-investigators abc", "argument --max-investigators: invalid int value: 'abc'"),
    bad("casesim-search", "run.replications=1", "run.replications=1: the search needs at least 2",
        name="casesim-search: one replication, no bound"),
    bad("casesim-search", "forces=three_forces", "forces"),
    bad("casesim-search", "--grid staffing.investigators=twenty --out {out}",
        "--grid='staffing.investigators=twenty': ", end_to_end=True),
]

SWEEPS = ", ".join(sorted(p.stem for p in (Path(__file__).parents[1] / "configs" / "sweep").glob("*.yaml")))

SWEEP = [
    *out_folder_rows("casesim-sweep", "--out", "smoke"),
    *override_rows("casesim-sweep", "smoke"),
    bad("casesim-sweep", "smoke --batch-seconds nan", "--batch-seconds=nan: must be > 0, a finite number of seconds"),
    bad("casesim-sweep", "smoke --batch-seconds inf", "--batch-seconds=inf: must be > 0, a finite number of seconds"),
    bad("casesim-sweep", "smoke --batch-seconds 0", "--batch-seconds=0.0: must be > 0, a finite number of seconds"),
    bad("casesim-sweep", "smoke --batch-seconds -1", "--batch-seconds=-1.0: must be > 0, a finite number of seconds"),
    bad("casesim-sweep", "smoke --batch-seconds abc", "argument --batch-seconds: invalid float value: 'abc'"),
    bad("casesim-sweep", "../../x", f"sweep='../../x': a plain name (letters, digits, _ and -); sweeps: {SWEEPS}",
        exact=True),
    bad("casesim-sweep", "{in}/mine", "mine", files={"mine.yaml": "hydra:\n  sweeper:\n    params:\n"
                                                                  "      run.seed: 1,2\n"},
        name="casesim-sweep: a path to a sweep file outside configs/sweep"),
    bad("casesim-sweep", "", "the following arguments are required: name"),
    bad("casesim-sweep", "--workers 2", "the following arguments are required: name"),
    bad("casesim-sweep", "nonexistent", "nonexistent"),
    bad("casesim-sweep", "smoke staffing.investigators=16,-2", "staffing.investigators=-2"),
    bad("casesim-sweep", "sensitivity demand.referrals_per_month=60", "demand.referrals_per_month"),
    bad("casesim-sweep", "sensitivity_morris sweep.sample.levels=3",
        "sweep.sample.levels=3: an even whole number >= 2"),
    bad("casesim-sweep", "sensitivity_morris sweep.sample.seed=0", "sweep.sample.seed=0: a whole number from 1"),
    bad("casesim-sweep", "sensitivity_morris sweep.sample.points=100",
        "sweep.sample.points=100: not a key of method morris"),
    bad("casesim-sweep", "sensitivity_sobol sweep.sample.base_samples=100",
        "sweep.sample.base_samples=100: a power of two"),
    bad("casesim-sweep", "sensitivity_sobol sweep.sample.method=grid", "sweep.sample.method='grid': one of lhs"),
    bad("casesim-sweep", "smoke sweep.sample.seed=2", "configs/sweep/smoke.yaml has no sweep.sample block"),
    bad("casesim-sweep", "smoke --workers 0", "--workers=0: from 1 to 1024 processes"),
    bad("casesim-sweep", "smoke --workers 100000", "--workers=100000: from 1 to 1024 processes"),
    bad("casesim-sweep", "smoke --workers abc", "argument --workers: invalid int value: 'abc'"),
    bad("casesim-sweep", "smoke --local-cluster 0", "--local-cluster=0: from 1 to 1024 processes"),
    bad("casesim-sweep", "smoke --connect-timeout nan", "--connect-timeout=nan: must be > 0"),
    bad("casesim-sweep", "smoke --connect-timeout 0", "--connect-timeout=0.0: must be > 0"),
    bad("casesim-sweep", "smoke --scheduler notaurl", "--scheduler='notaurl': PROTOCOL://HOST:PORT"),
    bad("casesim-sweep", "smoke --scheduler 127.0.0.1:8786", "--scheduler='127.0.0.1:8786': PROTOCOL://HOST:PORT"),
    bad("casesim-sweep", "smoke --scheduler tcp://127.0.0.1:1 --connect-timeout 0.5 --out {out}",
        "--scheduler='tcp://127.0.0.1:1': no Dask scheduler answered within 0.5 s"),
    bad("casesim-sweep", "smoke --batch-seconds 0 --out {out}", "--batch-seconds=0.0: must be > 0", end_to_end=True),
    # replications chosen per point
    bad("casesim-sweep", "smoke run.replications=auto --precision 0", "--precision=0.0: a relative half-width in (0, 1)"),
    bad("casesim-sweep", "smoke run.replications=auto --precision nan", "--precision=nan: a relative half-width in (0, 1)"),
    bad("casesim-sweep", "smoke run.replications=auto --precision 5", "--precision=5.0: a relative half-width in (0, 1)"),
    bad("casesim-sweep", "smoke run.replications=auto --precision abc", "argument --precision: invalid float value"),
    bad("casesim-sweep", "smoke run.replications=auto --max-replications 5",
        "--max-replications=5: a whole number from 8 (3 replications, Hoad et al.'s minimum, and a look-ahead of 5"),
    bad("casesim-sweep", "smoke run.replications=auto --max-replications 1000000",
        "--max-replications=1000000: a whole number from 8"),
    bad("casesim-sweep", "smoke --precision 0.1", "--precision=0.1: only with run.replications=auto"),
    bad("casesim-sweep", "smoke run.replications=4 --max-replications 20",
        "--max-replications=20: only with run.replications=auto"),
    bad("casesim-sweep", "smoke run.replications=auto --precision 0 --out {out}", "--precision=0.0", end_to_end=True),
    bad("casesim", "run.replications=auto", "run.replications='auto': a whole number >= 1; auto (replications chosen "
        "until a precision is reached) only in casesim-sweep"),
    bad("casesim-replications", "run.replications=auto", "run.replications='auto'"),
]

COLLECT = [
    bad("casesim-collect", "", "the following arguments are required: directory"),
    bad("casesim-collect", "{in}/no_such_folder", "directory='{in}/no_such_folder': no such folder"),
    bad("casesim-collect", "{file}", "directory='{file}': no such folder"),
    bad("casesim-collect", "{in}", "directory='{in}': no sweep here", files={"notes.txt": "not a sweep\n"},
        name="casesim-collect: a folder without a sweep"),
    bad("casesim-collect", "{in}/a {in}/b", "unrecognized arguments: {in}/b"),
    bad("casesim-collect", "{out}", "directory='{out}': no such folder", end_to_end=True),
]

REPLICATIONS = [
    *out_folder_rows("casesim-replications", "--out"),
    *override_rows("casesim-replications"),
    bad("casesim-replications", "--max 2", "--max=2: from 3 replications"),
    bad("casesim-replications", "--max -1", "--max=-1: from 3 replications"),
    bad("casesim-replications", "--max 100000", "--max=100000: from 3 replications"),
    bad("casesim-replications", "--max 1000000000", "--max=1000000000: from 3 replications"),
    bad("casesim-replications", "--max abc", "argument --max: invalid int value: 'abc'"),
    bad("casesim-replications", "--precision 0", "--precision=0.0: a relative half-width in (0, 1)"),
    bad("casesim-replications", "--precision 1.5", "--precision=1.5: a relative half-width in (0, 1)"),
    bad("casesim-replications", "--precision nan", "--precision=nan: a relative half-width in (0, 1)"),
    bad("casesim-replications", "--precision inf", "--precision=inf: a relative half-width in (0, 1)"),
    bad("casesim-replications", "--precision", "argument --precision: expected one argument"),
    bad("casesim-replications", "scenario=nonexistent", "nonexistent"),
    bad("casesim-replications", "--precision 1.5 --out {out}", "--precision=1.5: ", end_to_end=True),
]

def case_log(months: int = 8, stages: bool = True) -> dict:
    """A small case log ``log.csv``: a referral every ten days for ``months`` months, each
    graded two days later and allocated a week after that if ``stages``."""
    rows = ["case_id,referral_date,grade,graded_date,allocated_date"]
    for k in range(months * 3):
        referral = (dt.date(2024, 1, 1) + dt.timedelta(days=10 * k))
        graded, allocated = referral + dt.timedelta(days=2), referral + dt.timedelta(days=9)
        rows.append(f"C{k},{referral},{'M' if stages else ''},{graded if stages else ''},"
                    f"{allocated if stages else ''}")
    return {"log.csv": "\n".join(rows) + "\n"}


CALIBRATE = [
    *[dataclasses.replace(row, files=case_log()) for row in out_folder_rows("casesim-calibrate", "--out",
                                                                            before="{in}/log.csv")],
    *[dataclasses.replace(row, files=case_log()) for row in override_rows("casesim-calibrate", before="{in}/log.csv")],
    bad("casesim-calibrate", "{in}/nope.csv", "case_log='{in}/nope.csv': no such file"),
    bad("casesim-calibrate", "{in}/log.csv --as-of 2023-01-01", "--as-of='2023-01-01': before the log's first",
        files=case_log()),
    bad("casesim-calibrate", "{in}/log.csv --as-of someday", "--as-of='someday': not a date", files=case_log()),
    bad("casesim-calibrate", "{in}/log.csv --fit stages.bogus", "--fit='stages.bogus': one of", files=case_log()),
    bad("casesim-calibrate", "{in}/log.csv --projection-years 9", "--projection-years=9: a whole number of years",
        files=case_log()),
    bad("casesim-calibrate", "{in}/log.csv --workers 0", "--workers=0: a whole number of processes",
        files=case_log()),
    bad("casesim-calibrate", "{in}/log.csv --name 9lives", "--name='9lives': a name of letters", files=case_log()),
    bad("casesim-calibrate", "{in}/log.csv forces=three_forces", "forces='3 forces': one force", files=case_log()),
    bad("casesim-calibrate", "{in}/log.csv", "covers 1 month (2024-01-01 to 2024-01-30)", files=case_log(months=1)),
    bad("casesim-calibrate", "{in}/log.csv", "records too few dated stages", files=case_log(stages=False)),
    bad("casesim-calibrate", "{in}/log.csv --fit none --columns {in}/nope.yaml", "--columns=", files=case_log()),
    bad("casesim-calibrate", "{in}/log.csv --fit stages.bogus --out {out}", "--fit='stages.bogus'",
        files=case_log(), end_to_end=True),
]

BACKTEST = [
    *[dataclasses.replace(row, files=case_log(months=12)) for row in out_folder_rows(
        "casesim-backtest", "--out", before="{in}/log.csv --train-until 2024-08-01")],
    bad("casesim-backtest", "{in}/log.csv", "the following arguments are required: --train-until",
        files=case_log(months=12)),
    bad("casesim-backtest", "{in}/log.csv --train-until 2025-01-01", "--train-until='2025-01-01': after the log's",
        files=case_log(months=12)),
    bad("casesim-backtest", "{in}/log.csv --train-until 2024-12-10", "--train-until='2024-12-10': leaves",
        files=case_log(months=12)),
    bad("casesim-backtest", "{in}/log.csv --train-until 2024-02-01", "covers 2 months", files=case_log(months=12)),
    bad("casesim-backtest", "{in}/log.csv --train-until someday", "--train-until='someday': not a date",
        files=case_log(months=12)),
    bad("casesim-backtest", "{in}/log.csv --train-until 2024-08-01 --replications 2", "--replications=2: from 5",
        files=case_log(months=12)),
    bad("casesim-backtest", "{in}/log.csv --train-until 2024-08-01 --fit stages.bogus", "--fit='stages.bogus'",
        files=case_log(months=12)),
    bad("casesim-backtest", "{in}/log.csv --train-until 2024-08-01 --replications 2 --out {out}", "--replications=2",
        files=case_log(months=12), end_to_end=True),
]

BAD_INPUT = [*CASESIM, *BACKLOG_CSV, *USER_CONFIGS, *COMPARE, *SEARCH, *SWEEP, *COLLECT, *REPLICATIONS, *CALIBRATE,
             *BACKTEST]


# --------------------------------------------------------------------------- running a row


class SimulationStarted(BaseException):
    """Raised by the tripwire on the model: bad input got past every check. A BaseException,
    so a command's own ``except Exception`` (a sweep recording a failed batch) lets it by."""


class HydraStarted(BaseException):
    """Raised instead of handing ``casesim`` over to Hydra: bad input got past its checks."""


def _tripwire(*args, **kwargs):
    raise SimulationStarted("a simulation started")


def _no_hydra(*args, **kwargs):
    raise HydraStarted("casesim handed over to Hydra")


@dataclass
class Answer:
    code: object
    out: str
    err: str

    def line(self) -> str:
        """The answer in one line, for a failure's message."""
        return f"exit {self.code}; stderr {self.err!r}; stdout {self.out[-300:]!r}"


@pytest.fixture
def place(tmp_path):
    """The folders a row runs in: an empty working folder, the input folder (with an
    existing file), the folder that must not appear, an existing unwritable folder and
    the folder of another configuration's run."""
    cwd, inputs = tmp_path / "cwd", tmp_path / "in"
    cwd.mkdir()
    inputs.mkdir()
    (inputs / "a file").write_text("an existing file\n")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.access(locked, os.W_OK):  # root writes anywhere: a folder of the kernel's instead
        locked = Path("/sys/kernel")
        if not locked.is_dir():
            pytest.skip("no unwritable folder here")
    other = tmp_path / "other_run"
    other.mkdir()
    (other / "manifest.json").write_text(json.dumps({"complete": True, "config_hash": "0123456789abcdef"}))
    yield {"root": tmp_path, "cwd": cwd, "{in}": inputs, "{out}": tmp_path / "out", "{file}": inputs / "a file",
           "{locked}": locked, "{other}": other}
    (tmp_path / "locked").chmod(0o755)


PLACEHOLDERS = ("{in}", "{out}", "{file}", "{locked}", "{other}")


def _argv(row: Bad, place: dict) -> list[str]:
    argv = shlex.split(row.args)
    return [_placed(arg, place) for arg in argv]


def _placed(text: str, place: dict) -> str:
    """``text`` with its placeholders replaced by ``place``'s paths."""
    for token in PLACEHOLDERS:
        text = text.replace(token, str(place[token]))
    return text


def _files_under(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its content (None for a folder)."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


# Where the running layer starts simulating (looked up when a command runs, so replacing
# them here reaches every command); the model's own entry is the backstop.
TRIPWIRES = [("sim.running.runner", "run_replications"), ("sim.running.scenarios", "simulate"),
             ("sim.running.search", "simulate"), ("sim.running.replication_study", "run_replications"),
             ("sim.running.sweep", "run_chunks"), ("sim.running.sweep", "run_replication"),
             ("sim.calibration.calibrate", "calibrate"), ("sim.calibration.backtest", "backtest")]

MEMORY_CAP_BYTES = 4 << 30
"""Address space a row may take beyond what the process has: an absurd size that got past
the checks fails with MemoryError instead of exhausting the machine."""


@contextlib.contextmanager
def memory_cap(extra_bytes: int = MEMORY_CAP_BYTES):
    """Inside, this process may grow its address space by ``extra_bytes`` only (Linux)."""
    import resource

    status = Path("/proc/self/status")
    if not status.is_file():
        yield
        return
    size_kib = next(int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = size_kib * 1024 + extra_bytes
    resource.setrlimit(resource.RLIMIT_AS, (cap if hard == resource.RLIM_INFINITY else min(cap, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run_in_process(command: str, argv: list[str], cwd: Path, monkeypatch, capsys) -> Answer:
    """``command``'s ``main(argv)`` in this process, in ``cwd``, with the simulation's entry
    points (and, for ``casesim``, Hydra) behind a tripwire and the memory capped; any
    exception but SystemExit is the answer's code."""
    from sim.model.region import RegionModel

    module = importlib.import_module(f"sim.cli.{MODULE_OF[command]}")
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", [command])
    monkeypatch.setattr(RegionModel, "__init__", _tripwire)
    # Every module imported before any is patched: one imported after would bind the
    # tripwire as its own name (``from .runner import run_replications``) and keep it.
    entries = [(importlib.import_module(where), name) for where, name in TRIPWIRES]
    for entry_module, name in entries:
        monkeypatch.setattr(entry_module, name, _tripwire)  # raises if an entry was renamed
    if command == "casesim":
        monkeypatch.setattr(module, "_hydra_main", _no_hydra)
    capsys.readouterr()
    try:
        with memory_cap():
            module.main(argv)
        code: object = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else f"SystemExit({stop.code!r})")
    except (SimulationStarted, HydraStarted, Exception) as exc:  # noqa: BLE001 - the answer, not a test error
        code = f"{type(exc).__name__}: {exc}"[:300]
    captured = capsys.readouterr()
    return Answer(code, captured.out, captured.err)


def _capped_memory() -> None:  # in the child, before it starts the command
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 * MEMORY_CAP_BYTES // 2, resource.RLIM_INFINITY))


def run_installed(command: str, argv: list[str], cwd: Path, env: dict | None = None) -> Answer:
    """The installed ``command`` in a subprocess (its memory capped)."""
    r = subprocess.run([str(BIN / command), *argv], cwd=cwd, capture_output=True, text=True, timeout=300,
                       env={**os.environ, **(env or {})}, preexec_fn=_capped_memory if os.name == "posix" else None)
    return Answer(r.returncode, r.stdout, r.stderr)


def assert_one_line_exit_2(answer: Answer, command: str, says: str, not_says: str | None = None,
                           exact: bool = False) -> str:
    """The house rule's answer: exit 2, one stderr line ``PROG: error: ...`` with ``says``
    (``PROG: error: SAYS`` itself if ``exact``)."""
    assert "Traceback" not in answer.out + answer.err, answer.line()
    assert answer.code == 2, answer.line()
    lines = answer.err.splitlines()
    assert len(lines) == 1, answer.line()
    assert lines[0].startswith(f"{command}: error: "), answer.line()
    assert says in lines[0], answer.line()
    if exact:
        assert lines[0] == f"{command}: error: {says}", answer.line()
    if not_says is not None:
        assert not_says not in lines[0], answer.line()
    return lines[0]


SECRET = "not-a-real-token-8f3a"
"""The value of ``CASESIM_TEST_SECRET`` while a row runs: no answer may show it."""


@pytest.mark.parametrize("row", BAD_INPUT, ids=[row.id for row in BAD_INPUT])
def test_bad_input_one_line_exit_2_nothing_written(row, place, monkeypatch, capsys):
    for name, content in row.files.items():
        path = place["{in}"] / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    before = _files_under(place["root"])
    argv = _argv(row, place)
    monkeypatch.setenv("CASESIM_TEST_SECRET", SECRET)
    if row.end_to_end:
        answer = run_installed(row.command, argv, place["cwd"])
    else:
        answer = run_in_process(row.command, argv, place["cwd"], monkeypatch, capsys)
    assert_one_line_exit_2(answer, row.command, _placed(row.says, place), row.not_says, row.exact)
    assert SECRET not in answer.out + answer.err
    assert _files_under(place["root"]) == before, "files written: " + answer.line()
    assert not place["{out}"].exists()


# --------------------------------------------------------------------------- accepted, or refused cleanly


def _load_with_backlog(tmp_path: Path, content: bytes):
    from sim.config.load import load_config

    path = tmp_path / "backlog.csv"
    path.write_bytes(content)
    return load_config([f"demand.initial_backlog.csv={path}", "run.progress=false"]).demand.initial_backlog


@pytest.mark.parametrize("content", [
    "\ufeffage_days,stage,assigned_grade\n10,allocation,H\n40,research,\n".encode("utf-8"),  # Excel's "CSV UTF-8"
    b"age_days, stage, assigned_grade\n10, allocation, H\n40, research,\n",  # spaces after the commas
    b" age_days ,stage ,assigned_grade \n10,allocation,H\n40,research,\n",  # spaces around the names
    # Excel where the decimal mark is a comma
    "\ufeffage_days;stage;assigned_grade\r\n10,0;allocation;H\r\n40;research;\r\n".encode("utf-8"),
], ids=["byte order mark", "spaces after commas", "spaces around names", "semicolons and decimal commas"])
def test_backlog_csv_with_bom_or_spaces_is_read_as_written(tmp_path, content):
    cases = _load_with_backlog(tmp_path, content).cases
    assert [(c.age_days, c.stage, c.assigned_grade) for c in cases] == [(10.0, "allocation", "H"),
                                                                        (40.0, "research", None)]


def test_latin1_backlog_csv_is_read_as_windows_1252(tmp_path):
    """A backlog exported in latin-1 (a no-break space after a number) is read as meant."""
    content = "age_days,stage,assigned_grade\n10\u00a0,allocation,H\n12,research,\n".encode("latin-1")
    cases = _load_with_backlog(tmp_path, content).cases
    assert [(c.age_days, c.stage, c.assigned_grade) for c in cases] == [(10.0, "allocation", "H"),
                                                                        (12.0, "research", None)]


VALID_START = {"casesim": [], "casesim-compare": ["fast_warrants"], "casesim-search": [], "casesim-sweep": ["smoke"],
               "casesim-collect": ["{in}"], "casesim-replications": [], "casesim-calibrate": ["{in}/log.csv"],
               "casesim-backtest": ["{in}/log.csv", "--train-until", "2024-08-01"]}
"""Arguments each command would accept, so the flag added is the only error."""


@pytest.mark.parametrize("command", list(MODULE_OF))
def test_argparse_errors_say_the_error_first_in_one_line(command, place, monkeypatch, capsys):
    argv = [arg.replace("{in}", str(place["{in}"])) for arg in VALID_START[command]] + ["--no-such-flag"]
    if command == "casesim":  # Hydra's own parser: the installed command
        answer = run_installed(command, argv, place["cwd"])
    else:
        answer = run_in_process(command, argv, place["cwd"], monkeypatch, capsys)
    line = assert_one_line_exit_2(answer, command, "--no-such-flag")
    assert not line.startswith(f"{command}: error: usage") and "usage:" not in line.split(";")[0]


# --------------------------------------------------------------------------- random YAML


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.one_of(
    st.binary(max_size=200),
    st.text(alphabet=st.sampled_from(list("runstaffigvo:{}[],-.0123456789e \n\t'\"!&*#|>%@`$")), max_size=200),
    st.text(alphabet=st.sampled_from(list("0123456789e.-, []{}:nul")), max_size=40).map(
        lambda value: f"run:\n  replications: {value}\nstaffing: {{investigators: {value}}}\n"),
))
def test_random_bytes_as_a_user_config_give_a_config_or_a_config_error(tmp_path_factory, content):
    from sim.config.load import load_config
    from sim.config.schema import SimConfig
    from sim.errors import ConfigError

    folder = tmp_path_factory.mktemp("yaml", numbered=True)
    (folder / "mine.yaml").write_bytes(content if isinstance(content, bytes) else content.encode())
    try:
        cfg = load_config(config_name="mine", config_dir=folder)
    except ConfigError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(cfg, SimConfig)
