"""Bad input, command by command: every row of ``BAD_INPUT`` is one thing a user might type
(or one file a user might hand over) and a fragment of what the command must answer.

The house rule, asserted for every row: exit code 2, exactly one line on stderr,
``PROG: error: ...``, naming the key or the value at fault; no traceback; nothing written
(the working folder stays empty, no ``--out`` or ``hydra.run.dir`` folder appears, the
input files are left as they were); and all of it before any simulation starts.

Most rows call the command's ``main(argv)`` in this process, with the simulation's entry
points (and ``casesim``'s hand-over to Hydra) replaced by a tripwire, so a row that got past
the checks fails at once instead of simulating; a few rows of each command run the installed
command in a subprocess, end to end. Inputs accepted rather than refused (an Excel BOM,
spaces after the commas, latin-1) are tested for the acceptance instead, below the table, as
are damaged sweep folders, which ``casesim-collect`` reports and marks failed (exit 1).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BIN = Path(sys.executable).parent
MODULE_OF = {"casesim": "run", "casesim-compare": "compare", "casesim-search": "search", "casesim-sweep": "sweep",
             "casesim-collect": "collect", "casesim-replications": "replications"}

# A user's own config folder (README "Changing a scenario"): starts from the baseline.
USER_BASE = "defaults:\n  - config\n  - _self_\nscenario: mine\nrun: {replications: 1, horizon_days: 60.0, progress: false}\n"
BACKLOG_HEADER = "age_days,stage,assigned_grade\n"


@dataclass(frozen=True)
class Bad:
    """One bad input: ``command`` run with ``args`` (placeholders: ``{out}`` a folder that
    must not appear, ``{in}`` the folder holding ``files``, ``{file}`` an existing file,
    ``{locked}`` an existing folder nobody may write in) answers with one line containing
    ``says`` (and not ``not_says``: the wrong thing blamed)."""

    command: str
    args: str
    says: str
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    not_says: str | None = None
    end_to_end: bool = False
    name: str = ""

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
    bad("casesim", "hydra.run.dir={file}", "hydra.run.dir="),
    bad("casesim", "hydra.run.dir={file}/run", "hydra.run.dir="),
    bad("casesim", "hydra.run.dir={locked}", "hydra.run.dir="),
    bad("casesim", "hydra.run.dir={locked}/run", "hydra.run.dir="),
    bad("casesim", "-m run.seed=1,2 hydra.sweep.dir={file}", "hydra.sweep.dir="),
    # the wrong thing blamed
    bad("casesim", "--config-name nonexistent run.replications=1", "nonexistent", not_says="run.replications"),
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
    bad("casesim", "staffing.investigators=-2", "staffing.investigators=-2"),
    bad("casesim", "staffing.investigators=0", "staffing.investigators=0"),
    bad("casesim", "staffing.investigators=twenty", "staffing.investigators='twenty'"),
    bad("casesim", "staffing.investigators=2.5", "staffing.investigators=2.5"),
    bad("casesim", "staffing.investigators=[20,22]", "staffing.investigators="),
    bad("casesim", "staffing.detectives=4", "staffing.detectives"),
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
]

BACKLOG_CSV = [
    backlog_run("", "backlog.csv", name="backlog: header only (refused: an empty list means the default counts)"),
    backlog_run("10,allocation,H\n12,allocation,Q\n", "backlog.csv row 3 column assigned_grade"),
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
    backlog_run("10;allocation;H\n", ";", header="age_days;stage;assigned_grade\n", name="backlog: semicolons"),
    backlog_run(b"10,allocation,H\n12,r\xe9serv\xe9,H\n", "latin1.csv", file="latin1.csv",
                header=BACKLOG_HEADER.encode()),
    backlog_run(b"\x00\xff\xfe\x00garbage\n", "garbage.csv", file="garbage.csv", header=b""),
    backlog_run("", "empty.csv", file="empty.csv", header=""),
]

USER_CONFIGS = [
    user_config(USER_BASE + "staffing: {investigators: [1,\n", says="mine.yaml", name="user config: malformed YAML"),
    user_config(USER_BASE + "staffing: {investigators: -1}\n", says="staffing.investigators=-1",
                name="user config: a bad value", end_to_end=True),
    user_config(USER_BASE + "staffing: {detectives: 4}\n", says="staffing.detectives",
                name="user config: an unknown key"),
    user_config(USER_BASE + "staffing: {investigators: -1}\n", "-m run.seed=1,2", says="staffing.investigators=-1",
                name="user config: a bad value under -m", end_to_end=True),
    user_config(USER_BASE + "staffing: {investigators: -1}\n", "hydra.run.dir={out}", says="staffing.investigators=-1",
                name="user config: a bad value with hydra.run.dir"),
    user_config(USER_BASE + "- just\n- a list\n", says="mine.yaml", name="user config: a mapping, then a list"),
    user_config("- just\n- a list\n", says="mine", not_says="overrides=", name="user config: a list, not a mapping"),
    user_config("0\n", says="mine", not_says="overrides=", name="user config: a number, not a mapping"),
    user_config(b"scenario: r\xe9serv\xe9\n", says="mine", not_says="overrides=", name="user config: not UTF-8"),
    user_config(USER_BASE.replace("scenario: mine", "scenario: ${oc.env:HOME}"), says="environment",
                name="user config: ${oc.env:...} (its value would be copied into the manifest)"),
    bad("casesim", "--config-dir {in} --config-name nonexistent run.replications=1", "nonexistent",
        files={"mine.yaml": USER_BASE}, not_says="run.replications"),
    bad("casesim", "--config-dir {in}/no_such_folder --config-name mine", "no_such_folder"),
    bad("casesim", "'run.seed=${oc.env:CASESIM_SEED,1}'", "environment"),
    bad("casesim", "staffing.investigators=-2 hydra.run.dir={out}", "staffing.investigators=-2: ", end_to_end=True),
]

COMPARE = [
    bad("casesim-compare", "fast_warrants --out {file}", "--out="),
    bad("casesim-compare", "fast_warrants --out {file}/x", "--out="),
    bad("casesim-compare", "fast_warrants --out {locked}", "--out="),
    bad("casesim-compare", "fast_warrants --out {locked}/x", "--out="),
    bad("casesim-compare", "fast_warrants --out {out} staffing.investigators=-2", "staffing.investigators=-2",
        name="casesim-compare: an override after --out is read (and this one refused)"),
    bad("casesim-compare", "", "required"),
    bad("casesim-compare", "nonexistent_scenario", "nonexistent_scenario"),
    bad("casesim-compare", "fast_warrants nonexistent_scenario", "nonexistent_scenario"),
    bad("casesim-compare", "baseline", "baseline"),
    bad("casesim-compare", "fast_warrants fast_warrants", "fast_warrants"),
    bad("casesim-compare", "fast_warrants staffing.investigators=-2", "staffing.investigators=-2"),
    bad("casesim-compare", "fast_warrants staffing.detectives=4", "staffing.detectives"),
    bad("casesim-compare", "fast_warrants scenario=training", "scenario"),
    bad("casesim-compare", "fast_warrants run.replications=0", "run.replications=0"),
    bad("casesim-compare", "fast_warrants run.replications=1000000000", "run.replications="),
    bad("casesim-compare", "fast_warrants run.horizon_days=1e300", "run.horizon_days="),
    bad("casesim-compare", "regional_pooling", "regional_pooling", name="casesim-compare: pooling on one force"),
    bad("casesim-compare", "fast_warrants --bogus", "--bogus"),
    bad("casesim-compare", "fast_warrants --out", "--out"),
    bad("casesim-compare", "fast_warrants demand=huge_force", "huge_force"),
    bad("casesim-compare", "fast_warrants stages.intake.duplicate_probability=1.2 --out {out}",
        "stages.intake.duplicate_probability=1.2: ", end_to_end=True),
]

SEARCH = [
    bad("casesim-search", "--within-days -5", "--within-days="),
    bad("casesim-search", "--within-days nan", "--within-days="),
    bad("casesim-search", "--within-days inf", "--within-days="),
    bad("casesim-search", "--within-days 0", "--within-days="),
    bad("casesim-search", "--within-days abc", "--within-days"),
    bad("casesim-search", "--grid nonexistent.key=1,2 --cost nonexistent.key=1", "nonexistent.key", not_says="--cost"),
    bad("casesim-search", "--grid staffing.investigators=20,-5 --cost staffing.investigators=1", "-5",
        not_says="--cost"),
    bad("casesim-search", "--grid staffing.investigators=twenty", "staffing.investigators=twenty"),
    bad("casesim-search", "--grid staffing.investigators", "staffing.investigators"),
    bad("casesim-search", "--grid =1,2", "--grid"),
    bad("casesim-search", "--grid staffing.investigators=20,22", "staffing.investigators",
        name="casesim-search: a grid key without a cost"),
    bad("casesim-search", "--grid staffing.investigators=20,22 --cost staffing.investigators=abc", "--cost"),
    bad("casesim-search", "--grid staffing.investigators=20,22 --cost staffing.investigators=1 "
                          "--cost staffing.researchers=1", "staffing.researchers"),
    bad("casesim-search", "--out {file}", "--out="),
    bad("casesim-search", "--out {file}/x", "--out="),
    bad("casesim-search", "--out {locked}", "--out="),
    bad("casesim-search", "--out {locked}/x", "--out="),
    bad("casesim-search", "--risks X", "--risks='X'"),
    bad("casesim-search", "--risks", "--risks"),
    bad("casesim-search", "--confidence 1.5", "--confidence"),
    bad("casesim-search", "--confidence 0", "--confidence"),
    bad("casesim-search", "--confidence nan", "--confidence"),
    bad("casesim-search", "--max-share-late 0", "--max-share-late"),
    bad("casesim-search", "--max-share-late 2", "--max-share-late"),
    bad("casesim-search", "--max-investigators 0", "investigators"),
    bad("casesim-search", "--max-investigators -3", "investigators"),
    bad("casesim-search", "--max-investigators 1000000000", "--max-investigators="),
    bad("casesim-search", "--max-investigators abc", "--max-investigators"),
    bad("casesim-search", "staffing.investigators=-2", "staffing.investigators=-2"),
    bad("casesim-search", "staffing.detectives=4", "staffing.detectives"),
    bad("casesim-search", "run.replications=1000000000", "run.replications="),
    bad("casesim-search", "run.replications=1", "run.replications=1", name="casesim-search: one replication, no bound"),
    bad("casesim-search", "forces=three_forces", "forces"),
    bad("casesim-search", "--bogus", "--bogus"),
    bad("casesim-search", "--grid staffing.investigators=twenty --out {out}",
        "--grid='staffing.investigators=twenty': ", end_to_end=True),
]

SWEEP = [
    bad("casesim-sweep", "smoke --batch-seconds nan", "--batch-seconds="),
    bad("casesim-sweep", "smoke --batch-seconds inf", "--batch-seconds="),
    bad("casesim-sweep", "smoke --batch-seconds 0", "--batch-seconds=0.0: must be > 0"),
    bad("casesim-sweep", "smoke --batch-seconds -1", "--batch-seconds="),
    bad("casesim-sweep", "smoke --batch-seconds abc", "--batch-seconds"),
    bad("casesim-sweep", "../../x", "../../x"),
    bad("casesim-sweep", "{in}/mine", "mine", files={"mine.yaml": "hydra:\n  sweeper:\n    params:\n"
                                                                  "      run.seed: 1,2\n"},
        name="casesim-sweep: a path to a sweep file outside configs/sweep"),
    bad("casesim-sweep", "smoke --out {file}", "--out="),
    bad("casesim-sweep", "smoke --out {file}/x", "--out="),
    bad("casesim-sweep", "smoke --out {locked}", "--out="),
    bad("casesim-sweep", "smoke --out {locked}/x", "--out="),
    bad("casesim-sweep", "", "required"),
    bad("casesim-sweep", "nonexistent", "nonexistent"),
    bad("casesim-sweep", "smoke staffing.investigators=-2", "staffing.investigators=-2"),
    bad("casesim-sweep", "smoke staffing.detectives=4", "staffing.detectives"),
    bad("casesim-sweep", "smoke staffing.investigators=16,-2", "staffing.investigators=-2"),
    bad("casesim-sweep", "smoke run.replications=1000000000", "run.replications="),
    bad("casesim-sweep", "sensitivity demand.referrals_per_month=60", "demand.referrals_per_month"),
    bad("casesim-sweep", "smoke --workers 0", "--workers"),
    bad("casesim-sweep", "smoke --workers abc", "--workers"),
    bad("casesim-sweep", "smoke --local-cluster 0", "--local-cluster"),
    bad("casesim-sweep", "smoke --scheduler notaurl", "notaurl"),
    bad("casesim-sweep", "smoke --bogus", "--bogus"),
    bad("casesim-sweep", "smoke --scheduler tcp://127.0.0.1:1 --connect-timeout 1", "127.0.0.1:1", end_to_end=True),
    bad("casesim-sweep", "smoke --batch-seconds 0 --out {out}", "--batch-seconds=0.0: must be > 0", end_to_end=True),
]

COLLECT = [
    bad("casesim-collect", "", "required"),
    bad("casesim-collect", "{in}/no_such_folder", "no_such_folder"),
    bad("casesim-collect", "{file}", "a_file"),
    bad("casesim-collect", "{in}", "no sweep", files={"notes.txt": "not a sweep\n"},
        name="casesim-collect: a folder without a sweep"),
    bad("casesim-collect", "{in}/a {in}/b", "unrecognized arguments"),
    bad("casesim-collect", "{out}", "directory=", end_to_end=True),
]

REPLICATIONS = [
    bad("casesim-replications", "--out {file}", "--out="),
    bad("casesim-replications", "--out {file}/x", "--out="),
    bad("casesim-replications", "--out {locked}", "--out="),
    bad("casesim-replications", "--out {locked}/x", "--out="),
    bad("casesim-replications", "--max 2", "--max=2"),
    bad("casesim-replications", "--max -1", "--max=-1"),
    bad("casesim-replications", "--max abc", "--max"),
    bad("casesim-replications", "--max 1000000000", "--max="),
    bad("casesim-replications", "--precision 0", "--precision=0"),
    bad("casesim-replications", "--precision 1.5", "--precision=1.5"),
    bad("casesim-replications", "--precision nan", "--precision="),
    bad("casesim-replications", "staffing.investigators=-2", "staffing.investigators=-2"),
    bad("casesim-replications", "staffing.detectives=4", "staffing.detectives"),
    bad("casesim-replications", "scenario=nonexistent", "nonexistent"),
    bad("casesim-replications", "--bogus", "--bogus"),
    bad("casesim-replications", "--precision 1.5 --out {out}", "--precision=1.5: ", end_to_end=True),
]

BAD_INPUT = [*CASESIM, *BACKLOG_CSV, *USER_CONFIGS, *COMPARE, *SEARCH, *SWEEP, *COLLECT, *REPLICATIONS]


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
    existing file), the folder that must not appear, and an existing unwritable folder."""
    cwd, inputs = tmp_path / "cwd", tmp_path / "in"
    cwd.mkdir()
    inputs.mkdir()
    (inputs / "a_file").write_text("an existing file\n")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.access(locked, os.W_OK):  # root writes anywhere: a folder of the kernel's instead
        locked = Path("/sys/kernel")
        if not locked.is_dir():
            pytest.skip("no unwritable folder here")
    yield {"root": tmp_path, "cwd": cwd, "{in}": inputs, "{out}": tmp_path / "out", "{file}": inputs / "a_file",
           "{locked}": locked}
    (tmp_path / "locked").chmod(0o755)


def _argv(row: Bad, place: dict) -> list[str]:
    argv = shlex.split(row.args)
    for token in ("{in}", "{out}", "{file}", "{locked}"):
        argv = [arg.replace(token, str(place[token])) for arg in argv]
    return argv


def _files_under(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its content (None for a folder)."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))}


# Where the running layer starts simulating (looked up when a command runs, so replacing
# them here reaches every command); the model's own entry is the backstop.
TRIPWIRES = [("sim.running.runner", "run_replications"), ("sim.running.scenarios", "simulate"),
             ("sim.running.search", "simulate"), ("sim.running.replication_study", "run_replications"),
             ("sim.running.sweep", "run_chunks"), ("sim.running.sweep", "run_replication")]

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
        if hasattr(entry_module, name):
            monkeypatch.setattr(entry_module, name, _tripwire)
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


def assert_one_line_exit_2(answer: Answer, command: str, says: str, not_says: str | None = None) -> str:
    """The house rule's answer: exit 2, one stderr line ``PROG: error: ...`` with ``says``."""
    assert "Traceback" not in answer.out + answer.err, answer.line()
    assert answer.code == 2, answer.line()
    lines = answer.err.splitlines()
    assert len(lines) == 1, answer.line()
    assert lines[0].startswith(f"{command}: error: "), answer.line()
    assert says in lines[0], answer.line()
    if not_says is not None:
        assert not_says not in lines[0], answer.line()
    return lines[0]


@pytest.mark.parametrize("row", BAD_INPUT, ids=[row.id for row in BAD_INPUT])
def test_bad_input_one_line_exit_2_nothing_written(row, place, monkeypatch, capsys):
    for name, content in row.files.items():
        path = place["{in}"] / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    before = _files_under(place["root"])
    argv = _argv(row, place)
    if row.end_to_end:
        answer = run_installed(row.command, argv, place["cwd"])
    else:
        answer = run_in_process(row.command, argv, place["cwd"], monkeypatch, capsys)
    says = row.says
    for token in ("{in}", "{out}", "{file}", "{locked}"):
        says = says.replace(token, str(place[token]))
    assert_one_line_exit_2(answer, row.command, says, row.not_says)
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
], ids=["byte order mark", "spaces after commas", "spaces around names"])
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
               "casesim-collect": ["{in}"], "casesim-replications": []}
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


# --------------------------------------------------------------------------- damaged sweep folders


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory) -> Path:
    """A finished four-point sweep (the smoke grid, one replication of 60 days)."""
    from sim.cli.sweep import main as sweep_main

    folder = tmp_path_factory.mktemp("sweep") / "smoke"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        sweep_main(["smoke", "run.replications=1", "run.horizon_days=60", "--out", str(folder), "--no-progress"])
    return folder


def _points(folder: Path) -> list[Path]:
    return sorted((folder / "points").iterdir())


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _change_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _another_points_summary(path: Path) -> None:
    shutil.copy(_points(path.parents[2])[1] / "summary.parquet", path)


def _drop_point_key(path: Path) -> None:
    info = json.loads(path.read_text())
    del info["point"]
    path.write_text(json.dumps(info))


DAMAGE = {
    "truncated summary.parquet": ("summary.parquet", _truncate),
    "missing summary.parquet": ("summary.parquet", Path.unlink),
    "one byte of summary.parquet changed": ("summary.parquet", _change_one_byte),
    "another point's summary.parquet": ("summary.parquet", _another_points_summary),
    "junk point.json": ("point.json", lambda p: p.write_bytes(b"\x00\xffnot json {")),
    "empty point.json": ("point.json", lambda p: p.write_bytes(b"")),
    "point.json without point": ("point.json", _drop_point_key),
}


def _collect_copy(finished_sweep: Path, tmp_path: Path, monkeypatch, capsys, spoil) -> tuple[Path, Answer]:
    """``casesim-collect`` on a copy of the finished sweep spoilt by ``spoil(folder)``."""
    folder = tmp_path / "smoke"
    shutil.copytree(finished_sweep, folder)
    (folder / "sweep.parquet").unlink()
    spoil(folder)
    return folder, run_in_process("casesim-collect", [str(folder)], tmp_path, monkeypatch, capsys)


def _statuses(folder: Path) -> dict[str, str]:
    table = pd.read_parquet(folder / "sweep.parquet", columns=["point", "status"]).drop_duplicates("point")
    return dict(zip(table["point"], table["status"]))


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_collect_reports_a_damaged_point_by_name_and_marks_it_failed(damage, finished_sweep, tmp_path,
                                                                     monkeypatch, capsys):
    """README (Sweeps): a damaged point is named on stderr, one line, marked ``failed`` in
    sweep.parquet, and the command exits with code 1; no .sweep.parquet.tmp is left."""
    file_name, spoil = DAMAGE[damage]
    folder, answer = _collect_copy(finished_sweep, tmp_path, monkeypatch, capsys,
                                   lambda folder: spoil(_points(folder)[0] / file_name))
    damaged = _points(folder)[0].name
    assert "Traceback" not in answer.out + answer.err, answer.line()
    assert answer.code == 1, answer.line()
    naming = [line for line in answer.err.splitlines() if damaged in line]
    assert len(naming) == 1 and naming[0].startswith("casesim-collect: "), answer.line()
    statuses = _statuses(folder)
    assert statuses.pop(damaged) == "failed", answer.line()
    assert set(statuses.values()) == {"ok"} and len(statuses) == 3
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")], answer.line()


def test_collect_reports_a_garbage_design_json_and_collects_by_folder(finished_sweep, tmp_path, monkeypatch, capsys):
    folder, answer = _collect_copy(finished_sweep, tmp_path, monkeypatch, capsys,
                                   lambda folder: (folder / "design.json").write_bytes(b"\x00 garbage {["))
    assert "Traceback" not in answer.out + answer.err, answer.line()
    assert answer.code == 1, answer.line()
    lines = answer.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("casesim-collect: ") and "design.json" in lines[0], answer.line()
    assert sorted(_statuses(folder).items()) == [(point.name, "ok") for point in _points(folder)]
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")], answer.line()


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
